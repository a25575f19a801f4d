"""The bad-input catalogue, part 4: an upstream that lies about what it sends back.

The ``liar`` route protects responses (the vendor fetches company data) and applies a pack that lets
images pass uninspected, as a route serving avatars would. Each case states what the vendor must get;
the test checks that no personal value reached the vendor and that the answer was audited.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from adversarial_support import SECRET_PERSON, Env, audit_records, build_request, leaked, send_raw

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="package"), pytest.mark.xdist_group("adversarial")]


@dataclass(frozen=True)
class Lie:
    id: str
    path: str
    status: int
    reason: str | None  # None: the response is released (a control)

    def param(self) -> object:
        return pytest.param(self, id=self.id)


LIES = [
    # The declared type is trusted only as far as the first bytes agree (guards.check_declared_type).
    Lie("JSON with personal data declared image/png", "/liar/png-json", 415, "content_type_mismatch"),
    Lie("a real PNG (control)", "/liar/png-real", 200, None),
    Lie("no Content-Type", "/liar/no-type", 415, "content_type_blocked"),
    Lie("reset after 100 of 4096 bytes", "/liar/reset", 502, "upstream_unreachable"),
    Lie("a gzip bomb as Content-Encoding", "/liar/gzip-bomb", 415, "upstream_compressed"),
]


@pytest.mark.parametrize("case", [c.param() for c in LIES])
async def test_a_lying_upstream_releases_nothing(env: Env, case: Lie) -> None:
    response = await send_raw(env.port, build_request("GET", case.path, key=env.key))
    assert response.status == case.status, response.raw[:300]
    assert response.reason == case.reason
    text = response.body.decode("utf-8", "replace")
    for value in SECRET_PERSON.values():
        assert not leaked(value, text), f"{value!r} reached the vendor"
    request_id = response.headers["x-request-id"]
    (record,) = [r for r in audit_records(env.db) if r["request_id"] == request_id and r["action"] == "proxy"]
    assert record["reason"] == (case.reason or "ok")


async def test_response_headers_that_were_not_inspected_do_not_reach_the_vendor(env: Env) -> None:
    """``X-Customer-Email`` and a ``Content-Disposition`` file name carry data inspection never saw."""
    response = await send_raw(env.port, build_request("GET", "/liar/header-leak", key=env.key))
    assert response.status == 200
    head = response.raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    for value in SECRET_PERSON.values():
        assert not leaked(value, head), f"{value!r} reached the vendor in a header"
