"""PCI DSS recognizers analysed directly (no NLP engine): PAN, CVV, expiry, track data, PIN."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import EntityRecognizer

from gateway.plugins.recognizers_pci import (
    CardCvvRecognizer,
    CardExpiryRecognizer,
    CardNumberRecognizer,
    CardPinRecognizer,
    CardTrackDataRecognizer,
)

THRESHOLD = 0.4
LANGUAGES = ["en", "es"]


def found(recognizer: EntityRecognizer, text: str) -> list[str]:
    results = recognizer.analyze(text, recognizer.supported_entities, None)
    return sorted(text[r.start : r.end] for r in results if r.score >= THRESHOLD)


# --- PAN -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Visa 4111 1111 1111 1111.", ["4111 1111 1111 1111"]),
        # Called an order or a ticket, but a major network's card number all the same.
        ("pedido 4111111111111111", ["4111111111111111"]),
        ("ticket 5500 0000 0000 0004 please", ["5500 0000 0000 0004"]),
        ("order ref 3782 822463 10005", ["3782 822463 10005"]),
        ("tarjeta 4111-1111-1111-1111 caducada", ["4111-1111-1111-1111"]),
        ("card 4111.1111.1111.1111", ["4111.1111.1111.1111"]),
        ("4111111111111111", ["4111111111111111"]),
        ("Mastercard 5555 5555 5555 4444", ["5555 5555 5555 4444"]),
        ("amex 3782 822463 10005", ["3782 822463 10005"]),
        ("378282246310005", ["378282246310005"]),
        ("Diners 3056 930902 5904", ["3056 930902 5904"]),
        ("Visa antigua 4222222222222", ["4222222222222"]),
        ("JCB 3530111333300000", ["3530111333300000"]),
        ("19 dígitos 6011 0009 9013 9424 124", ["6011 0009 9013 9424 124"]),
        ("Maestro 6759649826438453", ["6759649826438453"]),
        ("mi tarjeta Maestro 501812345673", ["501812345673"]),
        ("la tarjeta acabada en ... bueno es la 5018 1234 5673.", ["5018 1234 5673"]),
        ("Pago con 4012888888881881 y 2223 3300 0000 007", ["2223 3300 0000 007", "4012888888881881"]),
    ],
)
def test_card_found(language: str, text: str, expected: list[str]) -> None:
    assert found(CardNumberRecognizer(supported_language=language), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Visa 4111 1111 1111 1112",  # fails Luhn
        "4111111111111112",
        "pedido 123456",  # order number
        "pedido 1234567812345670",  # labelled as an order, no card network's prefix: not a card
        "order #1234 5678 1234 5670",
        "nº de pedido: 1234123412341238",
        "501812345673 sin más",  # 12 digits need a card word
        "0000 0000 0000 0000",  # placeholder
        "Importe 1.234,56 € y 2.345.678,90 €",
        "IBAN ES91 2100 0418 4502 0005 1332",  # card-shaped groups inside an IBAN
        "ES9121000418450200051332",
        "tel +34 612 345 678",
        "12345678901234567890123",  # too long
        "IMEI 490154203237518",  # a 15-digit Luhn number that is a device
        "fecha 12/03/1985 y hora 10:30",
    ],
)
def test_card_rejected(text: str) -> None:
    assert found(CardNumberRecognizer(), text) == []


def _luhn_check_digit(payload: str) -> str:
    total = 0
    for i, char in enumerate(reversed(payload)):
        value = int(char) * (2 if i % 2 == 0 else 1)
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


@settings(database=None, deadline=None, max_examples=60)
@given(payload=st.text(alphabet="0123456789", min_size=15, max_size=15).filter(lambda s: len(set(s)) > 1))
def test_any_luhn_valid_16_digit_number_is_a_card_and_a_wrong_check_digit_is_not(payload: str) -> None:
    check = _luhn_check_digit(payload)
    pan = payload + check
    grouped = " ".join(pan[i : i + 4] for i in range(0, 16, 4))
    assert found(CardNumberRecognizer(), f"tarjeta {grouped}.") == [grouped]
    wrong = payload + str((int(check) + 1) % 10)
    assert found(CardNumberRecognizer(), f"tarjeta {wrong}.") == []


def test_luhn_valid_card_scores_high_without_context() -> None:
    results = CardNumberRecognizer().analyze("4111111111111111", ["CREDIT_CARD"], None)
    assert [r.score for r in results] == [1.0]


# --- CVV, expiry, PIN: only with their words -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CVV: 123", ["123"]),
        ("el CVV2 es 987", ["987"]),
        ("CVC 4567", ["4567"]),
        ("código de seguridad 321", ["321"]),
        ("Security code (back of card): 852", ["852"]),
        ("los dígitos de atrás 741", ["741"]),
    ],
)
def test_cvv_found(text: str, expected: list[str]) -> None:
    assert found(CardCvvRecognizer(supported_language="es"), text) == expected


@pytest.mark.parametrize(
    "text",
    ["pedido 123", "son 123 euros", "CVV: no lo tengo", "CVV 12", "CVV 12345", "código de seguridad de 3 dígitos"],
)
def test_cvv_rejected(text: str) -> None:
    assert found(CardCvvRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("exp 09/27", ["09/27"]),
        ("Expiry: 12/2027", ["12/2027"]),
        ("expires 1/28", ["1/28"]),
        ("caduca el 09-27", ["09-27"]),
        ("fecha de caducidad: 11/26", ["11/26"]),
        ("vencimiento 03 / 29", ["03 / 29"]),
        ("válida hasta 07/2030", ["07/2030"]),
    ],
)
def test_expiry_found(text: str, expected: list[str]) -> None:
    assert found(CardExpiryRecognizer(), text) == expected


@pytest.mark.parametrize("text", ["09/27", "el 12/03 llegó", "caduca 13/27", "exp 00/27", "versión 10/2"])
def test_expiry_rejected(text: str) -> None:
    assert found(CardExpiryRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PIN 4821", ["4821"]),
        ("el PIN de mi tarjeta es 0000", ["0000"]),
        ("mi clave es 123456", ["123456"]),
        ("número secreto: 9876", ["9876"]),
        ("PIN block 0412AC89FFFFFFFF", ["0412AC89FFFFFFFF"]),
        ("bloque de PIN: 0412ac89ffffffff", ["0412ac89ffffffff"]),
    ],
)
def test_pin_found(text: str, expected: list[str]) -> None:
    assert found(CardPinRecognizer(), text) == expected


@pytest.mark.parametrize("text", ["pedido 4821", "PIN 12", "PIN olvidado", "PIN block ABCDEFG"])
def test_pin_rejected(text: str) -> None:
    assert found(CardPinRecognizer(), text) == []


# --- track data ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%B4111111111111111^DOE/JOHN^2512101000000000000?", ["%B4111111111111111^DOE/JOHN^2512101000000000000?"]),
        ("pista 2: ;4111111111111111=25121010000000000?", [";4111111111111111=25121010000000000?"]),
        ("B5555555555554444^GARCIA/ANA ^27011010000000?", ["B5555555555554444^GARCIA/ANA ^27011010000000?"]),
        ("4111111111111111=2512101123", ["4111111111111111=2512101123"]),
    ],
)
def test_track_data_found(text: str, expected: list[str]) -> None:
    assert found(CardTrackDataRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "%B4111111111111112^DOE/JOHN^2512101000000000000?",  # PAN fails Luhn
        ";4111111111111112=25121010000000000?",
        "a=b^c",
        "x=2512",
    ],
)
def test_track_data_rejected(text: str) -> None:
    assert found(CardTrackDataRecognizer(), text) == []
