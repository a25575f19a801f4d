"""CPU time and memory of a process tree, read from ``/proc`` (Linux; psutil is not a dependency).

The benchmark measures the gateway and its inspection workers from outside, as an operator would: CPU
seconds from ``/proc/<pid>/stat`` (user + system), resident memory and its peak (``VmRSS``, ``VmHWM``)
from ``/proc/<pid>/status``, and the machine's load from ``/proc/loadavg``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


@dataclass(frozen=True)
class ProcSample:
    """One process at one moment."""

    pid: int
    role: str
    cpu_seconds: float
    rss_mb: float
    peak_rss_mb: float


def _stat_fields(pid: int) -> list[str]:
    raw = (PROC / str(pid) / "stat").read_text()
    # The command name (field 2) is in parentheses and may hold spaces: split after its closing one.
    return raw[raw.rindex(")") + 2:].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds ``pid`` has used so far."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime (fields 14 and 15 of stat)


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) memory of ``pid`` in MiB."""
    values = {}
    for line in (PROC / str(pid) / "status").read_text().splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def children(pid: int) -> list[int]:
    """Direct children of ``pid``."""
    found = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry.name))[1]) == pid:
                found.append(int(entry.name))
        except (OSError, ValueError, IndexError):
            continue  # the process ended while we looked
    return sorted(found)


def _role(pid: int, root: int) -> str:
    if pid == root:
        return "gateway"
    try:
        cmdline = (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "resource_tracker" in cmdline:
        return "resource-tracker"
    if "spawn_main" in cmdline:
        return "inspection-worker"
    return "child"


def tree(root: int) -> list[ProcSample]:
    """``root`` and every descendant, each with its role (gateway, inspection-worker, ...)."""
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children(pid))
    samples = []
    for pid in pids:
        try:
            rss, peak = memory_mb(pid)
            samples.append(ProcSample(pid, _role(pid, root), cpu_seconds(pid), rss, peak))
        except OSError:
            continue
    return samples


def cpu_by_role(before: list[ProcSample], after: list[ProcSample]) -> dict[str, float]:
    """CPU seconds used between two :func:`tree` snapshots, summed per role (processes in both)."""
    start = {s.pid: s.cpu_seconds for s in before}
    out: dict[str, float] = {}
    for s in after:
        out[s.role] = out.get(s.role, 0.0) + s.cpu_seconds - start.get(s.pid, s.cpu_seconds)
    return out


def loadavg() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    one, five, fifteen = (PROC / "loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def machine() -> dict[str, str]:
    """CPU model, core count, memory and kernel, for the report's header."""
    model = "unknown"
    for line in (PROC / "cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in (PROC / "meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {"cpu": model, "cores": str(os.cpu_count()), "memory": f"{mem_kb / 1024 / 1024:.1f} GiB",
            "kernel": os.uname().release}
