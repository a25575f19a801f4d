"""The inspector's hand-offs: where planning runs, how many store-thread calls a message costs."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import gateway.inspect.inspector as inspector_module
from gateway.inspect.analyzer import DetectRequest
from gateway.inspect.findings import Finding
from gateway.inspect.inspector import INLINE_PLAN_CHARS, INSPECTION_THREADS, Inspector
from gateway.keys.keyring import KeyRing
from gateway.plugins.actions import Block, Drop, Hash, Mask, Redact, Tokenize
from gateway.plugins.content_json import JsonHandler
from gateway.policy.merge import merge
from gateway.policy.model import PolicyPack
from gateway.store import open_database
from gateway.store.migrations import migrate
from gateway.vault import Vault

POLICY = merge([(PolicyPack.model_validate({
    "name": "t", "version": "1.0", "entities": {"PERSON": "tokenize"},
    "fields": [{"key": "^name$", "action": "tokenize", "entity_type": "PERSON"}],
    "content_types": {"inspect": ["application/json"]},
}), "sha256:x")])


class CountingExecutor(ThreadPoolExecutor):
    def __init__(self) -> None:
        super().__init__(max_workers=2)
        self.calls: list[str] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.calls.append(getattr(fn, "__name__", repr(fn)))
        return super().submit(fn, *args, **kwargs)


class NameDetector:
    """Finds "Ana Gil" wherever it is."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def detect(self, requests: Sequence[DetectRequest]) -> list[list[Finding]]:
        self.seen += [r.text for r in requests]
        return [[Finding("PERSON", i, i + 7, 0.9)] if (i := r.text.find("Ana Gil")) >= 0 else [] for r in requests]


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    db = open_database(f"sqlite:///{tmp_path / 's.db'}")
    migrate(db)
    yield Vault(db, KeyRing(db, os.urandom(32)))
    db.close()


def make(vault: Vault) -> tuple[Inspector, CountingExecutor]:
    store = CountingExecutor()
    actions = [Redact(), Mask(), Hash(), Tokenize(), Drop(), Block()]
    return Inspector([JsonHandler()], actions, NameDetector(), vault, store), store  # type: ignore[arg-type]


@pytest.mark.parametrize(("filler", "plan_on_loop"), [(10, True), (INLINE_PLAN_CHARS, False)])
async def test_short_messages_are_planned_on_the_loop_long_ones_on_the_pool(
    vault: Vault, monkeypatch: pytest.MonkeyPatch, filler: int, plan_on_loop: bool
) -> None:
    threads: list[str] = []
    real = inspector_module.plan_detection

    def plan(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(inspector_module, "plan_detection", plan)
    inspector, store = make(vault)
    body = {"name": "Ana Gil", "body": "Hola, soy Ana Gil. " + "x" * filler}
    result = await inspector.protect_body(json.dumps(body).encode(), "application/json", POLICY, "c")
    store.shutdown()
    token = vault.tokenize("c", "PERSON", "Ana Gil")
    assert json.loads(result.body) == {"name": token, "body": f"Hola, soy {token}. " + "x" * filler}
    assert result.outcome.as_dict() == {"PERSON": {"tokenize": 2}}
    assert (threads == [threading.current_thread().name]) is plan_on_loop
    # Planning (long messages only), then mapping and protecting in one hand-off.
    assert store.calls == (["_map_and_protect"] if plan_on_loop else ["plan", "_map_and_protect"])


async def test_a_failure_while_planning_on_the_loop_fails_the_message(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(inspector_module, "plan_detection", broken)
    inspector, store = make(vault)
    with pytest.raises(RuntimeError):
        await inspector.protect_body(b'{"body": "Ana Gil"}', "application/json", POLICY, "c")
    store.shutdown()
    assert store.calls == []


async def test_one_inspection_job_at_a_time_in_the_store_pool(vault: Vault, monkeypatch: pytest.MonkeyPatch) -> None:
    # Messages that come back from the workers together must not put several Python-heavy jobs on the
    # store threads at once: each would be one more thread the event loop competes with for the GIL.
    running, most = 0, 0
    lock = threading.Lock()
    real = inspector_module._map_and_protect

    def tracked(*args: Any) -> Any:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            time.sleep(0.02)
            return real(*args)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(inspector_module, "_map_and_protect", tracked)
    inspector, store = make(vault)
    bodies = [json.dumps({"name": "Ana Gil", "body": f"note {i}"}).encode() for i in range(6)]
    results = await asyncio.gather(*(inspector.protect_body(b, "application/json", POLICY, "c") for b in bodies))
    store.shutdown()
    assert [r.outcome.as_dict() for r in results] == [{"PERSON": {"tokenize": 1}}] * 6
    assert store.calls == ["tracked"] * 6 and most == INSPECTION_THREADS == 1


def test_findings_cross_the_process_boundary_intact() -> None:
    import pickle

    found = [Finding("PERSON", 3, 10, 0.85, "SpacyRecognizer"), Finding("EMAIL_ADDRESS", 0, 8, 1.0)]
    back = pickle.loads(pickle.dumps(found, pickle.HIGHEST_PROTOCOL))
    assert back == found and [type(f) for f in back] == [Finding, Finding]
    assert [f.recognizer for f in back] == ["SpacyRecognizer", ""]
