"""Recognizers for ACME's own identifiers: order numbers and customer numbers.

Both carry a check digit, so a number someone mistyped (or any six- or seven-digit number that happens
to follow the word "order") is not taken for one.

Check digit (ACME's numbering, documented here because nothing else describes it):
    the last digit checks the digits before it with the GS1 mod-10 scheme. Weight the data digits 3, 1,
    3, 1… starting from the rightmost one, add the products, and the check digit is what brings the sum
    up to a multiple of ten. ``12345`` → 5·3 + 4·1 + 3·3 + 2·1 + 1·3 = 33 → check digit 7 → ``123457``.
    It catches every single-digit error and most swaps of neighbouring digits (not a swap of two
    digits that differ by 5).

Forms recognized:
    ``ACME-ORD-123457``  (order: prefix + 5 digits + check digit; spaces or no separator accepted)
    ``CUST-0012348``     (customer: prefix + 6 digits + check digit)
    a bare ``123457`` / ``0012348`` only near a context word in English or Spanish ("order", "pedido",
    "customer", "cliente"…): alone it scores below the policy threshold.
"""

from __future__ import annotations

from typing import ClassVar

from presidio_analyzer import Pattern, PatternRecognizer

ORDER = "ACME_ORDER_NUMBER"
CUSTOMER = "ACME_CUSTOMER_NUMBER"
LANGUAGES = ("en", "es")


def check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (weights 3, 1, … from the right).

    :raises ValueError: ``digits`` is empty or not all ASCII digits.
    """
    if not digits or not digits.isascii() or not digits.isdigit():
        raise ValueError("check_digit takes a non-empty string of digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def is_valid(number: str) -> bool:
    """Whether the last digit of ``number`` (separators and prefix ignored) is its check digit."""
    digits = "".join(c for c in number if c.isascii() and c.isdigit())
    return len(digits) >= 2 and check_digit(digits[:-1]) == int(digits[-1])


class _CheckedRecognizer(PatternRecognizer):
    """A pattern recognizer whose matches must pass the check digit.

    A prefixed match that passes is certain (score 1.0); a bare number that passes keeps its low
    pattern score, which only a context word nearby lifts over the threshold. Failing numbers are
    dropped.
    """

    ENTITY: ClassVar[str]
    PREFIX: ClassVar[str]
    PATTERNS: ClassVar[list[Pattern]]
    CONTEXT: ClassVar[list[str]]

    def __init__(self, language: str) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=type(self).__name__,
            supported_language=language,
            patterns=self.PATTERNS,
            context=self.CONTEXT,
        )

    def validate_result(self, pattern_text: str) -> bool | None:
        if not is_valid(pattern_text):
            return False
        return True if pattern_text[: len(self.PREFIX)].upper() == self.PREFIX else None


class AcmeOrderNumberRecognizer(_CheckedRecognizer):
    """ACME_ORDER_NUMBER: ``ACME-ORD-`` and six digits, the last a check digit."""

    ENTITY = ORDER
    PREFIX = "ACME"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("ACME order number", r"\bACME[-\s]?ORD[-\s]?\d{6}(?!\d)", 0.9),
        Pattern("bare order number", r"(?<![\w-])\d{6}(?![\w-])", 0.3),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "order", "orders", "purchase", "shipment",  # English
        "pedido", "pedidos", "compra", "orden", "envío",  # Spanish
    ]


class AcmeCustomerNumberRecognizer(_CheckedRecognizer):
    """ACME_CUSTOMER_NUMBER: ``CUST-`` and seven digits, the last a check digit."""

    ENTITY = CUSTOMER
    PREFIX = "CUST"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("ACME customer number", r"\bCUST[-\s]?\d{7}(?!\d)", 0.9),
        Pattern("bare customer number", r"(?<![\w-])\d{7}(?![\w-])", 0.3),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "customer", "client", "account", "member",  # English
        "cliente", "clienta", "socio", "cuenta", "abonado",  # Spanish
    ]


def recognizers() -> list[PatternRecognizer]:
    """One instance of each recognizer per language Aduana inspects."""
    return [cls(lang) for cls in (AcmeOrderNumberRecognizer, AcmeCustomerNumberRecognizer) for lang in LANGUAGES]
