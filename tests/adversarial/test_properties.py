"""Properties of protect and restore, on generated text and JSON (hypothesis, bounded).

Detection, actions and content handlers are the real ones (Presidio and spaCy in-process, the shipped
packs, the JSON content handler); tokens go to a throwaway vault. Personal values are drawn from types
the policy acts on and whose recognizers are deterministic (pattern plus checksum): e-mail addresses,
card numbers (Luhn), Spanish IBANs (mod 97), DNIs (check letter) and Spanish mobile numbers. Names are
left out on purpose: spaCy's NER is statistical, so "no name ever survives" is not a property it has.

1. The protected output contains none of the values, nor an obvious variant (separators changed, case).
2. JSON keeps its structure (keys, list lengths, types) and every non-personal value.
3. ``restore(protect(x)) == x`` within one contract (for values the policy tokenizes).
4. A token of contract A is never restored in contract B.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from adversarial_support import leaked
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.inspect.analyzer import Analyzer
from gateway.inspect.document import Part
from gateway.inspect.transform import Outcome, VaultContext, restore_parts
from gateway.keys.crypto import new_key
from gateway.keys.keyring import KeyRing
from gateway.pluginmanager import Plugins
from gateway.policy.merge import EffectivePolicy
from gateway.policy.sandbox import Sandbox
from gateway.store import open_database
from gateway.store.migrations import migrate
from gateway.vault import TOKEN_RE, Vault

BOUNDED = settings(max_examples=20, deadline=None, database=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# --- generators of personal values -------------------------------------------------------------------

_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_WORDS = ["open", "closed", "pending", "billing", "refund", "priority", "high", "low", "shipping", "resolved"]
_FILLER = [
    "Please update the ticket.", "The customer asked again today.", "Thanks for your patience.",
    "Escalated to the second line.", "Gracias por su paciencia.", "El cliente ha vuelto a escribir.",
]


def _luhn_complete(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n = n * 2 - 9 if n * 2 > 9 else n * 2
        total += n
    return digits + str((10 - total % 10) % 10)


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["4", "51", "52", "53", "54", "55"]))
    body = draw(st.text("0123456789", min_size=15 - len(prefix), max_size=15 - len(prefix)))
    number = _luhn_complete(prefix + body)
    sep = draw(st.sampled_from([" ", "-", ""]))
    return sep.join(number[i:i + 4] for i in range(0, 16, 4))


@st.composite
def spanish_ibans(draw: st.DrawFn) -> str:
    bban = draw(st.text("0123456789", min_size=20, max_size=20))
    check = 98 - int(bban + "142800") % 97
    iban = f"ES{check:02d}{bban}"
    if draw(st.booleans()):
        return " ".join(iban[i:i + 4] for i in range(0, 24, 4))
    return iban


@st.composite
def dnis(draw: st.DrawFn) -> str:
    number = draw(st.integers(10_000_000, 99_999_999))
    return f"{number}{_DNI_LETTERS[number % 23]}"


@st.composite
def spanish_mobiles(draw: st.DrawFn) -> str:
    digits = draw(st.text("0123456789", min_size=8, max_size=8))
    return f"+34 6{digits[:2]} {digits[2:5]} {digits[5:]}"


emails = st.from_regex(r"[a-z]{3,9}\.[a-z]{3,9}@[a-z]{4,9}\.(com|net|org|es)", fullmatch=True)
#: Types the policy tokenizes (reversible) and all the types it acts on.
TOKENIZED = st.one_of(emails, spanish_ibans(), dnis(), spanish_mobiles())
PERSONAL = st.one_of(TOKENIZED, card_numbers())


@st.composite
def texts(draw: st.DrawFn, values: st.SearchStrategy[str] = PERSONAL) -> tuple[str, list[str]]:
    """A short message with 1-3 personal values among filler sentences: (text, values)."""
    inserted = draw(st.lists(values, min_size=1, max_size=3))
    pieces = [draw(st.sampled_from(_FILLER))]
    for value in inserted:
        lead = draw(st.sampled_from(["Contact", "Datos:", "Please check", "Cliente:"]))
        pieces += [f"{lead} {value}.", draw(st.sampled_from(_FILLER))]
    return " ".join(pieces), inserted


@st.composite
def json_bodies(draw: st.DrawFn) -> tuple[Any, list[str]]:
    """A nested JSON value mixing non-personal leaves with personal ones: (body, personal values)."""
    found: list[str] = []

    @st.composite
    def personal_leaf(d: st.DrawFn) -> str:
        if d(st.booleans()):
            text, values = d(texts())
        else:
            text = d(PERSONAL)
            values = [text]
        found.extend(values)
        return text

    leaf = st.one_of(st.sampled_from(_WORDS), st.integers(-10**6, 10**6), st.booleans(), st.none(), st.just(""),
                     personal_leaf())
    keys = st.sampled_from(["status", "note", "comment", "history", "items", "meta", "ref", "text", "tags"])
    body = draw(st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                           st.dictionaries(keys, inner, max_size=3)),
                             max_leaves=8))
    return {"ticket": body, "subject": draw(st.sampled_from(_WORDS))}, found


# --- the protect/restore rig -------------------------------------------------------------------------


class Rig:
    """Protect with the real pieces into one throwaway vault; restore per contract."""

    def __init__(self, plugins: Plugins, analyzer: Analyzer, policy: EffectivePolicy, vault: Vault) -> None:
        self.plugins, self.analyzer, self.policy, self.vault = plugins, analyzer, policy, vault
        self.actions = {a.name: a for a in plugins.actions()}

    def sandbox(self, contract: str) -> Sandbox:
        return Sandbox(self.analyzer, self.actions, self.plugins.content_handlers(), VaultContext(self.vault, contract))

    def protect_text(self, contract: str, text: str) -> str:
        result = self.sandbox(contract).protect_text(self.policy, text)
        assert result.blocked is None and result.output is not None, result.blocked
        return result.output

    def protect_json(self, contract: str, body: Any) -> Any:
        result = self.sandbox(contract).protect_json(self.policy, body)
        assert result.blocked is None, result.blocked
        return result.output_json

    def restore_text(self, contract: str, text: str) -> tuple[str, Outcome]:
        parts = [Part(path="body", text=text)]
        outcome = restore_parts(parts, self.vault, contract)
        return parts[0].output, outcome


@pytest.fixture(scope="module")
def rig(plugins: Plugins, analyzer: Analyzer, policy: EffectivePolicy, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Rig]:
    db = open_database(f"sqlite:///{Path(tmp_path_factory.mktemp('vault')) / 'vault.db'}")
    migrate(db)
    try:
        yield Rig(plugins, analyzer, policy, Vault(db, KeyRing(db, new_key())))
    finally:
        db.close()


def fresh_contract() -> str:
    """A contract of its own per example, so a value seen earlier in another spelling is not restored."""
    return f"c-{uuid.uuid4().hex[:12]}"


# --- the properties ----------------------------------------------------------------------------------


@BOUNDED
@given(sample=texts())
def test_protected_text_holds_no_value_nor_a_variant(rig: Rig, sample: tuple[str, list[str]]) -> None:
    text, values = sample
    out = rig.protect_text(fresh_contract(), text)
    for value in values:
        assert not leaked(value, out), f"{value!r} readable in {out!r}"


@BOUNDED
@given(sample=json_bodies())
def test_protected_json_keeps_structure_and_other_values(rig: Rig, sample: tuple[Any, list[str]]) -> None:
    body, values = sample
    out = rig.protect_json(fresh_contract(), body)
    assert_same_shape(body, out)
    dumped = json.dumps(out, ensure_ascii=False)
    for value in values:
        assert not leaked(value, dumped), f"{value!r} readable in {dumped!r}"


def assert_same_shape(before: Any, after: Any) -> None:
    """Same keys, lengths and leaf types; leaves without personal data unchanged."""
    if isinstance(before, dict):
        assert isinstance(after, dict) and list(after) == list(before)
        for key in before:
            assert_same_shape(before[key], after[key])
    elif isinstance(before, list):
        assert isinstance(after, list) and len(after) == len(before)
        for b, a in zip(before, after, strict=True):
            assert_same_shape(b, a)
    elif isinstance(before, str) and before not in _WORDS and before:
        assert isinstance(after, str)  # a personal leaf: changed, still a string
    else:
        assert after == before and type(after) is type(before)


@BOUNDED
@given(sample=texts(TOKENIZED))
def test_restore_undoes_protect_within_a_contract(rig: Rig, sample: tuple[str, list[str]]) -> None:
    text, _ = sample
    contract = fresh_contract()
    protected = rig.protect_text(contract, text)
    assert TOKEN_RE.search(protected), "a tokenized type produced no token"
    restored, outcome = rig.restore_text(contract, protected)
    assert restored == text
    assert outcome.unknown_tokens == 0


@BOUNDED
@given(sample=texts(TOKENIZED))
def test_a_token_is_never_restored_in_another_contract(rig: Rig, sample: tuple[str, list[str]]) -> None:
    text, values = sample
    a, b = fresh_contract(), fresh_contract()
    protected = rig.protect_text(a, text)
    # B has seen the same values too: its own tokens for them exist, and still A's are not B's.
    rig.protect_text(b, text)
    restored, outcome = rig.restore_text(b, protected)
    assert restored == protected
    assert outcome.restored == 0 and outcome.unknown_tokens == len(TOKEN_RE.findall(protected))
    for value in values:
        assert not leaked(value, restored)


@BOUNDED
@given(value=PERSONAL)
def test_personal_data_in_a_json_key_is_protected(rig: Rig, value: str) -> None:
    """APIs key maps by e-mail or card number; a key is as readable as a value."""
    out = rig.protect_json(fresh_contract(), {"balances": {value: 12, "other": 3}})
    assert not leaked(value, json.dumps(out, ensure_ascii=False))
