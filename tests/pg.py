"""A throwaway PostgreSQL cluster on loopback for the tests, and the fixtures that hand it out.

How it runs:
- ``pytest_configure`` (in ``tests/conftest.py``) calls :func:`configure`: unless ``ADUANA_TEST_PG_URL`` is
  already set (an external server, or the cluster of the xdist controller that spawned this worker), it
  finds ``initdb`` under ``/usr/lib/postgresql/*/bin`` (or ``$ADUANA_PG_BIN``), sets
  ``ADUANA_TEST_PG_URL`` and starts the cluster *in a background thread*, so runs that need no
  PostgreSQL pay nothing. xdist workers inherit the variable: one cluster serves every worker.
- initdb refuses root, so as root the cluster runs as the unprivileged user ``nobody`` (through
  ``subprocess``'s ``user=``), in a directory of its own under the system temp dir, with
  ``fsync=off``, listening only on 127.0.0.1 and a private socket directory, trust authentication.
- Tests marked ``postgres`` wait for it (:func:`wait_ready`); each test works in a schema of its own
  (:func:`schema_url`), dropped afterwards. ``pytest_unconfigure`` stops the cluster and deletes it.
- No server binary: the tests are skipped with a loud message in the header and the summary.
  A binary that fails to start fails them instead.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

URL_ENV = "ADUANA_TEST_PG_URL"
STATE_ENV = "ADUANA_TEST_PG_STATE"
BIN_ENV = "ADUANA_PG_BIN"
DATABASE = "aduana_test"
SUPERUSER = "aduana"
RUN_AS = "nobody"
READY_TIMEOUT = 90.0

NO_SERVER = (
    "PostgreSQL tests SKIPPED: no PostgreSQL server binary (initdb) under /usr/lib/postgresql/*/bin "
    f"or ${BIN_ENV}; install postgresql-15 (or set {URL_ENV}) to run them"
)


def find_bindir() -> Path | None:
    override = os.environ.get(BIN_ENV)
    if override:
        return Path(override) if (Path(override) / "initdb").exists() else None
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """One PostgreSQL cluster in ``root`` (data, socket directory, server log)."""

    bindir: Path
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def _run_kwargs(self) -> dict[str, object]:
        if os.geteuid() != 0:
            return {}
        entry = pwd.getpwnam(RUN_AS)
        return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def start(self) -> None:
        kwargs = self._run_kwargs()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "sock").mkdir(exist_ok=True)
        if kwargs:
            for path in (self.root, self.root / "sock"):
                os.chown(path, int(kwargs["user"]), int(kwargs["group"]))  # type: ignore[call-overload]
        log = self.root / "server.log"
        subprocess.run(
            [str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
             "--no-sync", "--no-instructions"],
            check=True, capture_output=True, cwd=self.root, timeout=120, **kwargs,  # type: ignore[arg-type]
        )
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-c", "listen_addresses=127.0.0.1", "-k", str(self.root / "sock"), "-c", "fsync=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "logging_collector=off"],
                stdout=out, stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True,
                **kwargs,  # type: ignore[arg-type]
            )
        import psycopg

        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited: {log.read_text(errors='replace')[-2000:]}")
            try:
                with psycopg.connect(f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres",
                                     autocommit=True, connect_timeout=2) as conn:
                    conn.execute(f"CREATE DATABASE {DATABASE}")
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)


_WATCHDOG = """
import os, shutil, signal, sys, time
owner, root = int(sys.argv[1]), sys.argv[2]
def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
while alive(owner) and os.path.isdir(root):
    time.sleep(1)
def initdb_running():
    for p in os.listdir("/proc"):
        try:
            argv = open(f"/proc/{p}/cmdline", "rb").read().split(b"\\0")
        except OSError:
            continue
        if argv[0].endswith(b"/initdb") and any(root.encode() in a for a in argv):
            return True
    return False
for _ in range(300):  # an initdb still running finishes first: then stop what it left
    try:
        server = int(open(os.path.join(root, "cluster", "data", "postmaster.pid")).readline())
    except (OSError, ValueError):
        server = None
    if server is not None and alive(server):
        os.kill(server, signal.SIGQUIT)
    elif not initdb_running():
        break
    time.sleep(0.2)
