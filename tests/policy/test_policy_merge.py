"""Merge rules: most restrictive action, lowest threshold, allow-list vs block, content types, retention."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.policy.merge import FIELD_RULE_CACHE, EffectivePolicy, _field_rank, action_rank, merge
from gateway.policy.model import ACTION_ORDER, PolicyPack


def pack(name: str, **fields: Any) -> PolicyPack:
    return PolicyPack.model_validate({"name": name, "version": "1.0", **fields})


def merged(*packs: PolicyPack) -> EffectivePolicy:
    return merge([(p, f"sha256:{p.name}") for p in packs])


def test_documented_order() -> None:
    assert ACTION_ORDER == ("allow", "tokenize", "mask", "hash", "redact", "drop", "block")
    assert action_rank("some-plugin-action-nobody-knows") > action_rank("block")  # fail closed


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        ("tokenize", "mask", "mask"),
        ("mask", "tokenize", "mask"),
        ("hash", "mask", "hash"),
        ("redact", "hash", "redact"),
        ("drop", "redact", "drop"),
        ("block", "drop", "block"),
        ("allow", "tokenize", "tokenize"),
        ("block", "allow", "block"),
        ("tokenize", "tokenize", "tokenize"),
    ],
)
def test_most_restrictive_action_wins(first: str, second: str, winner: str) -> None:
    policy = merged(pack("a", entities={"PERSON": first}), pack("b", entities={"PERSON": second}))
    rule = policy.entities["PERSON"]
    assert rule.action == winner
    assert rule.source == ("a@1.0" if first == winner else "b@1.0")


@pytest.mark.parametrize(
    ("scores", "expected", "source"),
    [((0.7, 0.4), 0.4, "b@1.0"), ((0.3, 0.9), 0.3, "a@1.0"), ((0.5, 0.5), 0.5, "a@1.0")],
)
def test_lowest_threshold_wins(scores: tuple[float, float], expected: float, source: str) -> None:
    policy = merged(pack("a", entities={"PERSON": {"action": "block", "min_score": scores[0]}}),
                    pack("b", entities={"PERSON": {"action": "tokenize", "min_score": scores[1]}}))
    assert policy.entities["PERSON"].min_score == expected
    assert policy.entities["PERSON"].score_source == source
    assert policy.entities["PERSON"].action == "block"  # the action is decided independently


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ({"keep_first": 6, "keep_last": 4}, {"keep_last": 2}, {"keep_first": 0, "keep_last": 2}),
        ({"keep_first": 6, "keep_last": 4}, {"keep_first": 6, "keep_last": 4}, {"keep_first": 6, "keep_last": 4}),
        ({"keep_last": 4}, {"keep_first": 2, "keep_last": 6}, {"keep_first": 0, "keep_last": 4}),
    ],
)
def test_same_action_stricter_mask_parameters(a: dict[str, int], b: dict[str, int], expected: dict[str, int]) -> None:
    policy = merged(pack("a", entities={"CREDIT_CARD": {"action": "mask", **a}}),
                    pack("b", entities={"CREDIT_CARD": {"action": "mask", **b}}))
    assert policy.entities["CREDIT_CARD"].params == expected


@pytest.mark.parametrize(
    ("entity_action", "text", "allowed"),
    [
        ("tokenize", "Example Corp", True),
        ("tokenize", "  example corp ", True),  # case and surrounding spaces are ignored
        ("tokenize", "Example Corporation", False),
        ("redact", "support@example.com", True),
        ("block", "Example Corp", False),  # allow-lists never apply to a type some pack blocks
    ],
)
def test_allow_list_versus_block(entity_action: str, text: str, allowed: bool) -> None:
    policy = merged(pack("a", allow=["Example Corp", "support@example.com"], entities={"ORGANIZATION": "tokenize"}),
                    pack("b", entities={"ORGANIZATION": entity_action}))
    assert policy.allows("ORGANIZATION", text) is allowed


def test_allow_patterns_and_sources() -> None:
    policy = merged(pack("a", allow=["ACME"]), pack("b", allow=[{"pattern": r"[a-z.]+@example\.com"}, "acme"]))
    assert policy.allows("EMAIL_ADDRESS", "Billing@Example.com")
    assert not policy.allows("EMAIL_ADDRESS", "someone@example.org")
    assert policy.allow_sources == {"acme": "a@1.0"}
    assert [src for _, src in policy.allow_patterns] == ["b@1.0"]


@pytest.mark.parametrize(
    ("media_type", "expected"),
    [
        ("application/json", "inspect"),
        ("text/plain", "inspect"),
        ("image/png", "block"),  # blocked by b, passed by a: block wins
        ("application/zip", "pass"),
        ("application/pdf", "block"),
        ("video/mp4", "block"),  # listed nowhere
        ("APPLICATION/JSON", "inspect"),
    ],
)
def test_content_types(media_type: str, expected: str) -> None:
    policy = merged(
        pack("a", content_types={"inspect": ["application/json", "text/*"], "pass": ["image/*", "application/zip"]}),
        pack("b", content_types={"block": ["image/*", "application/pdf"]}),
    )
    assert policy.content_disposition(media_type) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ({"vault": "P90D"}, {"vault": "P30D"}, {"vault": ("P30D", "b@1.0")}),  # shortest wins
        ({"vault": "P1Y"}, {"vault": "P400D"}, {"vault": ("P1Y", "a@1.0")}),
        ({"audit": "P1Y"}, {"audit": "P6Y"}, {"audit": ("P6Y", "b@1.0")}),  # audit: longest wins
        ({"audit": "P6Y"}, {"audit": "P1Y"}, {"audit": ("P6Y", "a@1.0")}),
        ({"payloads": "P7D"}, {}, {"payloads": ("P7D", "a@1.0")}),
        ({"vault": "P2W"}, {"vault": "P1M"}, {"vault": ("P2W", "a@1.0")}),
    ],
)
def test_retention(a: dict[str, str], b: dict[str, str], expected: dict[str, tuple[str, str]]) -> None:
    assert merged(pack("a", retention=a), pack("b", retention=b)).retention == expected


@pytest.mark.parametrize(
    ("path", "key", "expected"),
    [
        ("$.payment.cvv", "cvv", "drop"),  # key rule (drop) beats the path rule (tokenize)
        ("$.card.pin", "pin", "drop"),
        ("$.items[3].email", "email", "tokenize"),
        ("$.items[3].id", "id", "never_inspect"),
        ("$.notes", "notes", None),
    ],
)
def test_field_rules_most_restrictive(path: str, key: str, expected: str | None) -> None:
    policy = merged(
        pack("a", fields=[{"path": "$.payment.cvv", "action": "tokenize"}, {"path": "$.items[*].email",
                                                                              "action": "tokenize"}]),
        pack("b", fields=[{"key": "(?i)^(cvv|pin)$", "action": "drop"}, {"path": "$.items[*].id",
                                                                          "action": "never_inspect"}]),
    )
    rule = policy.field_rule(path, key)
    assert (rule.action if rule else None) == expected


def test_languages_union_and_default() -> None:
    assert merged(pack("a", languages=["es"]), pack("b", languages=["en", "es"])).languages == ("es", "en")
    assert merged(pack("a")).languages == ("en", "es")


def test_entity_types_excludes_allow() -> None:
    policy = merged(pack("a", entities={"PERSON": "tokenize", "ORGANIZATION": "allow"}))
    assert policy.entity_types == ["PERSON"]


def test_shipped_merge(library: Any) -> None:
    policy = library.effective(["gdpr", "hipaa", "pci-dss", "baseline"])
    expected = {"CREDIT_CARD": ("mask", "pci-dss@1.0.0"), "PERSON": ("tokenize", "gdpr@1.0.0"),
                "CARD_CVV": ("block", "pci-dss@1.0.0"), "PASSWORD": ("block", "baseline@1.0.0"),
                "US_SSN": ("tokenize", "hipaa@1.0.0")}
    for entity_type, (action, source) in expected.items():
        assert (policy.entities[entity_type].action, policy.entities[entity_type].source) == (action, source)
    assert policy.entities["CREDIT_CARD"].params == {"keep_first": 6, "keep_last": 4}
    assert policy.retention["audit"] == ("P6Y", "hipaa@1.0.0")
    assert policy.retention["vault"] == ("P90D", "gdpr@1.0.0")
    assert policy.content_disposition("image/jpeg") == "block"
    assert policy.content_disposition("message/rfc822") == "inspect"


def _field_rule_reference(policy: EffectivePolicy, path: str, key: str | None) -> Any:
    """What ``field_rule`` answered before it remembered field names: every rule, in order."""
    best = None
    for rule in policy.fields:
        if rule.matches(path, key) and (best is None or _field_rank(rule.action) > _field_rank(best.action)):
            best = rule
    return best


def _many_rules() -> EffectivePolicy:
    return merged(
        pack("a", fields=[{"key": "(?i)^e-?mail$", "action": "tokenize", "entity_type": "EMAIL_ADDRESS"},
                          {"path": "$.items[*].email", "action": "mask"},
                          {"key": "(?i)mail", "action": "tokenize", "entity_type": "OTHER"}]),
        pack("b", fields=[{"key": "(?i)^email$", "action": "mask"}, {"path": "$.a.*", "action": "never_inspect"},
                          {"key": "^(cvv|pin)$", "action": "drop"}, {"path": "$.**", "action": "tokenize"}]),
    )


@pytest.mark.parametrize("path", ["$.email", "$.items[2].email", "$.a.pin", "$.x", "$.a.email", "$#key[0]"])
@pytest.mark.parametrize("key", ["email", "EMAIL", "e-mail", "mailbox", "pin", "cvv", "x", "ana@x.es", None])
def test_field_rule_answers_as_checking_every_rule(path: str, key: str | None) -> None:
    policy = _many_rules()
    for _ in range(2):  # the first call fills the memory, the second answers from it
        assert policy.field_rule(path, key) is _field_rule_reference(policy, path, key)


def test_field_rule_memory_is_bounded_and_holds_only_field_names() -> None:
    policy = merged(pack("a", fields=[{"key": "^name$", "action": "tokenize", "entity_type": "PERSON"}]))
    for key in ("ana@x.es", "4111 1111 1111 1111", "12345678Z", "line1"):
        assert policy.field_rule(f"$.{key}", key) is None
    assert policy._key_matches == {}  # values (or anything but letters, _ and -) are never remembered
    names = ["".join(chr(97 + (n // 26**i) % 26) for i in range(4)) for n in range(FIELD_RULE_CACHE + 10)]
    for name in names:
        assert policy.field_rule(f"$.{name}", name) is None
        assert len(policy._key_matches) <= FIELD_RULE_CACHE
    assert policy.field_rule("$.name", "name") is policy.fields[0]


def test_field_rule_memory_is_per_policy() -> None:
    one = merged(pack("a", fields=[{"key": "^name$", "action": "tokenize", "entity_type": "PERSON"}]))
    two = merged(pack("b", fields=[{"key": "^name$", "action": "drop"}]))
    assert one.field_rule("$.name", "name").action == "tokenize"  # type: ignore[union-attr]
    assert two.field_rule("$.name", "name").action == "drop"  # type: ignore[union-attr]
    assert one.field_rule("$.name", "name").action == "tokenize"  # type: ignore[union-attr]
