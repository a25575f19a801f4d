"""Applying a policy to parts: actions, overlaps, field rules, allow-lists, restore."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import PolicyBlockedError
from gateway.inspect.document import Part
from gateway.inspect.findings import Finding
from gateway.inspect.transform import VaultContext, plan_detection, protect_parts, restore_parts
from gateway.keys.keyring import KeyRing
from gateway.plugins.actions import Block, Drop, Hash, Mask, Redact, Tokenize
from gateway.policy.merge import merge
from gateway.policy.model import PolicyPack
from gateway.store import open_database
from gateway.store.migrations import migrate
from gateway.vault import Vault

ACTIONS = {a.name: a for a in (Redact(), Mask(), Hash(), Tokenize(), Drop(), Block())}


def policy(**pack: Any) -> Any:
    data = {"name": "t", "version": "1.0", **pack}
    return merge([(PolicyPack.model_validate(data), "sha256:x")])


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[Vault]:
    db = open_database(f"sqlite:///{tmp_path / 's.db'}")
    migrate(db)
    yield Vault(db, KeyRing(db, os.urandom(32)))
    db.close()


@pytest.mark.parametrize(
    ("action", "params", "value", "expected"),
    [
        ("redact", {}, "Ana Gil", "<PERSON>"),
        ("mask", {"keep_first": 6, "keep_last": 4}, "4111 1111 1111 1111", "4111 11•• •••• 1111"),
        ("mask", {"keep_last": 4}, "612345678", "•••••5678"),
        ("mask", {"keep_first": 8, "keep_last": 8}, "12345678", "123456••"),  # a third always hidden
    ],
)
def test_actions(vault: Vault, action: str, params: dict[str, Any], value: str, expected: str) -> None:
    pol = policy(entities={"PERSON": {"action": action, **params}})
    part = Part(path="body", text=f"x {value} y")
    protect_parts([part], {0: [Finding("PERSON", 2, 2 + len(value), 0.9)]}, pol, ACTIONS, VaultContext(vault, "a"))
    assert part.output == f"x {expected} y"


def test_overlapping_findings_take_the_union_and_the_strictest_action(vault: Vault) -> None:
    pol = policy(entities={"PHONE_NUMBER": "tokenize", "FAX_NUMBER": "redact"})
    part = Part(path="body", text="fax: +34 912 345 678 ok")
    findings = [Finding("PHONE_NUMBER", 5, 20, 0.7), Finding("FAX_NUMBER", 9, 20, 0.6)]
    outcome = protect_parts([part], {0: findings}, pol, ACTIONS, VaultContext(vault, "a"))
    assert part.output == "fax: <FAX_NUMBER> ok"
    assert outcome.as_dict() == {"FAX_NUMBER": {"redact": 1}}


def test_block_refuses_the_message(vault: Vault) -> None:
    pol = policy(entities={"CARD_CVV": "block"})
    with pytest.raises(PolicyBlockedError):
        protect_parts([Part("body", "cvv 123")], {0: [Finding("CARD_CVV", 4, 7, 0.9)]}, pol, ACTIONS,
                      VaultContext(vault, "a"))


def test_field_rules_act_on_whole_values_and_skip_detection(vault: Vault) -> None:
    pol = policy(
        entities={"PERSON": "tokenize"},
        fields=[{"key": "(?i)^cvv$", "action": "drop"}, {"path": "$.id", "action": "never_inspect"},
                {"path": "$.customer.ref", "action": "tokenize", "entity_type": "CUSTOMER_REF"}],
    )
    parts = [Part("$.cvv", "123", key="cvv"), Part("$.id", "Ana", key="id"),
             Part("$.customer.ref", "C-991", key="ref"), Part("$.note", "hi Ana", key="note")]
    assert [i for i, _ in plan_detection(parts, pol)] == [3]
    outcome = protect_parts(parts, {3: [Finding("PERSON", 3, 6, 0.9)]}, pol, ACTIONS, VaultContext(vault, "a"))
    assert parts[0].drop and parts[1].output == "Ana"
    assert parts[2].output.startswith("⟦CUSTOMER_REF_")
    assert parts[3].output.startswith("hi ⟦PERSON_")
    assert outcome.as_dict()["FIELD"] == {"drop": 1}


def test_allow_list_applies_unless_blocked(vault: Vault) -> None:
    pol = policy(entities={"ORGANIZATION": "redact", "EMAIL_ADDRESS": "block"},
                 allow=["Acme Corp", "help@acme.example"])
    part = Part("body", "Acme Corp")
    protect_parts([part], {0: [Finding("ORGANIZATION", 0, 9, 0.9)]}, pol, ACTIONS, VaultContext(vault, "a"))
    assert part.replacement is None
    with pytest.raises(PolicyBlockedError):
        protect_parts([Part("body", "help@acme.example")], {0: [Finding("EMAIL_ADDRESS", 0, 17, 0.9)]}, pol,
                      ACTIONS, VaultContext(vault, "a"))


def test_restore_only_this_contracts_tokens(vault: Vault) -> None:
    mine = vault.tokenize("a", "PERSON", "Ana Gil")
    theirs = vault.tokenize("b", "PERSON", "Bea Sanz")
    part = Part("body", f"Hola {mine} y {theirs} y ⟦PERSON_000000000000⟧")
    outcome = restore_parts([part], vault, "a")
    assert part.output == f"Hola Ana Gil y {theirs} y ⟦PERSON_000000000000⟧"
    assert (outcome.restored, outcome.unknown_tokens) == (1, 2)


def test_text_already_tokenized_is_not_analyzed_again() -> None:
    pol = policy(entities={"PERSON": "tokenize"})
    assert plan_detection([Part("body", "⟦PERSON_0123456789ab⟧ ")], pol) == []


def test_json_numbers_and_booleans_are_not_analyzed() -> None:
    pol = policy(entities={"DATE_TIME": "tokenize"})
    assert plan_detection([Part("$.id", "7001", key="id", meta={"scalar": "json"})], pol) == []


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [("application/pdf", "strip"), ("image/png", "block"), ("application/zip", "pass")],
)
def test_non_text_attachments_follow_the_policy(vault: Vault, content_type: str, expected: str) -> None:
    pol = policy(content_types={"inspect": ["application/pdf"], "block": ["image/*"], "pass": ["application/zip"]})
    part = Part("attachment:1:x", "", meta={"kind": "attachment", "content_type": content_type, "filename": "x"})
    if expected == "block":
        with pytest.raises(PolicyBlockedError):
            protect_parts([part], {}, pol, ACTIONS, VaultContext(vault, "a"))
        return
    protect_parts([part], {}, pol, ACTIONS, VaultContext(vault, "a"))
    assert part.drop is (expected == "strip")


def test_a_value_protected_in_one_field_is_protected_everywhere_in_the_message(vault: Vault) -> None:
    pol = policy(entities={"PERSON": "tokenize"},
                 fields=[{"key": "^name$", "action": "tokenize", "entity_type": "PERSON"}])
    parts = [Part("$.name", "Lucía Fernández Ortega", key="name"),
             Part("$.body", "Mis datos: Lucía Fernández Ortega, DNI …", key="body"),
             Part("$.other", "Lucíano", key="other")]
    protect_parts(parts, {1: [Finding("PERSON", 11, 16, 0.8)]}, pol, ACTIONS, VaultContext(vault, "a"))
    token = parts[0].output
    assert parts[1].output == f"Mis datos: {token}, DNI …"
    assert parts[2].replacement is None


class CountingContext:
    """The vault's context, counting what reaches it."""

    def __init__(self, vault: Vault, contract: str) -> None:
        self._inner = VaultContext(vault, contract)
        self.contract = contract
        self.calls: list[tuple[str, str, str]] = []

    def tokenize(self, entity_type: str, value: str) -> str:
        self.calls.append(("tokenize", entity_type, value))
        return self._inner.tokenize(entity_type, value)

    def keyed_hash(self, entity_type: str, value: str) -> str:
        self.calls.append(("hash", entity_type, value))
        return self._inner.keyed_hash(entity_type, value)


