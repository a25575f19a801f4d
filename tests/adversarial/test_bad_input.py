"""The bad-input catalogue, part 1: bodies and paths our handler sees. One case, one row, one outcome.

Every request is written byte for byte on a raw socket (no client normalizes or refuses anything) to
the real gateway, on the ``acme`` helpdesk route, which protects request bodies on their way upstream.
Each case states the status and reason code the vendor gets, and the test checks the rest of the
promise: the answer is our JSON error with the request id, nothing reached either upstream, and the
audit trail holds a record of the refusal with the same id and reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from adversarial_support import MAX_BODY, Env, audit_records, bombs, build_request, chunked, send_raw

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="package"), pytest.mark.xdist_group("adversarial")]

COMMENTS = "/helpdesk/api/tickets/1001/comments"
JSON = [("Content-Type", "application/json")]


@dataclass(frozen=True)
class Case:
    """One bad input: how to build it (given the vendor key), and what the vendor must get."""

    id: str
    build: Callable[[str], bytes]
    status: int
    reason: str

    def param(self) -> object:
        return pytest.param(self, id=self.id)


def post(body: bytes, headers: list[tuple[str, str]] | None = None, path: str = COMMENTS) -> Callable[[str], bytes]:
    return lambda key: build_request("POST", path, key=key, headers=JSON if headers is None else headers, body=body)


def get(path: str) -> Callable[[str], bytes]:
    return lambda key: build_request("GET", path, key=key)


def nested(depth: int) -> bytes:
    return b'{"author": "x", "body": ' + b"[" * depth + b"]" * depth + b"}"


OVERSIZE = b'{"author": "x", "body": "' + b"y" * (MAX_BODY + 1) + b'"}'
BOMBS = bombs()

BODIES = [
    Case("malformed JSON", post(b'{"author": "x", "body": '), 400, "malformed_body"),
    Case("invalid UTF-8", post(b'{"author": "x", "body": "\xff\xfe caf\xe9"}'), 400, "invalid_encoding"),
    Case("invalid UTF-8 in a declared charset", post(b'{"author": "x", "body": "\xc3\x28"}',
         [("Content-Type", "application/json; charset=utf-8")]), 400, "invalid_encoding"),
    Case("unknown charset", post(b'{"author": "x"}', [("Content-Type", "application/json; charset=x-evil")]),
         400, "invalid_encoding"),
    Case("JSON nested 10,000 deep", post(nested(10_000)), 400, "json_too_deep"),
    Case("JSON nested just past the limit", post(nested(70)), 400, "json_too_deep"),
    Case("duplicate JSON keys", post(b'{"author": "x", "body": "a", "body": "b"}'), 400, "json_duplicate_key"),
    Case("duplicate keys spelt with escapes", post(b'{"author": "x", "body": "a", "b\\u006fdy": "b"}'),
         400, "json_duplicate_key"),
    Case("NaN, which other parsers refuse", post(b'{"author": "x", "body": "y", "n": NaN}'),
         400, "malformed_body"),
    Case("a number that overflows to Infinity", post(b'{"author": "x", "body": "y", "n": 1e999}'),
         400, "malformed_body"),
    Case("a lone surrogate escape", post(b'{"author": "x", "body": "\\ud800 hi"}'),
         400, "invalid_encoding"),
    Case("body over the limit, with Content-Length", post(OVERSIZE), 413, "body_too_large"),
    Case("body over the limit, chunked (no Content-Length)",
         lambda key: build_request("POST", COMMENTS, key=key, body=chunked(OVERSIZE),
                                   headers=[*JSON, ("Transfer-Encoding", "chunked")]), 413, "body_too_large"),
    Case("gzip bomb", post(BOMBS["gzip"][1], [*JSON, ("Content-Encoding", "gzip")]), 415, "compressed_body"),
    Case("deflate bomb", post(BOMBS["deflate"][1], [*JSON, ("Content-Encoding", "deflate")]),
         415, "compressed_body"),
    Case("gzip hidden behind identity", post(BOMBS["gzip"][1], [*JSON, ("Content-Encoding", "identity, gzip")]),
         415, "compressed_body"),
    Case("gzip as a transfer coding",
         lambda key: build_request("POST", COMMENTS, key=key, body=chunked(BOMBS["gzip"][1]),
                                   headers=[*JSON, ("Transfer-Encoding", "gzip, chunked")]),
         415, "compressed_body"),
    Case("a zip archive", post(b"PK\x03\x04" + bytes(64), [("Content-Type", "application/zip")]),
         415, "content_type_blocked"),
    Case("no content type", post(b'{"author": "x", "body": "y"}', []), 415, "content_type_blocked"),
]

PATHS = [
    Case("traversal ..", get("/helpdesk/api/../../admin"), 400, "path_rejected"),
    Case("traversal %2e%2e", get("/helpdesk/api/tickets/%2e%2e/%2e%2e/admin"), 400, "path_rejected"),
    Case("traversal %2E%2e mixed case", get("/helpdesk/api/tickets/%2E%2e/x"), 400, "path_rejected"),
    Case("traversal .%2e", get("/helpdesk/api/tickets/.%2e/x"), 400, "path_rejected"),
    Case("encoded slash %2f", get("/helpdesk/api/tickets/1%2fcomments"), 400, "path_rejected"),
    Case("encoded slash %2F", get("/helpdesk/api/tickets/1%2Fcomments"), 400, "path_rejected"),
    Case("double encoding %252e%252e", get("/helpdesk/api/tickets/%252e%252e/x"), 400, "path_rejected"),
    Case("double encoding %252f", get("/helpdesk/api/tickets/1%252fcomments"), 400, "path_rejected"),
    Case("backslash", get("/helpdesk/api/tickets/..\\..\\admin"), 400, "path_rejected"),
    Case("encoded backslash %5c", get("/helpdesk/api/tickets/..%5cadmin"), 400, "path_rejected"),
    Case("empty segment //", get("/helpdesk//api/tickets"), 400, "path_rejected"),
    Case("encoded NUL", get("/helpdesk/api/tickets/1%00"), 400, "path_rejected"),
    Case("absolute-form target", get("http://evil.example/helpdesk/api/tickets"), 400, "path_rejected"),
    Case("overlong UTF-8 dots %c0%ae", get("/helpdesk/api/tickets/%c0%ae%c0%ae/x"), 400, "path_rejected"),
    Case("path parameter ..; on an any-path route", get("/liar/a/..;/admin"), 400, "path_rejected"),
    Case("IIS-style %u002e on an any-path route", get("/liar/%u002e%u002e/admin"), 400, "path_rejected"),
]


async def refused_and_audited(env: Env, case: Case) -> None:
    env.clear()
    response = await send_raw(env.port, case.build(env.key))
    assert (response.status, response.reason) == (case.status, case.reason), response.raw[:300]
    body = response.json()
    assert set(body["error"]) == {"reason", "message", "request_id"}
    request_id = body["error"]["request_id"]
    assert response.headers["x-request-id"] == request_id
    assert env.forwarded() == [], "something reached an upstream"
    (record,) = [r for r in audit_records(env.db) if r["request_id"] == request_id and r["action"] == "proxy"]
    assert record["reason"] == case.reason
    assert record["decision"] == ("blocked" if case.status < 500 else "failed")


@pytest.mark.parametrize("case", [c.param() for c in BODIES])
async def test_bad_body(env: Env, case: Case) -> None:
    await refused_and_audited(env, case)


@pytest.mark.parametrize("case", [c.param() for c in PATHS])
async def test_bad_path(env: Env, case: Case) -> None:
    await refused_and_audited(env, case)


async def test_a_valid_chunked_body_goes_upstream_protected(env: Env) -> None:
    """Chunked framing is not a way around inspection (the control for the chunked cases)."""
    env.clear()
    body = json.dumps({"author": "a", "body": "Dear Margaret Ellison, card 4111 1111 1111 1111"}).encode()
    response = await send_raw(env.port, build_request(
        "POST", COMMENTS, key=env.key, body=chunked(body, 7), headers=[*JSON, ("Transfer-Encoding", "chunked")]))
    assert response.status == 201
    (received,) = env.forwarded()
    assert "Margaret Ellison" not in received["body"] and "4111 1111 1111 1111" not in received["body"]
