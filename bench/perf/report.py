"""Render the performance benchmark's results (the dict ``run.py`` builds) as Markdown tables and a verdict.

Kept apart from the runner so a saved ``--json`` file can be rendered again:
``python bench/perf/report.py perf.json``.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

#: The issue's targets, checked at the end of the report.
PASS_P50_MS, PASS_P99_MS, HEALTH_MS, C_OVER_D, SCALING = 1.0, 5.0, 10.0, 2.0, 0.8


def _f(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:,.{digits}f}"


def _mbs(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _per_size(results: dict[str, Any], label: str) -> list[str]:
    a, b = results["a"].get(label, {}), results["b"].get(label, {})
    b0 = results.get("b0", {}).get(label, {})
    conc = str(results["settings"]["concurrency"])
    lines = [f"### {label} bodies (mean {results['corpus'][label]['mean_bytes']:.0f} bytes, "
             f"{results['corpus'][label]['tickets']} tickets, English and Spanish)", "",
             _row(["system", "workers", "clients", "req/s", "KB/s", "p50 ms", "p95 ms", "p99 ms",
                   "added p50 / p99 ms vs (a)", "CPU s/MB", "requests", "errors"]),
             _row(["---"] * 12)]

    def line(name: str, workers: str, m: dict[str, Any], base: dict[str, Any] | None) -> str:
        added = "–" if base is None else f"{m['p50_ms'] - base['p50_ms']:+.2f} / {m['p99_ms'] - base['p99_ms']:+.2f}"
        return _row([name, workers, str(m["concurrency"]), _f(m["rps"]), _f(m["kb_per_s"]), _f(m["p50_ms"], 2),
                     _f(m["p95_ms"], 2), _f(m["p99_ms"], 2), added, _f(m.get("cpu_s_per_mb")), str(m["ok"]),
                     str(m["errors"])])

    for c in ("1", conc):
        if c in a:
            lines.append(line("(a) upstream direct", "–", a[c], None))
        if c in b0:
            lines.append(line("(b0) bare aiohttp proxy (reference)", "–", b0[c], a.get(c)))
        if c in b:
            lines.append(line("(b) Aduana, pass-through", "–", b[c], a.get(c)))
    if label in results["c_latency"]:
        lines.append(line("(c) Aduana, gdpr+hipaa+pci-dss", str(results["settings"]["workers"][0]),
                          results["c_latency"][label], a.get("1")))
    for workers, m in results["c"].get(label, {}).items():
        lines.append(line("(c) Aduana, gdpr+hipaa+pci-dss", workers, m, a.get(conc)))
    d = results.get("d", {}).get(label)
    if d:
        lines.append(_row(["(d) plain Presidio, in-process", "1 process", "–", _f(d["bodies_per_s"], 2),
                           _f(d["kb_per_s"]), "–", "–", "–", "–", _f(d["cpu_s_per_mb"]), str(d["bodies"]), "0"]))
        lines.append(f"\n(d) analyzed {d['texts']} texts ({_f(d['texts_per_s'])} texts/s) in "
                     f"{_f(d['cpu_s'])} CPU s over {_f(d['wall_s'])} s wall.")
    return lines


def c_over_d(results: dict[str, Any], label: str, workers: str) -> tuple[float, float]:
    """(per core by wall clock, per CPU second) throughput ratio of (c) over (d) for one size."""
    c, d = results["c"].get(label, {}).get(workers), results.get("d", {}).get(label)
    if not c or not d:
        return math.nan, math.nan
    per_core = (c["kb_per_s"] / int(workers)) / d["kb_per_s"]
    per_cpu = d["cpu_s_per_mb"] / c["cpu_s_per_mb"] if c.get("cpu_s_per_mb") else math.nan
    return per_core, per_cpu


def _summary(results: dict[str, Any]) -> list[str]:
    conc = str(results["settings"]["concurrency"])
    workers = [str(w) for w in results["settings"]["workers"]]
    lines = ["### Ratios, scaling, health and memory", "",
             _row(["size", "b/a req/s", *[f"c/d per core, {w} worker(s) (wall / CPU)" for w in workers],
                   *[f"scaling 1→{w} workers" for w in workers[1:]],
                   *[f"health p50 / p99 / max ms, {w} worker(s) saturated" for w in workers]]),
             _row(["---"] * (2 + 2 * len(workers) + len(workers[1:])))]
    for label in results["settings"]["sizes"]:
        a, b = results["a"].get(label, {}).get(conc), results["b"].get(label, {}).get(conc)
        cells = [label, _f(b["rps"] / a["rps"], 2) if a and b else "–"]
        for w in workers:
            wall, cpu = c_over_d(results, label, w)
            cells.append(f"{_f(wall, 2)} / {_f(cpu, 2)}")
        runs = results["c"].get(label, {})
        for w in workers[1:]:
            if workers[0] in runs and w in runs:
                gain = runs[w]["rps"] / runs[workers[0]]["rps"]
                cells.append(f"{gain:.2f}× ({gain / (int(w) / int(workers[0])):.0%} of linear)")
            else:
                cells.append("–")
        for w in workers:
            h, ref = runs.get(w, {}).get("health"), runs.get(w, {}).get("health_reference")
            cell = f"{_f(h['p50_ms'], 2)} / {_f(h['p99_ms'], 2)} / {_f(h['max_ms'], 1)}" if h else "–"
            # The same probe on the idle upstream: the machine's share of the p99.
            cells.append(cell + (f" (idle server p99 {_f(ref['p99_ms'], 2)})" if h and ref else ""))
        lines.append(_row(cells))
    lines += ["", _row(["inspection workers", "gateway RSS MB (peak)", "RSS per worker MB (peak)"]),
              _row(["---"] * 3)]
    for w, mem in results["memory"].items():
        gw = ", ".join(f"{g['rss_mb']:.0f} ({g['peak_rss_mb']:.0f})" for g in mem["gateway"])
        ws = ", ".join(f"{x['rss_mb']:.0f} ({x['peak_rss_mb']:.0f})" for x in mem["workers"])
        lines.append(_row([w, gw, ws]))
    d_mem = results.get("d", {}).get("_memory")
    if d_mem:
        lines.append(f"\n(d) one process: RSS {d_mem['rss_mb']:.0f} MB (peak {d_mem['peak_rss_mb']:.0f}).")
    soak = results.get("soak")
    if soak:
        first, last = soak["samples"][0], soak["samples"][-1]
        peak = max(max(s["workers_mb"] or [0]) for s in soak["samples"])
        lines.append(f"\nSoak: (c) {soak['size']} with {soak['workers']} workers for {soak['load']['seconds']:.0f} s, "
                     f"{soak['load']['ok']} requests ({soak['load']['errors']} errors); worker RSS MB first "
                     f"{_mbs(first['workers_mb'])} → last {_mbs(last['workers_mb'])} (max {peak:.0f}); gateway "
                     f"{first['gateway_mb']:.0f} → {last['gateway_mb']:.0f} MB.")
    return lines


def verdicts(results: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """(target, measured, met) for each of the issue's targets that this run measured."""
    out: list[tuple[str, str, bool | None]] = []
    a, b = results["a"].get("2KB", {}).get("1"), results["b"].get("2KB", {}).get("1")
    if a and b:
        p50, p99 = b["p50_ms"] - a["p50_ms"], b["p99_ms"] - a["p99_ms"]
        disk = results.get("disk")
        floor = f" (two audit appends alone: {2 * disk['append_ms']['p50']:.2f} ms p50)" if disk else ""
        b0 = results.get("b0", {}).get("2KB", {}).get("1")
        if b0:
            floor += (f"; a bare aiohttp proxy adds {b0['p50_ms'] - a['p50_ms']:+.2f} / "
                      f"{b0['p99_ms'] - a['p99_ms']:+.2f} ms, Aduana "
                      f"{b['p50_ms'] - b0['p50_ms']:+.2f} / {b['p99_ms'] - b0['p99_ms']:+.2f} ms over it")
        out.append((f"pass-through adds < {PASS_P50_MS:g} ms p50 and < {PASS_P99_MS:g} ms p99 (2 KB, 1 client)",
                    f"{p50:+.2f} ms / {p99:+.2f} ms{floor}", p50 < PASS_P50_MS and p99 < PASS_P99_MS))
    workers = [str(w) for w in results["settings"]["workers"]]
    for label in results["settings"]["sizes"]:
        wall, cpu = c_over_d(results, label, workers[0])
        if not math.isnan(cpu):
            out.append((f"(c) ≥ {C_OVER_D:g}× (d) per core, {label}", f"{wall:.2f}× wall, {cpu:.2f}× per CPU s",
                        cpu >= C_OVER_D))
    if len(workers) > 1:
        for label in results["settings"]["sizes"]:
            runs = results["c"].get(label, {})
            if workers[0] in runs and workers[-1] in runs:
                eff = (runs[workers[-1]]["rps"] / runs[workers[0]]["rps"]) / (int(workers[-1]) / int(workers[0]))
                out.append((f"near-linear scaling {workers[0]}→{workers[-1]} workers, {label}",
                            f"{eff:.0%} of linear", eff >= SCALING))
    worst = max((m["health"]["p99_ms"] for runs in results["c"].values() for m in runs.values() if "health" in m),
                default=math.nan)
    if not math.isnan(worst):
        out.append((f"health check < {HEALTH_MS:g} ms while workers are saturated", f"worst p99 {worst:.2f} ms",
                    worst < HEALTH_MS))
    soak = results.get("soak")
    if soak and len(soak["samples"]) >= 3:
        third = max(1, len(soak["samples"]) // 3)
        early = [max(s["workers_mb"] or [0]) for s in soak["samples"][:third]]
        late = [max(s["workers_mb"] or [0]) for s in soak["samples"][-third:]]
        growth = sum(late) / len(late) - sum(early) / len(early)
        out.append(("worker memory flat over the soak (< 5% growth)", f"{growth:+.1f} MB (last third vs first)",
                    growth < 0.05 * (sum(early) / len(early))))
    else:
        out.append(("worker memory flat over a 10-minute soak", "not run (--soak-seconds)", None))
    return out


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = ["## Aduana performance benchmark", "",
             f"- machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, Linux {m['kernel']}",
             f"- commit: {results['commit']}; command: `{results['command']}`; {results['date']}",
             f"- load average (1/5/15 min) at start {results['loadavg_start']}, at end {results['loadavg_end']}; "
             f"run took {results['wall_seconds']} s",
             "- latency percentiles are per request (closed loop); CPU s/MB counts the gateway process and its "
             "inspection workers per MB of upstream body; c/d per core: (c) KB/s ÷ workers vs (d) KB/s (wall), "
             "and (d) CPU s/MB ÷ (c) CPU s/MB (per CPU second, robust to a busy machine)",
             "- (c) with several clients runs twice per worker count: throughput, CPU and scaling come from the "
             "pass without the health probe, the health figures from the same load with the probe polling "
             "(the probe's 100 requests/s cost the gateway CPU of its own)"]
    disk = results.get("disk")
    if disk:
        q = disk["append_ms"]
        lines.append(f"- one durable audit append on the state directory's disk (synchronous={disk['synchronous']}, "
                     f"{disk['records']} appends, measured before the run): p50 {q['p50']:.2f} / p95 {q['p95']:.2f} / "
                     f"p99 {q['p99']:.2f} ms; a pass-through request makes two in sequence")
    lines.append("")
    for label in results["settings"]["sizes"]:
        lines += [*_per_size(results, label), ""]
    lines += [*_summary(results), "", "### Targets", "", _row(["target", "measured", "met"]), _row(["---"] * 3)]
    for target, measured, met in verdicts(results):
        lines.append(_row([target, measured, "n/a" if met is None else ("yes" if met else "**no**")]))
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
