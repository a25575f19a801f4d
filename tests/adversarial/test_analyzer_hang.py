"""A recognizer that hangs: one message is refused, and the service comes back by itself.

The gateway (its own: a hang replaces its inspection workers) has a 2-second budget and the
``fault_recognizer`` plugin, which hangs on ``HANGNOW``. The hung message gets 503 and reaches nobody.
Then the replacement worker loads spaCy, which takes longer than the budget: messages arriving meanwhile
must wait for it, not time out on the cold worker and replace the pool again (which would never end).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from adversarial_support import WARM_UP_BOUND, audit_records, build_request, send_raw

from harness import GatewayHarness, gateway_config, start_helpdesk
from helpdesk import RECEIVED

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module"), pytest.mark.xdist_group("adversarial-hang")]

COMMENTS = "/helpdesk/api/tickets/1001/comments"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def hung(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[GatewayHarness, Any, str]]:
    server, app = await start_helpdesk()
    config = gateway_config(str(server.make_url("")).rstrip("/"))
    config["plugins"] = ["fault_recognizer"]
    config["inspection"]["timeout_seconds"] = 2
    config["contracts"]["acme"]["routes"][0]["protect"] = "request"
    gw = await GatewayHarness(tmp_path_factory.mktemp("hang"), config).start()
    try:
        yield gw, app, gw.issue_key("acme")
    finally:
        await gw.close()
        await server.close()


async def comment(gw: GatewayHarness, key: str, text: str) -> tuple[int, str | None, str | None]:
    body = json.dumps({"author": "Agent 7", "body": text}).encode()
    r = await send_raw(gw.vendor.port, build_request(  # type: ignore[union-attr]
        "POST", COMMENTS, key=key, body=body, headers=[("Content-Type", "application/json")]),
        timeout=WARM_UP_BOUND)
    return r.status, r.reason, r.headers.get("x-request-id")


async def test_analyzer_hangs_then_recovers(hung: tuple[GatewayHarness, Any, str]) -> None:
    gw, app, key = hung
    assert gw.runtime is not None
    status, reason, request_id = await comment(gw, key, "HANGNOW write to margaret.ellison@example.com")
    assert (status, reason) == (503, "inspection_timeout")
    assert app[RECEIVED] == []
    assert [r["reason"] for r in audit_records(gw.runtime.db) if r["request_id"] == request_id] == [reason]
    deadline = asyncio.get_running_loop().time() + WARM_UP_BOUND
    while asyncio.get_running_loop().time() < deadline:
        status, _, _ = await comment(gw, key, f"Write to margaret.{uuid.uuid4().hex[:8]}@example.com")
        if status == 201:
            break
    assert status == 201, f"the gateway did not recover from a hung recognizer within {WARM_UP_BOUND} s"
    assert "margaret." not in app[RECEIVED][-1]["body"]
