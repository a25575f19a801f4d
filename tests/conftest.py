"""Shared test set-up: make ``examples/`` and the test helpers importable; isolate the environment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
for extra in (TESTS, ROOT / "examples"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

# Tests must never reach the network for tldextract's suffix list (gateway sets this too).
os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""


# --- PostgreSQL: one throwaway cluster per run, started in the background (see tests/pg.py) ----------

import pg  # noqa: E402
from pg import pg_base_url, pg_url  # noqa: E402, F401  (fixtures for every test folder)


def pytest_configure(config: object) -> None:
    pg.configure(config)  # type: ignore[arg-type]


def pytest_unconfigure(config: object) -> None:
    pg.unconfigure()


def pytest_report_header(config: object) -> str | None:
    return pg.header()


def pytest_terminal_summary(terminalreporter: object, exitstatus: int, config: object) -> None:
    message = pg.header()
    if message:
        terminalreporter.write_sep("!", message, red=True, bold=True)  # type: ignore[attr-defined]


def pytest_runtest_setup(item: object) -> None:
    # Tests marked `postgres` that do not use the fixtures (e.g. tests/audit) still wait for the server.
    if item.get_closest_marker("postgres") is not None:  # type: ignore[attr-defined]
        pg.wait_ready()
