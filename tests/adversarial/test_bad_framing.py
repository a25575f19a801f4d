"""The bad-input catalogue, part 2: framing and headers, sent on raw sockets.

Some of these never reach our handler: aiohttp's HTTP parser answers them itself (a plain-text 400, no
request id, no middleware). Those rows check the refusal (nothing forwarded) in one test,
and the audit record the parser-rejection auditor writes (``gateway.proxy.guards.rejection_auditor``) in
another. The rest (lying Content-Length, a client that stops
sending) reach the pipeline while its body is being read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from adversarial_support import Env, audit_head, build_request, chunked, send_raw, wait_for_records

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


@pytest.mark.parametrize("case", PARSER_REFUSES, ids=[c.id for c in PARSER_REFUSES])
async def test_the_parser_refuses_and_nothing_is_forwarded(env: Env, case: Raw) -> None:
    env.clear()
    response = await send_raw(env.port, case.build(env.key))
    assert response.status == 400, response.raw[:200]
    assert env.forwarded() == []


@pytest.mark.parametrize("case", PARSER_REFUSES, ids=[c.id for c in PARSER_REFUSES])
async def test_what_the_parser_refuses_is_audited(env: Env, case: Raw) -> None:
    mark = audit_head(env.db)
    await send_raw(env.port, case.build(env.key))
    records = await wait_for_records(env.db, mark, timeout=2)
    # One per refused message: aiohttp may read the bytes after a bad one as a second, also refused.
    assert records and {(r["decision"], r["reason"]) for r in records} == {("blocked", "http_malformed")}


async def test_bytes_that_are_not_http(env: Env) -> None:
    env.clear()
    response = await send_raw(env.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(64))
    assert response.status == 400 and env.forwarded() == []


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