shutil.rmtree(root, ignore_errors=True)
"""


def _watchdog(root: Path) -> subprocess.Popen[bytes]:
    """Stop the server and delete ``root`` if this pytest process dies without cleaning up (kill -9,
    a timeout): a test run never leaves a PostgreSQL server or its files behind."""
    return subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(root)],
                            start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


#: Text that marks a test file as needing the server (see :func:`needs_postgres`).
_USES = ("pg_url", "pg_base_url", "mark.postgres", URL_ENV, "from backends import")


def needs_postgres(config: pytest.Config) -> bool:
    """Whether the files this run collects use PostgreSQL, so ``pytest tests/unit`` starts no server."""
    paths = [a.split("::", 1)[0] for a in config.args if not a.startswith("-")] or ["."]
    for arg in paths:
        path = (Path(config.invocation_params.dir) / arg).resolve()
        files = [path] if path.is_file() else sorted(path.rglob("*.py")) if path.is_dir() else []
        files += [parent / "conftest.py" for parent in path.parents if (parent / "conftest.py").is_file()]
        for file in files:
            if file.name in ("pg.py", "backends.py") or file == Path(__file__).with_name("conftest.py"):
                continue
            text = file.read_text(encoding="utf-8", errors="replace")
            if any(word in text for word in _USES):
                return True
    return False


class _Starter:
    """Starts the cluster in a thread and records the outcome in a state file (read by xdist workers)."""

    def __init__(self, cluster: Cluster, state: Path) -> None:
        self.cluster = cluster
        self.state = state
        self.watchdog = _watchdog(state.parent)
        self.thread = threading.Thread(target=self._run, name="aduana-test-postgres", daemon=True)

    def _run(self) -> None:
        try:
            self.cluster.start()
            self._write({"status": "ready", "url": self.cluster.url, "data_dir": str(self.cluster.data),
                         "bindir": str(self.cluster.bindir)})
        except Exception as exc:
            failed_run = isinstance(exc, subprocess.CalledProcessError)
            detail = exc.stderr.decode(errors="replace")[-1500:] if failed_run else ""
            self._write({"status": "failed", "reason": f"{type(exc).__name__}: {exc} {detail}"})

    def _write(self, data: dict[str, str]) -> None:
        tmp = self.state.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(self.state)


_starter: _Starter | None = None
_skip_reason: str | None = None


def configure(config: pytest.Config) -> None:
    """Arrange for a PostgreSQL server (see the module docstring)."""
    global _starter, _skip_reason
    if os.environ.get(URL_ENV):
        return  # an external server, or the xdist controller's cluster
    if hasattr(config, "workerinput"):  # an xdist worker whose controller found no server
        _skip_reason = NO_SERVER
        return
    if not needs_postgres(config):
        return
    bindir = find_bindir()
    if bindir is None:
        _skip_reason = NO_SERVER
        return
    root = Path(tempfile.mkdtemp(prefix="aduana-pg-"))
    root.chmod(0o711)  # the unprivileged server user must reach its directory inside
    state = root / "state.json"
    cluster = Cluster(bindir=bindir, root=root / "cluster", port=_free_port())
    os.environ[URL_ENV] = cluster.url
    os.environ[STATE_ENV] = str(state)
    _starter = _Starter(cluster, state)
    _starter.thread.start()


def unconfigure() -> None:
    global _starter
    if _starter is None:
        return
    _starter.thread.join(timeout=READY_TIMEOUT)
    _starter.cluster.stop()
    shutil.rmtree(_starter.state.parent, ignore_errors=True)
    try:  # it sees the directory gone and exits within a second
        _starter.watchdog.wait(timeout=10)
    except subprocess.TimeoutExpired:
        _starter.watchdog.kill()
        _starter.watchdog.wait()
    os.environ.pop(URL_ENV, None)
    os.environ.pop(STATE_ENV, None)
    _starter = None


def header() -> str | None:
    return f"!!! {_skip_reason} !!!" if _skip_reason else None


def state() -> dict[str, str]:
    """Wait until the server is ready; return its state (``url``; ``data_dir``/``bindir`` when local)."""
    url = os.environ.get(URL_ENV)
    if not url:
        pytest.skip(_skip_reason or NO_SERVER)
    path = os.environ.get(STATE_ENV)
    if not path:
        return {"status": "ready", "url": url}  # an external server: assume it is up
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        try:
            data: dict[str, str] = json.loads(Path(path).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            time.sleep(0.1)
            continue
        if data["status"] == "failed":
            pytest.fail(f"the test PostgreSQL cluster did not start: {data['reason']}")
        return data
    pytest.fail(f"the test PostgreSQL cluster was not ready after {READY_TIMEOUT:.0f}s")


def wait_ready() -> str:
    return state()["url"]


def with_search_path(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}', safe='')}"


@contextmanager
def schema_url(base_url: str, prefix: str = "t") -> Iterator[str]:
    """A fresh schema in the test database for one test; the URL makes it the search path."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(base_url, schema)
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def schema_of(url: str) -> str:
    marker = "search_path%3D"
    return url.split(marker, 1)[1].split("&", 1)[0] if marker in url else "public"


def pg_dump(url: str) -> bytes:
    """A plain-text ``pg_dump`` of the schema ``url`` works in (data included)."""
    bindir = state().get("bindir")
    exe = str(Path(bindir) / "pg_dump") if bindir else shutil.which("pg_dump")
    if exe is None:
        pytest.skip("pg_dump is not installed")
    base = url.split("?", 1)[0]
    done = subprocess.run([exe, "--no-owner", "--schema", schema_of(url), "--dbname", base],
                          check=True, capture_output=True, timeout=120)
    return done.stdout


# --- fixtures (imported by tests/conftest.py) ------------------------------------------------------


@pytest.fixture(scope="session")
def pg_base_url() -> str:
    """The test server's database URL (skips loudly when there is no server binary)."""
    return wait_ready()


@pytest.fixture
def pg_url(pg_base_url: str) -> Iterator[str]:
    """A PostgreSQL store URL of a schema of this test's own."""
    with schema_url(pg_base_url) as url:
        yield url
