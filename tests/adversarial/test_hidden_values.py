"""The bad-input catalogue, part 3: personal data disguised so a pattern does not see it.

A value a person still reads as the value (full-width digits, zero-width characters inside it, Cyrillic
look-alike letters, a line break inside a card number, HTML entities) must be protected like the plain
one. The helpdesk route protects request bodies, so the test reads what the helpdesk received and looks
for the value with the disguise undone (``adversarial_support.reveal``). The normalization step
before detection (``gateway/inspect/normalize.py``) is what makes them pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from adversarial_support import Env, audit_records, build_request, leaked, send_raw

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="package"), pytest.mark.xdist_group("adversarial")]

COMMENTS = "/helpdesk/api/tickets/1001/comments"
CARD = "4111 1111 1111 1111"
EMAIL = "margaret.ellison@example.com"


@dataclass(frozen=True)
class Hidden:
    id: str
    text: str  # what the vendor-side client writes into the comment
    value: str  # the value it hides
    entity_type: str  # what the audit record must count

    def param(self) -> object:
        return pytest.param(self, id=self.id)


def fullwidth(text: str) -> str:
    return text.translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})


CASES = [
    Hidden("plain card (control)", f"Refund to card {CARD} please.", CARD, "CREDIT_CARD"),
    Hidden("plain e-mail (control)", f"Write to {EMAIL} today.", EMAIL, "EMAIL_ADDRESS"),
    Hidden("full-width digits in a card", f"Refund to card {fullwidth(CARD)} please.", CARD, "CREDIT_CARD"),
    Hidden("zero-width spaces inside a card", "Refund to card " + "\u200b".join(CARD.split(" ")) + " please.",
           CARD, "CREDIT_CARD"),
    Hidden("zero-width joiners inside an e-mail", "Write to margaret\u200d.ellison@exam\u200bple.com today.",
           EMAIL, "EMAIL_ADDRESS"),
    Hidden("soft hyphen inside an e-mail", "Write to margaret.elli\u00adson@example.com today.",
           EMAIL, "EMAIL_ADDRESS"),
    Hidden("Cyrillic look-alikes in an e-mail", "Write to m\u0430rg\u0430ret.ellis\u043en@ex\u0430mple.com today.",
           EMAIL, "EMAIL_ADDRESS"),
    Hidden("a line break inside a card", "Refund to card 4111 1111\n1111 1111 please.", CARD, "CREDIT_CARD"),
    Hidden("a CRLF inside a card", "Refund to card 4111 1111\r\n1111 1111 please.", CARD, "CREDIT_CARD"),
    Hidden("a line break splitting a group of a card", "Refund to card 4111 1111 11\r\n11 1111 please.", CARD,
           "CREDIT_CARD"),
    Hidden("a line break inside a plain card", "Refund to card 41111111\n11111111 please.", CARD, "CREDIT_CARD"),
    Hidden("HTML entity for @", "Write to margaret.ellison&#64;example.com today.", EMAIL, "EMAIL_ADDRESS"),
    Hidden("HTML entities for digits", "Refund to card &#52;111 1111 1111 111&#x31; please.", CARD, "CREDIT_CARD"),
    Hidden("named HTML entity for @", "Write to margaret.ellison&commat;example.com today.", EMAIL, "EMAIL_ADDRESS"),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
async def test_a_disguised_value_is_protected(env: Env, case: Hidden) -> None:
    env.clear()
    body = json.dumps({"author": "Agent 7", "body": case.text}).encode()
    response = await send_raw(env.port, build_request("POST", COMMENTS, key=env.key, body=body,
                                                      headers=[("Content-Type", "application/json")]))
    assert response.status == 201, response.raw[:300]
    (received,) = env.forwarded()
    comment = json.loads(received["body"])["body"]  # decoded: a JSON escape must not hide a leak
    assert not leaked(case.value, comment), f"{case.value!r} readable in {comment!r}"
    request_id = response.headers["x-request-id"]
    (record,) = [r for r in audit_records(env.db) if r["request_id"] == request_id and r["action"] == "proxy"]
    assert case.entity_type in record["entities"]
