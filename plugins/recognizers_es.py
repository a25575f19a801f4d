"""Spanish identifiers (DNI/NIF, NIE, CIF, NSS), IBANs and passports, plus the ``es`` plugin's hook.

Spain's identifiers all carry a control character, so each recognizer checks it and drops look-alikes
(order numbers, a DNI with a wrong letter). The hook also registers the Spanish-first phone, name and
address recognizers that live in :mod:`recognizers_es_phone` and :mod:`recognizers_es_text`, and
the phone-shape recognizer of :mod:`recognizers_en_phone`.
Every recognizer is created once per language: Spanish tickets quote English words ("IBAN", "email")
and English tickets quote Spanish documents, so the context lists are bilingual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from presidio_analyzer import Pattern

from gateway.hookspecs import hookimpl

from .recognizers_common import (
    NOT_AFTER_ORDER_WORDS,
    AduanaPatternRecognizer,
    after_context,
    iso7064_mod97,
    per_language,
)
from .recognizers_en_phone import PhoneShapeRecognizer
from .recognizers_es_phone import PhoneNumberRecognizer
from .recognizers_es_text import (
    AddressRecognizer,
    PersonContextRecognizer,
    PostalCodeRecognizer,
    SpanishRegionRecognizer,
)

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

#: Control letters of the DNI/NIF and NIE, indexed by the number modulo 23.
DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
# Not preceded/followed by another identifier character: keeps matches out of longer codes.
_START = r"(?<![\w.\-/])"
_END = r"(?![\w\-]|\.\d)"


def dni_letter(number: int) -> str:
    """Return the control letter for a DNI/NIE number."""
    return DNI_LETTERS[number % 23]


class SpanishNifRecognizer(AduanaPatternRecognizer):
    """DNI/NIF of a Spanish national: 8 digits and a control letter (``12.345.678-Z``, ``12345678 Z``).

    Also K/L/M NIFs (minors, non-residents) and, after "DNI"/"NIF", 7-digit numbers whose leading zero
    was dropped. A space before a lowercase letter is not accepted: "12345678 y" is a sentence.
    """

    ENTITY = "ES_NIF"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "DNI (8 digits + letter)",
            _START
            + r"(?:\d{2}\.\d{3}\.\d{3}|\d{2} \d{3} \d{3}|\d{8})(?:[ -]?(?-i:[A-Z])|(?-i:[a-z]))"
            + _END,
            0.6,
        ),
        Pattern("NIF K/L/M", _START + r"(?-i:[KLM])[ -]?\d{7}[ -]?(?-i:[A-Z])" + _END, 0.5),
        Pattern(
            "DNI without leading zero (context)",
            after_context([r"dni", r"d\.n\.i", r"nif", r"n\.i\.f", r"documento"], 3)
            + r"(?:\d\.\d{3}\.\d{3}|\d{7})[ -]?(?-i:[A-Z])"
            + _END,
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "dni", "nif", "identidad", "documento", "identificación", "identification",
    ]

    def checksum(self, value: str) -> bool | None:
        """Check the control letter (number modulo 23)."""
        body, letter = value[:-1], value[-1]
        if body[:1] in ("K", "L", "M"):
            body = body[1:]
        return body.isdigit() and dni_letter(int(body)) == letter


class SpanishNieRecognizer(AduanaPatternRecognizer):
    """NIE of a foreign resident: X/Y/Z, 7 digits and a control letter (``X-1234567-L``)."""

    ENTITY = "ES_NIE"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "NIE",
            _START + r"(?-i:[XYZ])[ -]?(?:\d{7}|\d\.\d{3}\.\d{3})[ -]?(?-i:[A-Z])" + _END,
            0.6,
        ),
        Pattern("NIE (lowercase, compact)", _START + r"(?-i:[xyz])\d{7}(?-i:[a-z])" + _END, 0.5),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "nie", "extranjero", "residente", "foreigner", "residence",
    ]

    def checksum(self, value: str) -> bool | None:
        """Check the control letter: X, Y, Z stand for 0, 1, 2 in front of the number."""
        body = str("XYZ".index(value[0])) + value[1:-1]
        return body.isdigit() and dni_letter(int(body)) == value[-1]


class SpanishCifRecognizer(AduanaPatternRecognizer):
    """CIF of a Spanish company or body: a type letter, 7 digits and a control digit or letter.

    The control character is a single mod-10 check (one chance in ten of passing by accident), so a
    valid CIF keeps the pattern's score instead of being promoted to certainty.
    """

    ENTITY = "ES_CIF"
    STRONG_CHECKSUM = False
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "CIF",
            r"(?<![\w.\-/])(?-i:ES)?(?-i:[ABCDEFGHJNPQRSUVW])[ -]?\d{2}\.?\d{3}\.?\d{2}[ -]?(?-i:[0-9A-J])"
            + _END,
            0.5,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "cif", "nif", "empresa", "sociedad", "company", "vat",
    ]

    def checksum(self, value: str) -> bool | None:
        """Check the control character from the 7 digits (Luhn-like sum, 10 minus last digit)."""
        if len(value) == 11 and value.startswith("ES"):
            value = value[2:]
        kind, digits, control = value[0], value[1:8], value[8]
        if not digits.isdigit():
            return False
        total = sum(int(d) for d in digits[1::2])
        total += sum(sum(divmod(int(d) * 2, 10)) for d in digits[0::2])
        check = (10 - total % 10) % 10
        as_letter = "JABCDEFGHI"[check]
        if kind in "PQRSNW":
            return control == as_letter
        if kind in "ABEH":
            return control == str(check)
        return control in (str(check), as_letter)


class SpanishNssRecognizer(AduanaPatternRecognizer):
    """Spanish social-security number (NSS/NAF): province, 8 digits and a mod-97 control pair."""

    ENTITY = "ES_NSS"
    REPLACEMENT_PAIRS = ((" ", ""), ("-", ""), ("/", ""), (".", ""))
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("NSS", NOT_AFTER_ORDER_WORDS + r"(?<![\w.\-/])\d{2}([ /-]?)\d{8}\1\d{2}(?![\w\-/]|\.\d)", 0.5),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "nss", "naf", "afiliación", "afiliacion", "seguridad", "social",
    ]

    def checksum(self, value: str) -> bool | None:
        """Check the control pair: (province followed by number) modulo 97."""
        province, number, control = int(value[:2]), int(value[2:10]), int(value[10:])
        base = province * 10**8 + number if number >= 10**7 else province * 10**7 + number
        return base % 97 == control


#: IBAN length per country (SWIFT IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22,
    "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22,
    "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23,
    "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
    "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}


def _iban_regex() -> str:
    """Build one regex that matches an IBAN of exactly its country's length, spaced or not.

    Exact lengths matter: a free-length pattern would swallow the next word ("… 1332 BANCO") and
    then fail the checksum, losing the IBAN. The country is in capitals or, for an IBAN typed all in
    lower case ("gb82west…"), in small letters; never mixed ("Es", "De" begin ordinary words).
    """
    by_length: dict[int, list[str]] = {}
    for country, length in sorted(IBAN_LENGTHS.items()):
        by_length.setdefault(length, []).extend((country, country.lower()))
    alternatives = [
        rf"(?-i:{'|'.join(countries)})[ ]?\d{{2}}(?:[ -]?[A-Z0-9]){{{length - 4}}}"
        for length, countries in sorted(by_length.items(), reverse=True)
    ]
    return r"(?<![\w])(?:" + "|".join(alternatives) + r")(?!\w)"


class IbanChecksumRecognizer(AduanaPatternRecognizer):
    """IBAN of any country, with or without spaces or hyphens, checked with ISO 7064 mod 97."""

    ENTITY = "IBAN_CODE"
    PATTERNS: ClassVar[list[Pattern]] = [Pattern("IBAN", _iban_regex(), 0.5)]
    CONTEXT: ClassVar[list[str]] = [
        "iban", "cuenta", "bancaria", "domiciliación", "transferencia", "bank", "account", "transfer",
    ]

    def checksum(self, value: str) -> bool | None:
        """Check the country's length and that the rearranged IBAN is 1 modulo 97."""
        if IBAN_LENGTHS.get(value[:2]) != len(value) or not value.isalnum():
            return False
        return iso7064_mod97(value[4:] + value[:4]) == 1


