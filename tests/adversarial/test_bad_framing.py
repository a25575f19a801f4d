"""The bad-input catalogue, part 2: framing and headers, sent on raw sockets.

Some of these never reach our handler: aiohttp's HTTP parser refuses them itself. The gateway's protocol
handler (``gateway/server/protocol.py``) answers them with our JSON error (``http_malformed``) under a
request id that is also the id of the one audit record written for them. The rest (lying
Content-Length, a client that stops sending) reach the pipeline while its body is being read.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from adversarial_support import (
    Env,
    audit_head,
    audit_records,
    build_request,
    captured_logs,
    chunked,
    send_raw,
    wait_for_records,
)

from gateway.proxy import guards

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="package"), pytest.mark.xdist_group("adversarial")]

COMMENTS = "/helpdesk/api/tickets/1001/comments"
JSON = ("Content-Type", "application/json")
BODY = b'{"author": "x", "body": "Margaret Ellison"}'


@dataclass(frozen=True)
class Raw:
    """A request aiohttp's parser refuses: (name, bytes after the request line's headers)."""

    id: str
    head: bytes  # extra raw header bytes (may hold bare CR/LF)
    body: bytes = b""
    method: str = "GET"

    def build(self, key: str) -> bytes:
        return build_request(self.method, COMMENTS if self.method == "POST" else "/helpdesk/api/tickets",
                             key=key, raw_headers=self.head, body=self.body, content_length=False)


PARSER_REFUSES = [
    Raw("CR/LF header injection (bare LF)", b"X-Note: a\nX-Injected: 1\r\n"),
    Raw("CR/LF header injection (bare CR)", b"X-Note: a\rX-Injected: 1\r\n"),
    Raw("NUL in a header value", b"X-Note: a\x00b\r\n"),
    Raw("a header line over 8190 bytes", b"X-Note: " + b"a" * 9000 + b"\r\n"),
    Raw("more than 128 headers", b"".join(b"X-H%d: a\r\n" % i for i in range(200))),
    Raw("Content-Length and Transfer-Encoding together",
        b"Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n",
        b"0\r\n\r\n", "POST"),
    Raw("two Content-Length headers that disagree",
        b"Content-Type: application/json\r\nContent-Length: 5\r\nContent-Length: 44\r\n", BODY, "POST"),
    Raw("a bad chunk size", b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        b"zz\r\n" + BODY + b"\r\n0\r\n\r\n", "POST"),
    # The first 12 bytes are the body; the rest is parsed as a second request, which is not HTTP.
    Raw("a Content-Length shorter than the body", b"Content-Type: application/json\r\nContent-Length: 12\r\n",
        BODY, "POST"),
]


async def refused_with_one_record(env: Env, data: bytes, status: int = 400) -> dict[str, Any]:
    """Send ``data``: our JSON error, its request id on the one new audit record, nothing forwarded."""
    env.clear()
    mark = audit_head(env.db)
    response = await send_raw(env.port, data)
    assert (response.status, response.reason) == (status, "http_malformed"), response.raw[:300]
    request_id = response.headers["x-request-id"]
    assert response.json()["error"]["request_id"] == request_id
    # Written before the answer left: no waiting. One record, even when aiohttp read more after the bad bytes.
    (record,) = audit_records(env.db, mark)
    assert (record["request_id"], record["decision"], record["reason"]) == (request_id, "blocked", "http_malformed")
    assert record["details"] == {"status": status} and record["contract"] is None
    assert env.forwarded() == []
    return record


@pytest.mark.parametrize("case", PARSER_REFUSES, ids=[c.id for c in PARSER_REFUSES])
async def test_what_the_parser_refuses_gets_our_error_and_one_record(env: Env, case: Raw) -> None:
    await refused_with_one_record(env, case.build(env.key))


async def test_bytes_that_are_not_http(env: Env) -> None:
    await refused_with_one_record(env, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64))


async def test_an_unknown_expectation_is_refused_with_our_error(env: Env) -> None:
    """aiohttp answers ``Expect`` values other than ``100-continue`` before any handler (417, quoting it back)."""
    data = build_request("POST", COMMENTS, key=env.key, headers=[JSON, ("Expect", "call Margaret Ellison")], body=BODY)
    await refused_with_one_record(env, data, status=417)


@pytest.mark.parametrize("target", ["OPTIONS *", "CONNECT 127.0.0.1:443"])
async def test_a_target_that_is_not_a_path_reaches_the_pipeline(env: Env, target: str) -> None:
    """aiohttp's router cannot match these (it would answer a plain 404): the pipeline answers, audited."""
    env.clear()
    method, path = target.split(" ")
    for key, expected in ((None, (401, "unauthenticated")), (env.key, (404, "no_route"))):
        response = await send_raw(env.port, build_request(method, path, key=key))
        assert (response.status, response.reason) == expected, response.raw[:300]
        request_id = response.headers["x-request-id"]
        assert env.gw.record(request_id)["reason"] == expected[1]
    assert env.forwarded() == []


