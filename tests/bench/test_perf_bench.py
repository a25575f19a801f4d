"""The performance benchmark's parts: corpus, percentiles, report, the worker's message analysis, and a
tiny end-to-end run. Nothing here times anything: the assertions are about shapes and equalities."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PERF = ROOT / "bench" / "perf"
sys.path.insert(0, str(PERF))

import closed_loop  # noqa: E402
import corpus  # noqa: E402
import report  # noqa: E402

from gateway.inspect.analyzer import DetectRequest  # noqa: E402
from gateway.inspect.detect import analyze_message  # noqa: E402
from gateway.inspect.findings import Finding  # noqa: E402


def test_corpus_is_deterministic_and_sized() -> None:
    first, again = corpus.generate(seed=3, per_class=2), corpus.generate(seed=3, per_class=2)
    assert json.dumps(first, ensure_ascii=False) == json.dumps(again, ensure_ascii=False)
    ids = [t["id"] for tickets in first.values() for t in tickets]
    assert len(ids) == len(set(ids))
    for label, tickets in first.items():
        assert [t["language"] for t in tickets] == ["en", "en", "es", "es"]
        for ticket in tickets:
            size = len(json.dumps(ticket, ensure_ascii=False).encode())
            assert 0.85 * corpus.SIZES[label] <= size <= 1.1 * corpus.SIZES[label], (label, size)
            assert "comments" in ticket and "@" in ticket["requester"]["email"]


def test_corpus_values_pass_their_checksums() -> None:
    import random

    rng = random.Random(1)
    for _ in range(50):
        digits = [int(c) for c in corpus._card(rng).replace(" ", "")]
        checksum = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(reversed(digits)))
        assert checksum % 10 == 0
        iban = corpus._iban_es(rng).replace(" ", "")
        assert int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1
        dni = corpus._dni(rng)
        assert dni[-1] == corpus._DNI_LETTERS[int(dni[:-1]) % 23]


@pytest.mark.parametrize(("values", "p", "expected"), [
    ([1.0, 2.0, 3.0, 4.0], 50, 2.0), ([1.0, 2.0, 3.0, 4.0], 99, 4.0), ([5.0], 95, 5.0), (list(range(1, 101)), 95, 95),
])
def test_percentile_is_nearest_rank(values: list[float], p: float, expected: float) -> None:
    assert closed_loop.percentile(values, p) == expected


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(closed_loop.percentile([], 50))


class FakeAnalyzer:
    """Records what it is asked; finds a PERSON over the whole text of every request."""

    def __init__(self) -> None:
        self.supported = {"en": frozenset({"PERSON"})}
        self.calls: list[list[str]] = []

    def analyze(self, requests: Sequence[DetectRequest]) -> list[list[Finding]]:
        self.calls.append([r.text for r in requests])
        return [[Finding("PERSON", 0, len(r.text), 0.9, "fake")] for r in requests]


class FakePrefetch:
    def __init__(self) -> None:
        self.filled: list[list[tuple[str, str]]] = []
        self.cleared = 0

    def fill(self, texts: Sequence[tuple[str, str]]) -> None:
        self.filled.append(list(texts))

    def clear(self) -> None:
        self.cleared += 1


def _req(text: str, entities: tuple[str, ...] = ("PERSON",)) -> DetectRequest:
    return DetectRequest(text, "en", entities, {"PERSON": 0.5})


def test_analyze_message_analyzes_each_distinct_request_once_and_keeps_order() -> None:
    analyzer, prefetch = FakeAnalyzer(), FakePrefetch()
    requests = [_req("Ana"), _req("Luis"), _req("Ana"), _req("  "), _req("Ana", ("EMAIL_ADDRESS",))]
    out = analyze_message(analyzer, prefetch, requests)  # type: ignore[arg-type]
    assert analyzer.calls == [["Ana", "Luis", "  ", "Ana"]]
    assert [f[0].end for f in out] == [3, 4, 3, 2, 3]
    assert out[0] == out[2] and out[0] is not out[2]  # equal findings, separate lists
    # Only texts the analyzer will send to spaCy are prefetched: not blank, an entity it supports.
    assert prefetch.filled == [[("Ana", "en"), ("Luis", "en")]] and prefetch.cleared == 1


def test_analyze_message_bounds_each_prefetch(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.inspect import detect

    monkeypatch.setattr(detect, "PREFETCH_CHARS", 10)
    analyzer, prefetch = FakeAnalyzer(), FakePrefetch()
    out = analyze_message(analyzer, prefetch, [_req("a" * 6), _req("b" * 6), _req("c" * 6)])  # type: ignore[arg-type]
    assert analyzer.calls == [["a" * 6, "b" * 6], ["c" * 6]]
    assert len(out) == 3 and prefetch.cleared == 2


def _results() -> dict[str, Any]:
    def m(p50: float, rps: float, cpu: float | None = None, **extra: Any) -> dict[str, Any]:
        return {"concurrency": 1, "rps": rps, "kb_per_s": rps * 2, "p50_ms": p50, "p95_ms": p50 * 2,
                "p99_ms": p50 * 3, "ok": 100, "errors": 0, "cpu_s_per_mb": cpu, **extra}

    health = {"p50_ms": 0.5, "p99_ms": 2.0, "max_ms": 4.0}
    return {
        "machine": {"cpu": "test", "cores": "2", "memory": "1 GiB", "kernel": "x"}, "commit": "abc",
        "command": "run.py", "date": "today", "loadavg_start": (0, 0, 0), "loadavg_end": (0, 0, 0),
        "wall_seconds": 1, "settings": {"concurrency": 1, "workers": [1, 2], "sizes": ["2KB"]},
        "corpus": {"2KB": {"tickets": 2, "mean_bytes": 2048}},
        "a": {"2KB": {"1": m(1.0, 1000)}}, "b0": {"2KB": {"1": m(1.2, 800)}}, "b": {"2KB": {"1": m(1.5, 500, 2.0)}},
        "c_latency": {"2KB": m(50, 20, 40.0)},
        "c": {"2KB": {"1": m(400, 10, 40.0, health=health), "2": m(400, 19, 40.0, health=health)}},
        "d": {"2KB": {"bodies_per_s": 3, "kb_per_s": 6, "cpu_s_per_mb": 100.0, "bodies": 9, "texts": 90,
                      "texts_per_s": 30, "cpu_s": 3, "wall_s": 3}, "_memory": {"rss_mb": 170, "peak_rss_mb": 171}},
        "memory": {"1": {"gateway": [{"rss_mb": 140, "peak_rss_mb": 141}],
                         "workers": [{"pid": 1, "rss_mb": 240, "peak_rss_mb": 241}]}},
        "soak": None,
        "disk": {"records": 300, "synchronous": "full", "append_ms": {"p50": 0.8, "p95": 2.0, "p99": 4.0}},
    }


def test_report_states_every_target() -> None:
    text = report.render(_results())
    for heading in ("### 2KB bodies", "### Ratios, scaling, health and memory", "### Targets"):
        assert heading in text
    assert "one durable audit append on the state directory's disk (synchronous=full, 300 appends" in text
    measured = {target: value for target, value, _ in report.verdicts(_results())}
    passing = measured["pass-through adds < 1 ms p50 and < 5 ms p99 (2 KB, 1 client)"]
    assert "(two audit appends alone: 1.60 ms p50" in passing
    assert "a bare aiohttp proxy adds +0.20 / +0.60 ms, Aduana +0.30 / +0.90 ms over it" in passing
    assert "(b0) bare aiohttp proxy (reference)" in text
    verdicts = {target: met for target, _, met in report.verdicts(_results())}
    assert verdicts["pass-through adds < 1 ms p50 and < 5 ms p99 (2 KB, 1 client)"] is True
    assert verdicts["(c) ≥ 2× (d) per core, 2KB"] is True  # 100 / 40 CPU s per MB
    assert verdicts["near-linear scaling 1→2 workers, 2KB"] is True  # 19 / 10 / 2 = 95%
    assert verdicts["health check < 10 ms while workers are saturated"] is True
    assert verdicts["worker memory flat over a 10-minute soak"] is None  # not run


@pytest.mark.e2e
@pytest.mark.timeout(900)
@pytest.mark.xdist_group("bench-perf")
def test_tiny_benchmark_run_reports_every_system(tmp_path: Path) -> None:
    out = tmp_path / "perf.json"
    cmd = [sys.executable, str(PERF / "run.py"), "--workers", "1", "--sizes", "0.5KB", "--duration", "0.5",
           "--min-requests", "2", "--per-class", "1", "--concurrency", "2", "--presidio-seconds", "0.2",
           "--json", str(out), "--quiet", "--state-dir", str(tmp_path / "state")]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=850)
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    for system in ("a", "b0", "b"):
        assert set(data[system]["0.5KB"]) == {"1", "2"}
        assert data[system]["0.5KB"]["2"]["ok"] > 0 and data[system]["0.5KB"]["2"]["errors"] == 0
    full = data["c"]["0.5KB"]["1"]
    assert full["ok"] > 0 and full["errors"] == 0 and full["health"]["probes"] > 0
    assert full["cpu_s"]["inspection-worker"] > 0
    assert len(data["memory"]["1"]["workers"]) == 1 and data["d"]["0.5KB"]["texts"] > 0
    assert "### Targets" in result.stdout
    assert data["disk"]["records"] == 300 and data["disk"]["append_ms"]["p50"] > 0


@pytest.mark.e2e
@pytest.mark.timeout(600)
@pytest.mark.xdist_group("bench-perf")
def test_pass_timing_reports_each_stage_of_a_pass_through_request() -> None:
    cmd = [sys.executable, str(PERF / "pass_timing.py"), "--size", "0.5KB", "--seconds", "0.5",
           "--sqlite-synchronous", "normal"]
    result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=550)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {line.split(" | ")[0].lstrip("| "): line for line in result.stdout.splitlines() if line.startswith("| ")}
    for stage in ("whole request (Pipeline.handle)", "upstream call",
                  "store hand-off _forwarding_record: on the thread", "store hand-off append: back to the loop"):
        assert stage in rows, result.stdout
    assert "synchronous=normal" in result.stdout