_PASSPORT_WORDS = [
    r"passport", r"pasaporte", r"passport\s+(?:no|number|n[º°])", r"n[º°]\s+de\s+pasaporte",
]


class PassportRecognizer(AduanaPatternRecognizer):
    """Passport numbers: Spanish (3 letters + 6 digits), US (9 digits) and others after "passport".

    A bare Spanish-shaped code scores low (product codes share the shape); after "pasaporte" or
    "passport" any 6–9 character code with a digit is taken.
    """

    ENTITY = "PASSPORT"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("Spanish passport shape", r"(?<![\w\-])(?-i:[A-Z]{3})\d{6}(?![\w\-])", 0.2),
        Pattern(
            "Passport (Spanish, US) after context",
            after_context(_PASSPORT_WORDS, 3)
            + r"(?:(?-i:[A-Z]{2,3})\d{6}|\d{9}|(?-i:[A-Z])\d{8})(?![\w\-])",
            0.8,
        ),
        Pattern(
            "Passport (any) after strong context",
            after_context(_PASSPORT_WORDS, 2)
            + r"(?=[A-Za-z]*\d)(?-i:[A-Z0-9]{6,9})(?![\w\-])",
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["passport", "pasaporte"]


@hookimpl(trylast=True)
def aduana_register_recognizers() -> list[EntityRecognizer]:
    """Register the Spanish identifier, phone, IBAN, passport, name and address recognizers."""
    return per_language(
        (
            SpanishNifRecognizer,
            SpanishNieRecognizer,
            SpanishCifRecognizer,
            SpanishNssRecognizer,
            IbanChecksumRecognizer,
            PassportRecognizer,
            PhoneNumberRecognizer,
            PhoneShapeRecognizer,
            PersonContextRecognizer,
            AddressRecognizer,
            PostalCodeRecognizer,
            SpanishRegionRecognizer,
        )
    )
