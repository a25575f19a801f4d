"""The shipped packs: every inline test passes, each pack is well covered, the schema file is current."""

from __future__ import annotations

import json

import pytest
from policy_support import POLICIES, SHIPPED

from gateway.policy.loader import PackLibrary
from gateway.policy.model import PackTest
from gateway.policy.sandbox import Sandbox
from gateway.policy.schema import schema_text
from gateway.policy.testing import run_case

_LIBRARY = PackLibrary(sorted(POLICIES.glob("*.yaml")))
_CASES = [(name, case) for name in SHIPPED for case in _LIBRARY.get(name).pack.tests]


def test_the_four_packs_are_shipped() -> None:
    assert sorted(_LIBRARY.packs) == sorted(SHIPPED)


@pytest.mark.parametrize(("pack", "case"), _CASES, ids=[f"{p}: {c.name}" for p, c in _CASES])
def test_inline_case_passes(sandbox: Sandbox, pack: str, case: PackTest) -> None:
    result = run_case(sandbox, _LIBRARY.effective([pack]), case, pack)
    assert result.passed, "\n".join([*result.failures, result.diff])


@pytest.mark.parametrize("name", SHIPPED)
def test_each_pack_has_english_and_spanish_cases(name: str) -> None:
    tests = _LIBRARY.get(name).pack.tests
    assert len(tests) >= 5
    # Spanish cases are the ones forcing `language: es` (the others are detected or English).
    assert any(t.language == "es" for t in tests)
    assert any(t.language in (None, "en") for t in tests)


#: 45 CFR 164.514(b)(2)(i) (A)-(R) → the entity types that cover it in the hipaa pack.
SAFE_HARBOR = {
    "A names": ["PERSON"], "B geography": ["LOCATION"], "C dates": ["DATE_TIME"], "D phone": ["PHONE_NUMBER"],
    "E fax": ["FAX_NUMBER"], "F email": ["EMAIL_ADDRESS"], "G SSN": ["US_SSN"],
    "H medical record": ["MEDICAL_RECORD_NUMBER"], "I health plan": ["HEALTH_PLAN_ID"],
    "J account": ["ACCOUNT_NUMBER"], "K license": ["LICENSE_NUMBER"], "L vehicle": ["VEHICLE_ID"],
    "M device": ["DEVICE_ID"], "N URL": ["URL"], "O IP": ["IP_ADDRESS"], "P biometric": ["BIOMETRIC_ID"],
    "R other": ["PASSPORT", "ACCOUNT_NUMBER"],
}


@pytest.mark.parametrize(("identifier", "types"), SAFE_HARBOR.items())
def test_hipaa_covers_safe_harbor(identifier: str, types: list[str]) -> None:
    entities = _LIBRARY.get("hipaa").pack.entities
    for entity_type in types:
        assert entities[entity_type].action != "allow", identifier


def test_hipaa_blocks_photos() -> None:  # (Q) full-face photographs
    policy = _LIBRARY.effective(["hipaa"])
    for media_type in ("image/jpeg", "image/png", "application/pdf", "application/octet-stream"):
        assert policy.content_disposition(media_type) == "block"
    assert policy.field_rule("$.patient.photo", "photo") is not None


@pytest.mark.parametrize(
    ("key", "action"),
    [("cvv", "drop"), ("CVV2", "drop"), ("cvc", "drop"), ("cid", "drop"), ("pin", "drop"), ("track1", "drop"),
     ("track", "drop"), ("card_number", "mask"), ("pinned", None)],
)
def test_pci_field_rules(key: str, action: str | None) -> None:
    rule = _LIBRARY.effective(["pci-dss"]).field_rule(f"$.payment.{key}", key)
    assert (rule.action if rule else None) == action


def test_demo_defaults() -> None:
    policy = _LIBRARY.effective(["baseline", "gdpr", "hipaa", "pci-dss"])
    for entity_type in ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "ES_NIF", "ES_NIE", "IBAN_CODE", "US_SSN",
                        "LOCATION", "DATE_TIME"):
        assert policy.entities[entity_type].action == "tokenize", entity_type
    for entity_type in ("CARD_CVV", "CARD_TRACK_DATA", "CARD_PIN", "PASSWORD", "API_KEY", "PRIVATE_KEY"):
        assert policy.entities[entity_type].action == "block", entity_type
    assert policy.entities["CREDIT_CARD"].params == {"keep_first": 6, "keep_last": 4}
    assert policy.pass_types == ()


def test_schema_file_is_up_to_date() -> None:
    shipped = (POLICIES / "schema.json").read_text(encoding="utf-8")
    assert shipped == schema_text(), "run: aduana policy schema --output policies/schema.json"
    assert json.loads(shipped)["$defs"]["EntityRule"]["anyOf"][0]["type"] == "string"
