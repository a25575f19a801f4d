"""PCI DSS cardholder and sensitive authentication data: PAN, CVV, expiry, track data and PIN.

The PAN is found by shape (13–19 digits in the groupings cards are printed with) and kept only if it
passes Luhn; the other elements are short numbers that are only card data because of the word in
front of them ("CVV 123", "caduca 09/27", "PIN 4821"), so that word is part of the pattern.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from presidio_analyzer import Pattern

from gateway.hookspecs import hookimpl

from .recognizers_common import (
    NOT_AFTER_ORDER_WORDS,
    AduanaPatternRecognizer,
    after_context,
    all_same,
    luhn_valid,
    per_language,
)

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

_CARD_WORDS = [
    r"tarjetas?", r"card", r"credit\s+card", r"debit\s+card", r"visa", r"mastercard", r"maestro",
    r"amex", r"american\s+express", r"pan", r"n[º°]\s+de\s+tarjeta", r"cc", r"cc\s+(?:no|number|#)",
]
# A PAN does not continue a longer number (no digit group right before it), is not a field of
# track data (after "^" or "="), and is not an IMEI (a 15-digit Luhn number too).
_PAN_START = (
    r"(?<![\w+.,\-^=])(?<!\d[ .\-])(?<!(?i:imei)[^\w\n]{1,3})" + NOT_AFTER_ORDER_WORDS
)
_PAN_END = r"(?![\w\-]|[ .,]\d)"
# The same start without the order-word exception: a number with a major network's prefix (Visa,
# Mastercard incl. 2-series, Discover, JCB; Amex below) that passes Luhn is a card even where it is
# called an order or a ticket. Over-masking an odd order number is cheaper than forwarding a PAN.
_PAN_START_ANY = r"(?<![\w+.,\-^=])(?<!\d[ .\-])(?<!(?i:imei)[^\w\n]{1,3})"
_MAJOR_IIN = r"(?:4\d{3}|5[1-5]\d{2}|2(?:2[2-9]\d|[3-6]\d{2}|7[01]\d|720)|6011|65\d{2}|35(?:2[89]|[3-8]\d))"


class CardNumberRecognizer(AduanaPatternRecognizer):
    """CREDIT_CARD: a Luhn-valid PAN, 13–19 digits, plain or in 4-4-4-4(-3) / 4-6-5 / 4-6-4 groups.

    The issuer prefix is not required (new IIN ranges appear every year); Luhn is. A number called an
    order, invoice or ticket is not a card unless it has a major network's prefix. 12-digit Maestro
    numbers are accepted only after a card word.
    """

    ENTITY = "CREDIT_CARD"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "PAN in groups of four (or plain)",
            _PAN_START + r"\d{4}(?P<s>[ .\-]?)\d{4}(?P=s)\d{4}(?P=s)\d{1,4}(?:(?P=s)\d{1,3})?" + _PAN_END,
            0.5,
        ),
        Pattern(
            "PAN 4-6-5 (Amex) or 4-6-4 (Diners)",
            _PAN_START + r"\d{4}(?P<t>[ .\-]?)\d{6}(?P=t)\d{4,5}" + _PAN_END,
            0.5,
        ),
        Pattern(
            "16-digit PAN with a major network's prefix, whatever it is called",
            _PAN_START_ANY + _MAJOR_IIN + r"(?P<v>[ .\-]?)\d{4}(?P=v)\d{4}(?P=v)\d{4}" + _PAN_END,
            0.5,
        ),
        Pattern(
            "Amex PAN (34, 37), whatever it is called",
            _PAN_START_ANY + r"3[47]\d{2}(?P<w>[ .\-]?)\d{6}(?P=w)\d{5}" + _PAN_END,
            0.5,
        ),
        Pattern(
            "12-digit PAN after a card word",
            after_context(_CARD_WORDS, 5) + r"\d{4}(?P<u>[ .\-]?)\d{4}(?P=u)\d{4}" + _PAN_END,
            0.5,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "tarjeta", "crédito", "débito", "card", "credit", "debit", "visa", "mastercard", "amex",
        "maestro",
    ]

    def checksum(self, value: str) -> bool | None:
        """Luhn; placeholders made of one repeated digit are rejected."""
        return luhn_valid(value) and not all_same(value)


class CardCvvRecognizer(AduanaPatternRecognizer):
    """CARD_CVV: the 3–4 digit card security code, after "CVV", "CVC", "código de seguridad"…"""

    ENTITY = "CARD_CVV"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "CVV after context",
            after_context(
                [r"cvv2?", r"cvc2?", r"cid", r"csc", r"cvn", r"c[oó]digo\s+de\s+seguridad",
                 r"security\s+code", r"card\s+verification(?:\s+(?:value|code))?",
                 r"d[ií]gitos\s+de\s+(?:seguridad|atr[aá]s|detr[aá]s)", r"c[oó]digo\s+cvv"],
                3,
            )
            + r"\d{3,4}(?![\w\-]|[.,/]\d)",
            0.8,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["cvv", "cvc", "seguridad", "security"]


class CardExpiryRecognizer(AduanaPatternRecognizer):
    """CARD_EXPIRY: MM/YY, MM/YYYY or MM-YY after "exp", "caduca", "vencimiento", "válida hasta"…"""

    ENTITY = "CARD_EXPIRY"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "expiry after context",
            after_context(
                [r"exp", r"expiry", r"expiration", r"expires", r"expira", r"expiraci[oó]n",
                 r"valid\s+(?:thru|through|until)", r"good\s+thru", r"caduca", r"caducidad",
                 r"caducada", r"vencimiento", r"vence", r"v[aá]lid[ao]\s+hasta", r"f\.\s*cad",
                 r"fecha\s+de\s+caducidad", r"mm\s*/\s*aa", r"mm\s*/\s*yy"],
                3,
            )
            + r"(?:0?[1-9]|1[0-2])[ \t]?[/\-][ \t]?(?:20\d{2}|\d{2})(?![\w\-]|[/.]\d)",
            0.7,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["caducidad", "caduca", "vencimiento", "expiry", "expiration", "expires"]


_TRACK1 = r"%?B\d{12,19}\^[^\^\n]{2,26}\^\d{4}[^?\s]*\??"
_TRACK2 = r";\d{12,19}=\d{4}\d*\??|(?<![\w=])\d{12,19}=\d{4}\d{3,}\??"
_PAN_IN_TRACK = re.compile(r"\d{12,19}")


class CardTrackDataRecognizer(AduanaPatternRecognizer):
    """CARD_TRACK_DATA: magnetic-stripe track 1 (``%B<PAN>^NAME^YYMM…?``) or 2 (``;<PAN>=YYMM…?``)."""

    ENTITY = "CARD_TRACK_DATA"
    REPLACEMENT_PAIRS = ()
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("track 1", r"(?<![\w%])(?-i:" + _TRACK1 + r")", 0.6),
        Pattern("track 2", r"(?:" + _TRACK2 + r")", 0.6),
    ]
    CONTEXT: ClassVar[list[str]] = ["track", "pista", "banda", "magstripe", "swipe"]

    def checksum(self, value: str) -> bool | None:
        """Luhn on the PAN the track carries."""
        pan = _PAN_IN_TRACK.search(value)
        return pan is not None and luhn_valid(pan.group())


class CardPinRecognizer(AduanaPatternRecognizer):
    """CARD_PIN: a 4–12 digit PIN after "PIN", "clave", "número secreto", or a hex PIN block."""

    ENTITY = "CARD_PIN"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "PIN after context",
            after_context(
                [r"pin", r"pin\s+code", r"c[oó]digo\s+pin", r"n[uú]mero\s+secreto", r"clave",
                 r"clave\s+secreta", r"personal\s+identification\s+number"],
                4,
            )
            + r"\d{4,12}(?![\w\-]|[.,/]\d)",
            0.7,
        ),
        Pattern(
            "PIN block after context",
            after_context([r"pin\s*block", r"bloque\s+(?:de\s+)?pin", r"pin\s+cifrado"], 3)
            + r"[0-9A-F]{16}(?![\w\-])",
            0.8,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["pin", "clave", "secreto"]


@hookimpl(trylast=True)
def aduana_register_recognizers() -> list[EntityRecognizer]:
    """Register the PCI DSS recognizers, once per language."""
    return per_language(
        (
            CardNumberRecognizer,
            CardCvvRecognizer,
            CardExpiryRecognizer,
            CardTrackDataRecognizer,
            CardPinRecognizer,
        )
    )
