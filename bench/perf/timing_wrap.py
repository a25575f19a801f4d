"""Runs the ``aduana`` CLI with the request pipeline timed stage by stage (for ``pass_timing.py``).

Wraps three methods of :class:`gateway.proxy.pipeline.Pipeline` and the upstream call, records the
wall-clock time of each stage per request, and at exit writes the median and mean of each stage (µs) as
JSON to ``$ADUANA_TIMING_OUT``. Measurement only: nothing here changes what the gateway does.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import gateway.proxy.pipeline as pipeline

_stages: dict[str, list[float]] = defaultdict(list)


def _on_store(original: Callable[..., Any]) -> Callable[..., Any]:
    async def timed(self: Any, fn: Callable[..., Any], *args: Any) -> Any:
        marks: dict[str, float] = {}

        def run(*a: Any) -> Any:
            marks["start"] = time.perf_counter()
            try:
                return fn(*a)
            finally:
                marks["end"] = time.perf_counter()

        submitted = time.perf_counter()
        result = await asyncio.get_running_loop().run_in_executor(self._store, run, *args)
        back = time.perf_counter()
        name = getattr(fn, "__name__", "store")
        _stages[f"store hand-off {name}: to a thread"].append(marks["start"] - submitted)
        _stages[f"store hand-off {name}: on the thread"].append(marks["end"] - marks["start"])
        _stages[f"store hand-off {name}: back to the loop"].append(back - marks["end"])
        return result

    return timed


def _timed(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    async def timed(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await original(*args, **kwargs)
        finally:
            _stages[name].append(time.perf_counter() - started)

    return timed


def _write() -> None:
    path = os.environ.get("ADUANA_TIMING_OUT")
    if not path:
        return
    figures = {name: {"n": len(v), "p50_us": statistics.median(v) * 1e6, "mean_us": statistics.fmean(v) * 1e6}
               for name, v in _stages.items() if v}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(figures, f, indent=1)


def _reset_on_warm_up_end() -> None:
    """The measured pass starts when ``pass_timing.py`` removes the output file: drop earlier samples."""
    path = os.environ.get("ADUANA_TIMING_OUT")
    if path and not os.path.exists(path):
        _stages.clear()
        open(path, "w").close()  # a marker: samples from here on are the measured pass


pipeline.Pipeline._on_store = _on_store(pipeline.Pipeline._on_store)  # type: ignore[method-assign]
pipeline.forward = _timed("upstream call", pipeline.forward)
_handle = _timed("whole request (Pipeline.handle)", pipeline.Pipeline.handle)


async def _handle_and_mark(self: Any, request: Any) -> Any:
    _reset_on_warm_up_end()
    return await _handle(self, request)


pipeline.Pipeline.handle = _handle_and_mark  # type: ignore[method-assign]
atexit.register(_write)

if __name__ == "__main__":
    from gateway.cli import main

    main(args=sys.argv[1:], prog_name="aduana")
