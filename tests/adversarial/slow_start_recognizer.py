"""A plugin that makes the first inspection worker to load it take seconds longer than the others.

The worker that creates the file named by ``ADUANA_TEST_SLOW_START`` first sleeps; the gateway's own
process (which also loads plugins) never does.
"""

from __future__ import annotations

import multiprocessing
import os
import time

from presidio_analyzer import EntityRecognizer

from gateway.hookspecs import hookimpl

#: How much longer the slow worker takes to load.
EXTRA_SECONDS = 4.0


@hookimpl
def aduana_register_recognizers() -> list[EntityRecognizer]:
    marker = os.environ.get("ADUANA_TEST_SLOW_START")
    if marker and multiprocessing.current_process().name != "MainProcess":
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return []
        time.sleep(EXTRA_SECONDS)
    return []