def test_a_value_repeated_in_a_message_reaches_the_vault_once(vault: Vault) -> None:
    pol = policy(entities={"PERSON": "tokenize", "EMAIL_ADDRESS": "hash"},
                 fields=[{"key": "^name$", "action": "tokenize", "entity_type": "PERSON"}])
    parts = [Part("$.name", "Ana Gil", key="name"), Part("$.a", "Hola Ana Gil, ana@x.es", key="a"),
             Part("$.b", "Ana Gil: ana@x.es", key="b")]
    findings = {1: [Finding("PERSON", 5, 12, 0.9), Finding("EMAIL_ADDRESS", 14, 22, 0.9)],
                2: [Finding("EMAIL_ADDRESS", 9, 17, 0.9)]}
    ctx = CountingContext(vault, "a")
    outcome = protect_parts(parts, findings, pol, ACTIONS, ctx)
    assert sorted(ctx.calls) == [("hash", "EMAIL_ADDRESS", "ana@x.es"), ("tokenize", "PERSON", "Ana Gil")]
    token, digest = vault.tokenize("a", "PERSON", "Ana Gil"), vault.keyed_hash("a", "EMAIL_ADDRESS", "ana@x.es")
    assert [p.output for p in parts] == [token, f"Hola {token}, {digest}", f"{token}: {digest}"]
    assert outcome.as_dict() == {"EMAIL_ADDRESS": {"hash": 2}, "PERSON": {"tokenize": 3}}
    # The memory lasts one message: the next one asks the vault again.
    protect_parts([Part("$.name", "Ana Gil", key="name")], {}, pol, ACTIONS, ctx)
    assert ctx.calls[-1] == ("tokenize", "PERSON", "Ana Gil") and len(ctx.calls) == 3


def test_each_text_is_normalized_once_per_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.inspect.transform as transform

    calls: list[str] = []
    real = transform.normalize

    def counting(text: str) -> Any:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(transform, "normalize", counting)
    pol = policy(entities={"PERSON": "tokenize"})
    # "nº" and full-width digits take normalization's character pass: offsets move.
    parts = [Part("$.a", "Pedido nº 12, ４１１ Ana Gil", key="a"), Part("$.b", "plain Ana Gil", key="b")]
    plan = transform.plan_detection(parts, pol)
    results = [[Finding("PERSON", r.text.index("Ana"), r.text.index("Ana") + 7, 0.9, "x")] for _, r in plan]
    mapped = transform.map_findings(parts, plan, results)
    assert calls == [parts[0].text, parts[1].text]
    # The same offsets as mapping a plain list of pairs, which normalizes again.
    assert mapped == transform.map_findings(parts, list(plan), results)
    assert [parts[i].text[f.start:f.end] for i, fs in mapped.items() for f in fs] == ["Ana Gil", "Ana Gil"]
