"""The gateway process's own CPU on the inspection path, without workers: ``Inspector.protect_body`` in-process.

System (c)'s policy (``gdpr`` + ``hipaa`` + ``pci-dss``), a real SQLite vault and key ring, the perf corpus
as the helpdesk serves it, and a stub detector that answers with findings recorded once from the real
analyzer (``detect.analyze_message``, as a worker runs it). What is left is exactly what the gateway
process does for an inspected body: parse, field rules, normalize, language, planning, pickling the call
and its result (as ``ProcessPoolExecutor`` does; ``--no-pickle`` to leave it out), mapping findings, the
vault, actions, serializing, and the store-thread hand-offs. CPU is the whole process's
(``time.process_time``: every thread), so it is comparable between two versions of the code:

    .venv/bin/python bench/perf/gateway_inspect.py --state /tmp/gwi-state                # this tree
    PYTHONPATH=/tmp/base-src .venv/bin/python bench/perf/gateway_inspect.py --state /tmp/gwi-state

(``git archive 549ad3d | tar -x -C /tmp/base-src`` for the second.) The same ``--state`` folder gives both
the same keys, so ``digest`` (a hash of every output body and outcome) must be equal when a change is
meant to alter nothing. ``--profile`` prints a cProfile of the measured passes (all threads).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import hashlib
import io
import json
import pickle
import pstats
import statistics
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from corpus import SIZES, generate  # noqa: E402
from stack import PASS_PACK, Stack  # noqa: E402

CONTRACT, ROUTE = "bench-full", "inspected"


def prepare(state: Path) -> Path:
    """A config, master key and migrated store in ``state`` (kept: same keys on every run)."""
    state.mkdir(parents=True, exist_ok=True)
    corpus_path = state / "corpus.json"
    stack = Stack(state, corpus_path)
    if not (state / "master.key").exists():
        (state / "packs").mkdir(exist_ok=True)
        (state / "packs" / "bench-pass.yaml").write_text(PASS_PACK, encoding="utf-8")
        stack.write_config(1)
        stack.aduana("keys", "init")
        stack.aduana("store", "migrate")
    return stack.config_path


class RecordedDetector:
    """Stands in for :class:`gateway.inspect.detect.Detector`: recorded findings, optionally pickled.

    With pickling, it does the gateway process's share of a worker call: pickle the requests, unpickle
    the findings (pickled once, as the worker would, outside what the gateway pays).
    """

    def __init__(self, recorded: dict[Any, Any], pickle_calls: bool) -> None:
        self.recorded = recorded
        self.pickle_calls = pickle_calls
        self._pickled: dict[tuple[Any, ...], bytes] = {}

    async def detect(self, requests: Sequence[Any]) -> list[Any]:
        from gateway.inspect.detect import _key

        if not requests:
            return []
        keys = tuple(_key(r) for r in requests)
        if not self.pickle_calls:
            return [self.recorded[k] for k in keys]
        pickle.dumps(list(requests), pickle.HIGHEST_PROTOCOL)  # the call on its way to the worker
        blob = self._pickled.get(keys)
        if blob is None:
            blob = self._pickled[keys] = pickle.dumps([self.recorded[k] for k in keys], pickle.HIGHEST_PROTOCOL)
        return pickle.loads(blob)  # type: ignore[no-any-return]


class TimedDetector(RecordedDetector):
    def __init__(self, recorded: dict[Any, Any], pickle_calls: bool, totals: dict[str, list[float]]) -> None:
        super().__init__(recorded, pickle_calls)
        self.slot = totals.setdefault("detector stub (pickling)", [0.0, 0])

    async def detect(self, requests: Sequence[Any]) -> list[Any]:
        t0 = time.thread_time()
        try:
            return await super().detect(requests)
        finally:
            self.slot[0] += time.thread_time() - t0
            self.slot[1] += 1


def record(bodies: list[bytes], policy: Any, plugins: Any, path: Path, plugin_modules: Sequence[str]) -> dict[Any, Any]:
    """Findings per distinct detection request, from the real analyzer (cached in ``path``)."""
    from gateway.inspect.detect import _key, analyze_message, load_worker_analyzer
    from gateway.inspect.transform import plan_detection

    recorded: dict[Any, Any] = {}
    if path.exists():
        recorded = pickle.loads(path.read_bytes())
    handler = next(h for h in plugins.content_handlers() if h.name == "json")
    missing = []
    for body in bodies:
        doc = handler.parse(body, media_type="application/json", charset=None)
        for item in plan_detection(doc.parts, policy):
            req = item[1]
            if _key(req) not in recorded:
                missing.append(req)
    if missing:
        print(f"recording findings for {len(missing)} texts with the real analyzer…", file=sys.stderr)
        analyzer, prefetch = load_worker_analyzer(plugin_modules)
        for req, found in zip(missing, analyze_message(analyzer, prefetch, missing), strict=True):
            recorded[_key(req)] = [_plain(f) for f in found]
        path.write_bytes(pickle.dumps(recorded))
    from gateway.inspect.findings import Finding

    return {k: [Finding(*f) for f in v] for k, v in recorded.items()}


#: What ``--breakdown`` times (module, attribute): nested calls count in both their own line and their caller's.
BREAKDOWN = (
    ("gateway.plugins.content_json", "JsonHandler.parse"),
    ("gateway.inspect.transform", "plan_detection"),
    ("gateway.policy.merge", "EffectivePolicy.field_rule"),
    ("gateway.inspect.transform", "normalize"),
    ("gateway.inspect.transform", "detect_language"),
    ("gateway.inspect.transform", "map_findings"),
    ("gateway.inspect.transform", "protect_parts"),
    ("gateway.inspect.transform", "_known_values"),
    ("gateway.inspect.transform", "_echoes"),
    ("gateway.inspect.transform", "_resolve"),
    ("gateway.vault", "Vault.tokenize"),
    ("gateway.plugins.content_json", "JsonDocument.serialize"),
)


def instrument(totals: dict[str, list[float]]) -> None:
    """Wrap each function of :data:`BREAKDOWN` (and its imported aliases) to add its thread CPU to ``totals``."""
    import importlib

    for module_name, attr in BREAKDOWN:
        module = importlib.import_module(module_name)
        owner: Any = module
        *outer, name = attr.split(".")
        for part in outer:
            owner = getattr(owner, part)
        original = getattr(owner, name, None)
        if original is None:
            continue
        slot = totals.setdefault(attr, [0.0, 0])

        def wrapper(*a: Any, __f: Any = original, __slot: list[float] = slot, **k: Any) -> Any:
            t0 = time.thread_time()
            try:
                return __f(*a, **k)
            finally:
                __slot[0] += time.thread_time() - t0
                __slot[1] += 1

        setattr(owner, name, wrapper)
        if not outer:  # ``from module import name`` elsewhere: patch those aliases too
            for other in list(sys.modules.values()):
                if getattr(other, "__name__", "").startswith(("gateway.", "plugins.")) and \
                        getattr(other, name, None) is original:
                    setattr(other, name, wrapper)


def _plain(f: Any) -> tuple[Any, ...]:
    return (f.entity_type, f.start, f.end, f.score, f.recognizer)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from gateway.config import load_config
    from gateway.inspect.inspector import Inspector
    from gateway.policy.compile import compile_policies
    from gateway.runtime import open_runtime
    from gateway.vault import Vault

    config_path = prepare(args.state)
    config = load_config(config_path)
    runtime = open_runtime(config)
    policy = compile_policies(config, runtime.plugins)[(CONTRACT, ROUTE)]
    corpus = generate()
    bodies = {label: [json.dumps(t, ensure_ascii=False).encode() for t in corpus[label]] for label in args.sizes}
    recorded = record([b for bs in bodies.values() for b in bs], policy, runtime.plugins, args.findings,
                      config.plugins)
    totals: dict[str, list[float]] = {}
    detector = (TimedDetector(recorded, args.pickle, totals) if args.breakdown
                else RecordedDetector(recorded, args.pickle))
    store = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aduana-store")
    vault = Vault(runtime.db, runtime.keyring)
    inspector = Inspector(runtime.plugins.content_handlers(), runtime.plugins.actions(),
                          detector, vault, store)  # type: ignore[arg-type]
    ctype = "application/json; charset=utf-8"
    digest = hashlib.sha256()
    for label in args.sizes:  # warm: every value in the vault, every lazy thing loaded
        for body in bodies[label]:
            result = await inspector.protect_body(body, ctype, policy, CONTRACT)
            digest.update(result.body + json.dumps(result.outcome.as_dict(), sort_keys=True).encode())

    gc_time = [0.0, 0.0, 0]
    if args.gc_freeze:
        gc.freeze()  # what the server could do after start-up: the collector stops rescanning its objects

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_time[0] = time.process_time()
        else:
            gc_time[1] += time.process_time() - gc_time[0]
            gc_time[2] += 1

    gc.callbacks.append(on_gc)
    if args.breakdown:
        instrument(totals)
        for slot in totals.values():
            slot[:] = [0.0, 0]
    profiler = None
    profiles: list[cProfile.Profile] = []
    if args.profile:
        lock = threading.Lock()

        def start_thread_profile(frame: Any, event: str, arg: Any) -> None:
            p = cProfile.Profile()
            with lock:
                profiles.append(p)
            p.enable()

        store.shutdown(wait=True)  # fresh threads, so each starts under its own profiler
        threading.setprofile(start_thread_profile)
        store = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aduana-store")
        inspector._store = store
        profiler = cProfile.Profile()
        profiler.enable()
    out: dict[str, Any] = {"digest": digest.hexdigest()[:16], "sizes": {}}
    for label in args.sizes:
        per_round = []
        for _ in range(args.rounds):
            n = 0
            cpu0 = time.process_time()
            for _ in range(args.passes):
                if args.concurrency > 1:
                    sem = asyncio.Semaphore(args.concurrency)

                    async def one(body: bytes, sem: asyncio.Semaphore = sem) -> None:
                        async with sem:
                            await inspector.protect_body(body, ctype, policy, CONTRACT)

                    await asyncio.gather(*(one(b) for b in bodies[label]))
                else:
                    for body in bodies[label]:
                        await inspector.protect_body(body, ctype, policy, CONTRACT)
                n += len(bodies[label])
            per_round.append((time.process_time() - cpu0) / n * 1000)
        mb = sum(len(b) for b in bodies[label]) / len(bodies[label]) / 1024 / 1024
        ms = statistics.median(per_round)
        out["sizes"][label] = {"cpu_ms_per_request": round(ms, 3), "cpu_s_per_mb": round(ms / 1000 / mb, 2),
                               "rounds_ms": [round(x, 3) for x in per_round]}
    gc.callbacks.remove(on_gc)
    n_all = sum(args.rounds * args.passes * len(bodies[label]) for label in args.sizes)
    out["gc_ms_per_request"] = round(gc_time[1] / n_all * 1000, 3)
    out["gc_collections"] = gc_time[2]
    out["tracked_objects"] = len(gc.get_objects())
    if args.breakdown:
        n = sum(args.rounds * args.passes * len(bodies[label]) for label in args.sizes)
        out["breakdown"] = {name: (round(t / n * 1000, 3), c / n) for name, (t, c) in totals.items()}
    if profiler is not None:
        profiler.disable()
        threading.setprofile(None)  # type: ignore[arg-type]
        store.shutdown(wait=True)
        stats = pstats.Stats(profiler)
        for p in profiles:
            p.disable()
            p.create_stats()
            stats.add(p)
        text = io.StringIO()
        stats.stream = text  # type: ignore[attr-defined]
        stats.sort_stats(args.sort).print_stats(*([args.filter] if args.filter else []), args.top)
        if args.save:
            stats.dump_stats(str(args.save))
        out["profile"] = text.getvalue()
    store.shutdown(wait=True)
    runtime.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--state", type=Path, default=Path("/tmp/aduana-gwinspect"),
                        help="Config, keys and store (kept between runs: the same keys give the same tokens).")
    parser.add_argument("--findings", type=Path, help="Recorded findings (default: STATE/findings.pickle).")
    parser.add_argument("--sizes", default="0.5KB,2KB")
    parser.add_argument("--passes", type=int, default=10, help="Passes over the bodies of a size per round.")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=1, help="Bodies in flight at once.")
    parser.add_argument("--no-pickle", dest="pickle", action="store_false",
                        help="Leave out pickling the worker call and its result.")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="gc.freeze() after set-up, as a server could after start-up.")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--breakdown", action="store_true",
                        help="Thread CPU per request of the main steps (use with one --sizes).")
    parser.add_argument("--sort", default="tottime")
    parser.add_argument("--filter", default="")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.sizes = [s for s in args.sizes.split(",") if s]
    if any(s not in SIZES for s in args.sizes):
        parser.error(f"known sizes: {', '.join(SIZES)}")
    args.findings = args.findings or args.state / "findings.pickle"
    out = asyncio.run(run(args))
    if args.json:
        print(json.dumps({k: v for k, v in out.items() if k != "profile"}))
        return
    print(out.pop("profile", ""))
    import gateway

    print(f"code: {Path(gateway.__file__).parent.parent}  digest {out['digest']}; garbage collector "
          f"{out['gc_ms_per_request']:.2f} ms per request ({out['gc_collections']} collections, "
          f"{out['tracked_objects']} objects tracked)")
    for label, r in out["sizes"].items():
        print(f"{label}: {r['cpu_ms_per_request']:.2f} ms CPU per request ({r['cpu_s_per_mb']:.1f} s/MB), "
              f"rounds {r['rounds_ms']}")
    for name, (ms, calls) in out.get("breakdown", {}).items():
        print(f"  {name:32} {ms:7.3f} ms/request  {calls:6.1f} calls/request")


if __name__ == "__main__":
    main()
