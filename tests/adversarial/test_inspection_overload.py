"""More messages than inspection workers: they queue or are refused as busy, and a hang costs one message.

Two workers, a 6-second budget per message and half a second of queueing. A message waits for a free
worker without its budget running, so a burst never turns into timeouts; past the queueing bound it is
refused with 503 ``inspection_busy`` (audited, nothing forwarded). When a hung message's timeout replaces
the pool, a message that was running in the other worker is run again, not failed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from adversarial_support import WARM_UP_BOUND, audit_records, build_request, send_raw
from fault_recognizer import SLOW_SECONDS

from harness import GatewayHarness, gateway_config, start_helpdesk
from helpdesk import RECEIVED

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("adversarial-busy")]

COMMENTS = "/helpdesk/api/tickets/1001/comments"
BUDGET = 6.0
assert BUDGET > SLOW_SECONDS  # a slow message must fit its budget, or these tests test nothing


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def busy(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[GatewayHarness, Any, str]]:
    server, app = await start_helpdesk()
    config = gateway_config(str(server.make_url("")).rstrip("/"))
    config["plugins"] = ["fault_recognizer"]
    config["inspection"].update(workers=2, timeout_seconds=BUDGET, queue_seconds=0.5)
    config["contracts"]["acme"]["routes"][0]["protect"] = "request"
    gw = await GatewayHarness(tmp_path_factory.mktemp("busy"), config).start()
    try:
        yield gw, app, gw.issue_key("acme")
    finally:
        await gw.close()
        await server.close()


async def comment(gw: GatewayHarness, key: str, text: str, after: float = 0.0) -> tuple[int, str | None, str | None]:
    await asyncio.sleep(after)
    body = json.dumps({"author": "Agent 7", "body": text}).encode()
    r = await send_raw(gw.vendor.port, build_request(  # type: ignore[union-attr]
        "POST", COMMENTS, key=key, body=body, headers=[("Content-Type", "application/json")]),
        timeout=WARM_UP_BOUND)
    return r.status, r.reason, r.headers.get("x-request-id")


async def test_a_message_past_the_queue_bound_is_refused_as_busy(busy: tuple[GatewayHarness, Any, str]) -> None:
    gw, app, key = busy
    assert gw.runtime is not None
    app[RECEIVED].clear()
    first, second, third = await asyncio.gather(
        comment(gw, key, "SLOWNOW first"), comment(gw, key, "SLOWNOW second"),
        comment(gw, key, "Write to margaret.ellison@example.com", after=0.8))
    assert first[0] == second[0] == 201  # both workers busy, each within its budget
    assert third[:2] == (503, "inspection_busy")
    assert len(app[RECEIVED]) == 2 and not any("margaret" in r["body"] for r in app[RECEIVED])
    assert [r["reason"] for r in audit_records(gw.runtime.db) if r["request_id"] == third[2]] == ["inspection_busy"]


async def test_a_hang_costs_only_the_hung_message(busy: tuple[GatewayHarness, Any, str]) -> None:
    gw, app, key = busy
    app[RECEIVED].clear()
    # The slow message runs in the other worker when the hung one's budget ends and the pool is replaced.
    hung, slow = await asyncio.gather(
        comment(gw, key, "HANGNOW write to margaret.ellison@example.com"),
        comment(gw, key, "SLOWNOW a note for the agent", after=4.0))
    assert hung[:2] == (503, "inspection_timeout")
    assert slow[0] == 201, slow
    assert len(app[RECEIVED]) == 1 and "SLOWNOW a note for the agent" in app[RECEIVED][0]["body"]
