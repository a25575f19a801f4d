"""The record schema, canonical bytes and golden vectors for the chain hash and checkpoint signature."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit.checkpoint import (
    AuditSigner,
    SignatureInvalid,
    signed_bytes,
    verify_statement,
)
from gateway.audit.record import (
    FIELD_NAMES,
    GENESIS,
    AuditEvent,
    MalformedRecord,
    body_digest,
    canonical_json,
    check_body,
    format_time,
    from_cell,
    parse_time,
    record_hash,
    to_cell,
)

GOLDEN_TIME = "2025-01-01T00:00:00.000000Z"
GOLDEN_CANONICAL = (
    '{"action":"proxy","actor":null,"bytes_in":123,"bytes_out":456,"contract":"acme","credential_id":"k_1",'
    '"decision":"forwarded","details":{},"entities":{"CREDIT_CARD":{"mask":1},"PERSON":{"tokenize":2}},'
    '"kind":"request","latency_us":12500,"method":"GET","path_template":"/helpdesk/api/tickets/{id}",'
    '"policy":[{"digest":"sha256:abababababababababababababababababababababababababababababababab",'
    '"name":"gdpr","version":"1.0.0"}],"reason":"ok","request_id":"req-0","route":"helpdesk","seq":1,'
    '"time":"2025-01-01T00:00:00.000000Z","upstream_status":200,"v":1,"vendor":"Acme Contact Center"}'
)
GOLDEN_DIGEST = "b03a009c7d3ec04d6834f3561a8023ee5ee2d60276c54adc861ec33425cb32a9"
GOLDEN_HASH = "a87320df284fc8873ed0dd88de4fa2dbb8c20934afab20c62e59e81c9b49f080"
GOLDEN_KEY_ID = "56475aa75463474c"
GOLDEN_SIGNATURE = (
    "cdf4cfb53f8fe85f389808662df003ff353ba1216a27d293d3ae4cadb1b71c24"
    "ed02ad7389a71661aca9c4f56b0e8277f9b09c8e17aa43ec87e7019937869f0c"
)


def golden_event() -> AuditEvent:
    return AuditEvent(
        kind="request", action="proxy", request_id="req-0", contract="acme", vendor="Acme Contact Center",
        credential_id="k_1", route="helpdesk", method="GET", path_template="/helpdesk/api/tickets/{id}",
        decision="forwarded", reason="ok", upstream_status=200,
        entities={"PERSON": {"tokenize": 2}, "CREDIT_CARD": {"mask": 1}},
        policy=[{"name": "gdpr", "version": "1.0.0", "digest": "sha256:" + "ab" * 32}],
        bytes_in=123, bytes_out=456, latency_ms=12.5,
    )


def test_golden_record_hash() -> None:
    body = golden_event().body(1, GOLDEN_TIME)
    assert canonical_json(body).decode() == GOLDEN_CANONICAL
    # The formula, spelled out with hashlib only (what docs/audit.md tells auditors).
    digest = hashlib.sha256(b"aduana-audit-body-v1\n" + GOLDEN_CANONICAL.encode()).digest()
    own = hashlib.sha256(b"aduana-audit-v1\n" + bytes(32) + digest).hexdigest()
    assert digest.hex() == body_digest(body).hex() == GOLDEN_DIGEST
    assert own == record_hash(GENESIS, body) == GOLDEN_HASH


def test_golden_checkpoint_signature() -> None:
    signer = AuditSigner(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    statement = signer.sign({"type": "checkpoint", "seq": 1, "hash": GOLDEN_HASH, "time": GOLDEN_TIME})
    assert signer.key_id == GOLDEN_KEY_ID
    assert signed_bytes(statement) == (
        b'aduana-audit-checkpoint-v1\n{"hash":"' + GOLDEN_HASH.encode() + b'","key_id":"56475aa75463474c",'
        b'"seq":1,"time":"2025-01-01T00:00:00.000000Z","type":"checkpoint","v":1}'
    )
    assert statement["signature"] == GOLDEN_SIGNATURE  # Ed25519 is deterministic
    verify_statement(statement, {signer.key_id: signer.public_key}, "checkpoint")


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"hash": "00" * 32}, "checkpoint"),
        ({"seq": 2}, "checkpoint"),
        ({"type": "anchor"}, "anchor"),  # a checkpoint replayed as an anchor: other domain label
        ({"key_id": "0000000000000000"}, "checkpoint"),
        ({"signature": "zz"}, "checkpoint"),
    ],
)
def test_altered_statement_is_refused(change: dict[str, Any], kind: str) -> None:
    signer = AuditSigner(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    statement = signer.sign({"type": "checkpoint", "seq": 1, "hash": GOLDEN_HASH, "time": GOLDEN_TIME})
    with pytest.raises(SignatureInvalid):
        verify_statement({**statement, **change}, {signer.key_id: signer.public_key}, kind)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"b": 1, "a": [True, None, "é"]}, '{"a":[true,null,"é"],"b":1}'.encode()),
        ({"z": {"y": 1, "x": 2}}, b'{"z":{"x":2,"y":1}}'),
        ("line\nbreak", b'"line\\nbreak"'),
    ],
)
def test_canonical_json(value: object, expected: bytes) -> None:
    assert canonical_json(value) == expected


@pytest.mark.parametrize("value", [1.5, float("nan"), {"a": 0.1}, {1: "x"}, {"é": 1}, b"bytes", object()])
def test_canonical_json_refuses_non_portable_values(value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        canonical_json(value)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "bogus"},
        {"decision": "maybe"},
        {"action": "Has Spaces"},
        {"method": "get"},
        {"path_template": "/tickets/123?email=a@b.c"},
        {"path_template": "tickets"},
        {"upstream_status": 42},
        {"latency_ms": -1},
        {"latency_ms": float("inf")},
        {"bytes_in": -5},
        {"entities": {"PERSON": {"tokenize": 1.5}}},
        {"entities": {"PERSON NAME": {"tokenize": 1}}},
        {"policy": [{"name": "gdpr"}]},
        {"details": {"nested": {"a": 1}}},
        {"details": {"ratio": 0.5}},
        {"contract": "x" * 600},
        {"vendor": "bad\x00byte"},
    ],
)
def test_event_validation(kwargs: dict[str, Any]) -> None:
    base: dict[str, Any] = {"kind": "request", "action": "proxy"}
    with pytest.raises((TypeError, ValueError)):
        AuditEvent(**{**base, **kwargs})


def test_event_body_has_exactly_the_schema_fields() -> None:
    body = AuditEvent(kind="admin", action="keys.rotate", contract="", actor="cli:root").body(7, GOLDEN_TIME)
    assert tuple(body) == FIELD_NAMES
    assert body["contract"] is None  # empty strings have one spelling: null
    assert body["latency_us"] is None
    check_body(body)
    with pytest.raises(MalformedRecord):
        check_body({**body, "email": "someone@example.com"})


def test_event_body_is_what_was_validated_and_shares_nothing() -> None:
    entities = {"PERSON": {"tokenize": 2}}
    details: dict[str, Any] = {"restored": 0, "annotations": ["a.b"]}
    event = AuditEvent(kind="request", action="proxy", entities=entities, details=details,
                       policy=[{"name": "gdpr", "version": "1.0.0", "digest": "0" * 64}])
    entities["PERSON"]["tokenize"] = -1  # invalid now, and changed after validation
    details["annotations"].append("x\ny")
    first = event.body(1, GOLDEN_TIME)
    assert first["entities"] == {"PERSON": {"tokenize": 2}} and first["details"]["annotations"] == ["a.b"]
    first["entities"]["PERSON"]["tokenize"] = 7
    first["details"]["annotations"].append("z")
    first["policy"][0]["name"] = "other"
    second = event.body(2, GOLDEN_TIME)
    assert second["entities"] == {"PERSON": {"tokenize": 2}} and second["details"]["annotations"] == ["a.b"]
    assert second["policy"][0]["name"] == "gdpr" and second["seq"] == 2
    check_body(second)


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2025, 6, 1, 12, 0, tzinfo=UTC), "2025-06-01T12:00:00.000000Z"),
        (datetime(2025, 6, 1, 14, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))), "2025-06-01T12:00:00.000005Z"),
    ],
)
def test_time_format(moment: datetime, text: str) -> None:
    assert format_time(moment) == text
    assert parse_time(text) == moment


def test_naive_time_refused_and_dates_parse() -> None:
    with pytest.raises(ValueError):
        format_time(datetime(2025, 1, 1))
    assert parse_time("2025-01-31") == datetime(2025, 1, 31, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time("last tuesday")


@pytest.mark.parametrize(
    ("name", "value", "cell"),
    [
        ("contract", None, ""),
        ("contract", "acme", "acme"),
        ("upstream_status", 200, "200"),
        ("upstream_status", None, ""),
        ("entities", {"PERSON": {"mask": 1}}, '{"PERSON":{"mask":1}}'),
        ("policy", [], "[]"),
    ],
)
def test_csv_cells_round_trip(name: str, value: object, cell: str) -> None:
    assert to_cell(name, value) == cell
    assert from_cell(name, cell) == value
