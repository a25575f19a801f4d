"""The check digit and the recognizers, on their own and through Aduana's analyzer."""

from __future__ import annotations

import pytest

from aduana_acme.numbers import (
    CUSTOMER,
    ORDER,
    AcmeCustomerNumberRecognizer,
    AcmeOrderNumberRecognizer,
    check_digit,
    is_valid,
)


@pytest.mark.parametrize(
    ("digits", "expected"),
    # The last is the EAN-13 barcode 4006381333931, the usual published GS1 example.
    [("12345", 7), ("001234", 8), ("0", 0), ("1", 7), ("99999", 1), ("400638133393", 1)],
)
def test_check_digit_golden_vectors(digits: str, expected: int) -> None:
    assert check_digit(digits) == expected


@pytest.mark.parametrize("bad", ["", "12a", "１２３"])
def test_check_digit_refuses_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("ACME-ORD-123457", True),
        ("ACME-ORD-123456", False),  # last digit wrong
        ("ACME-ORD-214357", False),  # two neighbours swapped
        ("CUST-0012348", True),
        ("CUST-0012384", False),
        ("7", False),
    ],
)
def test_is_valid(number: str, valid: bool) -> None:
    assert is_valid(number) is valid


@pytest.mark.parametrize(
    ("cls", "language", "text", "found"),
    [
        (AcmeOrderNumberRecognizer, "en", "order ACME-ORD-123457 shipped", [("ACME-ORD-123457", 1.0)]),
        (AcmeOrderNumberRecognizer, "es", "pedido ACME ORD 123457", [("ACME ORD 123457", 1.0)]),
        (AcmeOrderNumberRecognizer, "en", "ACME-ORD-123456 is a typo", []),
        (AcmeOrderNumberRecognizer, "en", "ACME-ORD-1234570 is too long", []),
        (AcmeOrderNumberRecognizer, "en", "a bare 123457", [("123457", 0.3)]),
        (AcmeCustomerNumberRecognizer, "en", "customer CUST-0012348", [("CUST-0012348", 1.0)]),
        (AcmeCustomerNumberRecognizer, "es", "cliente cust0012348", [("cust0012348", 1.0)]),
        (AcmeCustomerNumberRecognizer, "en", "CUST-0012340", []),
    ],
)
def test_recognizer_patterns(cls: type, language: str, text: str, found: list[tuple[str, float]]) -> None:
    recognizer = cls(language)
    results = recognizer.analyze(text, recognizer.supported_entities)
    assert [(text[r.start:r.end], r.score) for r in results] == found
    assert {r.entity_type for r in results} <= {ORDER, CUSTOMER}