async def test_nothing_of_a_refused_request_is_logged_or_recorded(env: Env) -> None:
    """aiohttp's own answer and its server log quote the offending bytes; the gateway's do neither."""
    secret = "Margaret Ellison"
    data = build_request("GET", f"/helpdesk/api/tickets?name={secret.replace(' ', '+')}", key=env.key,
                         raw_headers=f"X-Note: {secret}\nX-Injected: 1\r\n".encode())
    with captured_logs() as lines:
        record = await refused_with_one_record(env, data)
        response = await send_raw(env.port, data)
    assert lines and all("Margaret" not in line for line in lines)
    assert "Margaret" not in json.dumps(record) and b"Margaret" not in response.raw
    assert any('"reason": "http_malformed"' in line for line in lines)


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    monkeypatch.setattr(guards, "BODY_DEADLINE_SECONDS", 1.0)
    return 1.0


async def test_a_content_length_longer_than_the_body_times_out(env: Env, short_deadline: float) -> None:
    """The client promises 100 bytes, sends 7 and waits: the gateway must not wait with it forever."""
    env.clear()
    data = build_request("POST", COMMENTS, key=env.key, headers=[JSON, ("Content-Length", "100")],
                         body=b'{"a": 1', content_length=False)
    response = await send_raw(env.port, data, timeout=short_deadline + 4)
    assert (response.status, response.reason) == (408, "body_timeout")
    assert env.forwarded() == []
    request_id = response.json()["error"]["request_id"]
    (record,) = [r for r in await wait_for_records(env.db, 0, 1) if r["request_id"] == request_id]
    assert record["reason"] == "body_timeout"


async def test_a_client_that_hangs_up_mid_body_is_audited(env: Env) -> None:
    """Content-Length 100, 7 bytes, then end of stream: refused, with a record, nothing forwarded.

    aiohttp answers the truncated body itself (a parser error) and cancels the handler: both leave a record.
    """
    env.clear()
    mark = audit_head(env.db)
    data = build_request("POST", COMMENTS, key=env.key, headers=[JSON, ("Content-Length", "100")],
                         body=b'{"a": 1', content_length=False)
    await send_raw(env.port, data, half_close=True)
    records = await wait_for_records(env.db, mark, timeout=3)
    assert records and {r["decision"] for r in records} <= {"blocked", "failed"}
    assert env.forwarded() == []


async def test_a_slow_but_steady_chunked_body_is_read(env: Env) -> None:
    """The deadline is for the whole body, and a body that arrives in time is inspected as usual."""
    env.clear()
    reader, writer = await asyncio.open_connection("127.0.0.1", env.port)
    writer.write(build_request("POST", COMMENTS, key=env.key, headers=[JSON, ("Transfer-Encoding", "chunked")]))
    for piece in (BODY[:10], BODY[10:]):
        await asyncio.sleep(0.2)
        writer.write(chunked(piece)[:-5])  # one chunk, without the terminating zero chunk
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()
    try:
        raw = await asyncio.wait_for(reader.read(), 20)
    finally:
        writer.close()
    assert raw.startswith(b"HTTP/1.1 201"), raw[:200]
    (received,) = env.forwarded()
    assert "Margaret Ellison" not in received["body"]
