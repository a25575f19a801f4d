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
