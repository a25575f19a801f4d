"""Spanish identifiers, IBANs, passports and phones, analysed directly (no NLP engine).

Golden values are public examples or were computed by hand; the property tests build valid values
with an implementation of each checksum written here, independent of the one under test.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import EntityRecognizer

from gateway.plugins.recognizers_es import (
    IbanChecksumRecognizer,
    PassportRecognizer,
    SpanishCifRecognizer,
    SpanishNieRecognizer,
    SpanishNifRecognizer,
    SpanishNssRecognizer,
)
from gateway.plugins.recognizers_es_phone import PhoneNumberRecognizer

THRESHOLD = 0.4
LANGUAGES = ["en", "es"]


def found(recognizer: EntityRecognizer, text: str, threshold: float = THRESHOLD) -> list[str]:
    """Spans the recognizer reports at or above ``threshold``, without NLP artifacts."""
    results = recognizer.analyze(text, recognizer.supported_entities, None)
    return sorted(text[r.start : r.end] for r in results if r.score >= threshold)


def scores(recognizer: EntityRecognizer, text: str) -> dict[str, float]:
    return {text[r.start : r.end]: r.score for r in recognizer.analyze(text, recognizer.supported_entities, None)}


# --- DNI/NIF -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("DNI 12345678Z", ["12345678Z"]),
        ("DNI: 12.345.678-Z.", ["12.345.678-Z"]),
        ("con NIF 12345678 Z, titular", ["12345678 Z"]),
        ("nif 12345678-Z", ["12345678-Z"]),
        ("dni 12345678z", ["12345678z"]),
        ("Documento 00000023T del menor", ["00000023T"]),
        ("DNI 1234567L (sin el cero)", ["1234567L"]),
        ("NIF de no residente M1234567L", ["M1234567L"]),
        ("(87654321X)", ["87654321X"]),
    ],
)
def test_nif_found(language: str, text: str, expected: list[str]) -> None:
    assert found(SpanishNifRecognizer(supported_language=language), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "DNI 12345678A",  # wrong control letter
        "DNI 12.345.678-A",
        "pedido 12345678 y factura",  # no letter at all
        "ref 123456789Z",  # nine digits
        "el número 12345678 y el otro",  # "y" is a word, not a control letter
        "IBAN ES9121000418450200051332",
        "1234567L sin contexto",  # 7 digits only after DNI/NIF
    ],
)
def test_nif_rejected(text: str) -> None:
    assert found(SpanishNifRecognizer(supported_language="es"), text) == []


def test_validated_nif_scores_high_without_context() -> None:
    assert scores(SpanishNifRecognizer(), "ver 12345678Z")["12345678Z"] >= 0.5


def _dni_letter(number: int) -> str:
    return "TRWAGMYFPDXBNJZSQVHLCKE"[number % 23]


@settings(database=None, deadline=None, max_examples=60)
@given(number=st.integers(min_value=0, max_value=99_999_999), separator=st.sampled_from(["", "-", " "]))
def test_any_valid_dni_is_found_and_a_wrong_letter_is_not(number: int, separator: str) -> None:
    recognizer = SpanishNifRecognizer(supported_language="es")
    good = f"{number:08d}{separator}{_dni_letter(number)}"
    assert found(recognizer, f"DNI {good}.") == [good]
    wrong = next(letter for letter in string.ascii_uppercase if letter != _dni_letter(number))
    assert found(recognizer, f"DNI {number:08d}{separator}{wrong}.") == []


# --- NIE -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NIE X1234567L", ["X1234567L"]),
        ("NIE: X-1234567-L", ["X-1234567-L"]),
        ("mi NIE es Y 1234567 X", ["Y 1234567 X"]),
        ("Z1234567R.", ["Z1234567R"]),
        ("nie x1234567l", ["x1234567l"]),
    ],
)
def test_nie_found(language: str, text: str, expected: list[str]) -> None:
    assert found(SpanishNieRecognizer(supported_language=language), text) == expected


@pytest.mark.parametrize("text", ["NIE X1234567A", "Y-1234567-L", "W1234567L", "X12345678L"])
def test_nie_rejected(text: str) -> None:
    assert found(SpanishNieRecognizer(), text) == []


@settings(database=None, deadline=None, max_examples=40)
@given(prefix=st.sampled_from("XYZ"), number=st.integers(min_value=0, max_value=9_999_999))
def test_any_valid_nie_is_found(prefix: str, number: int) -> None:
    letter = _dni_letter(int(str("XYZ".index(prefix)) + f"{number:07d}"))
    nie = f"{prefix}{number:07d}{letter}"
    assert found(SpanishNieRecognizer(), f"NIE {nie}") == [nie]


# --- CIF -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CIF B12345674", ["B12345674"]),
        ("Empresa A58818501, S.A.", ["A58818501"]),
        ("Ayuntamiento P2807900B", ["P2807900B"]),
        ("CIF B-12345674", ["B-12345674"]),
        ("VAT ESB12345674", ["ESB12345674"]),
    ],
)
def test_cif_found(text: str, expected: list[str]) -> None:
    assert found(SpanishCifRecognizer(), text) == expected


@pytest.mark.parametrize("text", ["CIF B12345675", "P2807900C", "A5881850Z", "Q1234567"])
def test_cif_rejected(text: str) -> None:
    assert found(SpanishCifRecognizer(), text) == []


def test_cif_checksum_is_weak_so_it_keeps_the_pattern_score() -> None:
    assert scores(SpanishCifRecognizer(), "B12345674")["B12345674"] == pytest.approx(0.5)


# --- NSS -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NSS 28/12345678/40", ["28/12345678/40"]),
        ("Seguridad Social: 28 12345678 40", ["28 12345678 40"]),
        ("afiliación 281234567840", ["281234567840"]),
        ("NSS 08-01234567-74", ["08-01234567-74"]),
    ],
)
def test_nss_found(text: str, expected: list[str]) -> None:
    assert found(SpanishNssRecognizer(), text) == expected


@pytest.mark.parametrize("text", ["NSS 28/12345678/41", "281234567841", "pedido 281234567840", "28/1234567/40"])
def test_nss_rejected(text: str) -> None:
    assert found(SpanishNssRecognizer(), text) == []


# --- IBAN ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IBAN ES91 2100 0418 4502 0005 1332.", ["ES91 2100 0418 4502 0005 1332"]),
        ("cuenta ES9121000418450200051332 a mi nombre", ["ES9121000418450200051332"]),
        ("ES91-2100-0418-4502-0005-1332", ["ES91-2100-0418-4502-0005-1332"]),
        ("DE89 3704 0044 0532 0130 00 BANCO", ["DE89 3704 0044 0532 0130 00"]),
        ("GB82 WEST 1234 5698 7654 32", ["GB82 WEST 1234 5698 7654 32"]),
        ("FR14 2004 1010 0505 0001 3M02 606", ["FR14 2004 1010 0505 0001 3M02 606"]),
        ("NO9386011117947 y BE68539007547034", ["BE68539007547034", "NO9386011117947"]),
        ("my iban is gb82west12345698765432 thanks", ["gb82west12345698765432"]),  # typed in lower case
        ("es91 2100 0418 4502 0005 1332", ["es91 2100 0418 4502 0005 1332"]),
    ],
)
def test_iban_found(language: str, text: str, expected: list[str]) -> None:
    assert found(IbanChecksumRecognizer(supported_language=language), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ES91 2100 0418 4502 0005 1333",  # wrong check
        "ES92 2100 0418 4502 0005 1332",
        "ES91 2100 0418 4502 0005 133",  # one digit short for Spain
        "DE89 3704 0044 0532 0130 0000",  # too long for Germany
        "XX91 2100 0418 4502 0005 1332",  # no such country
        "es91 2100 0418 4502 0005 1333",  # lower case, wrong check
        "de89370400440532013001",  # a lower-case id of an IBAN's length that fails the check
        "Es91 2100 0418 4502 0005 1332",  # mixed-case country: a word, not an IBAN
    ],
)
def test_iban_rejected(text: str) -> None:
    assert found(IbanChecksumRecognizer(), text) == []


def _iban_check_digits(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{98 - int(numeric) % 97:02d}"


@settings(database=None, deadline=None, max_examples=40)
@given(bban=st.text(alphabet=string.digits, min_size=20, max_size=20), spaced=st.booleans())
def test_any_valid_spanish_iban_is_found_and_a_mutation_is_not(bban: str, spaced: bool) -> None:
    compact = "ES" + _iban_check_digits("ES", bban) + bban
    iban = " ".join(compact[i : i + 4] for i in range(0, 24, 4)) if spaced else compact
    assert found(IbanChecksumRecognizer(), f"IBAN {iban}.") == [iban]
    mutated = compact[:-1] + str((int(compact[-1]) + 1) % 10)
    assert found(IbanChecksumRecognizer(), f"IBAN {mutated}.") == []


# --- passports -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pasaporte: PAA123456", ["PAA123456"]),
        ("número de pasaporte XDB654321.", ["XDB654321"]),
        ("US passport number 123456789", ["123456789"]),
        ("passport no. X1234567", ["X1234567"]),
        ("Passport: C03005988", ["C03005988"]),
    ],
)
def test_passport_found_with_context(text: str, expected: list[str]) -> None:
    assert found(PassportRecognizer(), text) == expected


@pytest.mark.parametrize("text", ["Código PAA123456 del catálogo", "pedido 123456789", "passport renewal due"])
def test_passport_needs_context(text: str) -> None:
    assert found(PassportRecognizer(), text) == []


# --- phones without NLP: the recognizer reads its own context ---------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Llámame al 612 345 678.", {"612 345 678": 0.8}),
        ("+34 612-34-56-78", {"+34 612-34-56-78": 0.7}),
        ("(+34) 912 345 678", {"(+34) 912 345 678": 0.7}),
        ("0034 912345678", {"0034 912345678": 0.7}),
        ("teléfono (912 345 678), gracias", {"912 345 678": 0.8}),
        ("un número suelto 612345678 sin más", {"612345678": 0.3}),
        ("612 345 678", {"612 345 678": 0.5}),
        ("+44 20 7946 0958", {"+44 20 7946 0958": 0.7}),
        ("+1 (415) 555-0132", {"+1 (415) 555-0132": 0.7}),
        ("(415) 555-0132", {"(415) 555-0132": 0.5}),
        ("phone 415-555-0132", {"415-555-0132": 0.8}),
        ("+49 30 901820", {"+49 30 901820": 0.7}),
        ("+52 55 1234 5678", {"+52 55 1234 5678": 0.7}),
    ],
)
def test_phone_scores(text: str, expected: dict[str, float]) -> None:
    assert scores(PhoneNumberRecognizer(supported_language="es"), text) == pytest.approx(expected)


@pytest.mark.parametrize(
    "text",
    [
        "pedido 612345678",
        "Pedido #2717171",
        "factura nº 912345678",
        "DNI 12345678 Z",
        "NIF: 07634247 H.",
        "INC-334960",
        "tarjeta 4570 1329 0227 8467",
        "IBAN ES91 2100 0418 4502 0005 1332",
        "nacido el 12-03-1985",
        "Cádiz, CP 11001",
        "fax +34 912 345 679",
        "importe 117,19 €",
    ],
)
def test_phone_not_found_in_other_numbers(text: str) -> None:
    assert found(PhoneNumberRecognizer(), text, threshold=0.01) == []
