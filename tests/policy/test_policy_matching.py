"""How inline tests compare expectations: token wildcards, JSON structure, findings, blocks."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.policy.model import PackTest
from gateway.policy.sandbox import Reported, Result
from gateway.policy.testing import check_case, json_matches, text_matches


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ("Hi ⟦PERSON_*⟧.", "Hi ⟦PERSON_7f3a9c2e51d0⟧.", True),
        ("Hi ⟦PERSON_*⟧.", "Hi ⟦LOCATION_7f3a9c2e51d0⟧.", False),  # the type must match
        ("Hi ⟦PERSON_*⟧.", "Hi ⟦PERSON_7f3a9c2e51d0⟧!", False),  # the rest compares exactly
        ("⟦PERSON_*⟧ ⟦PERSON_*⟧", "⟦PERSON_aaaaaaaaaaaa⟧ ⟦PERSON_bbbbbbbbbbbb⟧", True),
        ("Hi ⟦PERSON_*⟧.", "Hi ⟦PERSON_xyz⟧.", False),
        ("id ⟨US_SSN#*⟩", "id ⟨US_SSN#0123456789abcdef⟩", True),
        ("a.b (c)+", "a.b (c)+", True),  # regex characters are literal
        ("a.b", "axb", False),
        ("⟦PERSON_7f3a9c2e51d0⟧", "⟦PERSON_7f3a9c2e51d0⟧", True),
    ],
)
def test_text_matching(expected: str, actual: str, matches: bool) -> None:
    assert text_matches(expected, actual) is matches


@pytest.mark.parametrize(
    ("expected", "actual", "matches"),
    [
        ({"a": "⟦EMAIL_ADDRESS_*⟧", "n": 1}, {"a": "⟦EMAIL_ADDRESS_0123456789ab⟧", "n": 1}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),  # a dropped field must be gone
        ({"a": [1, "x"]}, {"a": [1, "x"]}, True),
        ({"a": 1}, {"a": "1"}, False),
        ({"a": True}, {"a": 1}, False),
    ],
)
def test_json_matching(expected: Any, actual: Any, matches: bool) -> None:
    assert json_matches(expected, actual) is matches


def _found(entity_type: str, text: str, action: str = "tokenize") -> Reported:
    return Reported(entity_type, 0, len(text), 0.9, action, "p@1.0", "body", text)


@pytest.mark.parametrize(
    ("case", "result", "failures"),
    [
        ({"expect_blocked": True}, Result(blocked="blocked by CARD_CVV"), []),
        ({"expect_blocked": True}, Result(output="x"), ["expected the message to be refused"]),
        ({"expect_output": "x"}, Result(blocked="blocked by X"), ["the message was refused"]),
        ({"expect_findings": ["PERSON", "PERSON"]}, Result(output="", findings=[_found("PERSON", "Ana")]),
         ["expected finding PERSON not reported"]),  # each expected finding needs its own match
        ({"expect_findings": [{"type": "PERSON", "text": "Ana", "action": "redact"}]},
         Result(output="", findings=[_found("PERSON", "Ana")]), ["expected finding PERSON 'Ana' → redact"]),
        ({"expect_not_found": ["ES_NIF"]}, Result(output="", findings=[_found("ES_NIF", "12345678Z")]),
         ["ES_NIF should not be found"]),
        ({"expect_absent": ["Ana"]}, Result(output="Hola Ana"), ["'Ana' is still in the output"]),
        ({"expect_absent": ["Ana"], "expect_blocked": True}, Result(blocked="b"), []),
    ],
)
def test_case_checks(case: dict[str, Any], result: Result, failures: list[str]) -> None:
    test = PackTest.model_validate({"name": "t", "input": "x", **case})
    got = check_case(test, result, "p@1.0").failures
    assert len(got) == len(failures), got
    for message, expected in zip(got, failures, strict=True):
        assert message.startswith(expected)


def test_output_diff_is_shown() -> None:
    test = PackTest.model_validate({"name": "t", "input": "x", "expect_output": "Hi ⟦PERSON_*⟧"})
    case = check_case(test, Result(output="Hi Ana"), "p@1.0")
    assert "-Hi ⟦PERSON_*⟧" in case.diff and "+Hi Ana" in case.diff
