"""HIPAA Safe Harbor recognizers analysed directly (no NLP engine), English and Spanish context."""

from __future__ import annotations

import pytest
from presidio_analyzer import EntityRecognizer

from gateway.plugins.recognizers_hipaa import (
    AccountNumberRecognizer,
    BiometricIdRecognizer,
    FaxNumberRecognizer,
    HealthPlanIdRecognizer,
    LicenseNumberRecognizer,
    MedicalRecordNumberRecognizer,
    SpanishBankAccountRecognizer,
)
from gateway.plugins.recognizers_hipaa_dates import DateOfBirthRecognizer
from gateway.plugins.recognizers_hipaa_devices import (
    ImeiRecognizer,
    SerialNumberRecognizer,
    VehiclePlateRecognizer,
    VinRecognizer,
)

THRESHOLD = 0.4


def found(recognizer: EntityRecognizer, text: str, threshold: float = THRESHOLD) -> list[str]:
    results = recognizer.analyze(text, recognizer.supported_entities, None)
    return sorted(text[r.start : r.end] for r in results if r.score >= threshold)


CASES: list[tuple[type[EntityRecognizer], str, list[str]]] = [
    # medical record numbers
    (MedicalRecordNumberRecognizer, "MRN: 00123456.", ["00123456"]),
    (MedicalRecordNumberRecognizer, "Medical record number A-77120 attached", ["A-77120"]),
    (MedicalRecordNumberRecognizer, "Nº historia clínica 998877", ["998877"]),
    (MedicalRecordNumberRecognizer, "NHC: HC2024-0042", ["HC2024-0042"]),
    (MedicalRecordNumberRecognizer, "paciente nº 5566778", ["5566778"]),
    # health plans
    (HealthPlanIdRecognizer, "Member ID: XYZ123456789", ["XYZ123456789"]),
    (HealthPlanIdRecognizer, "policy number POL-99812-A", ["POL-99812-A"]),
    (HealthPlanIdRecognizer, "número de afiliado 0800123456", ["0800123456"]),
    (HealthPlanIdRecognizer, "tarjeta sanitaria BBBB123456789012", ["BBBB123456789012"]),
    (HealthPlanIdRecognizer, "CIP: ABCD 1234 5678 9012", ["ABCD 1234 5678 9012"]),
    (HealthPlanIdRecognizer, "Medicare 1EG4-TE5-MK73", ["1EG4-TE5-MK73"]),
    # fax
    (FaxNumberRecognizer, "Fax: +34 912 345 679", ["+34 912 345 679"]),
    (FaxNumberRecognizer, "fax (415) 555-0199", ["(415) 555-0199"]),
    (FaxNumberRecognizer, "Nº de fax 912345679.", ["912345679"]),
    # licences and certificates
    (LicenseNumberRecognizer, "Driver's license D1234567", ["D1234567"]),
    (LicenseNumberRecognizer, "permiso de conducir 12345678Z", ["12345678Z"]),
    (LicenseNumberRecognizer, "Nº de colegiado 282812345", ["282812345"]),
    (LicenseNumberRecognizer, "certificate no. CERT-2024-0091", ["CERT-2024-0091"]),
    # accounts
    (AccountNumberRecognizer, "Account number 12345678", ["12345678"]),
    (AccountNumberRecognizer, "acct #: 0099-887766", ["0099-887766"]),
    (AccountNumberRecognizer, "nº de cuenta: 1234 5678 90", ["1234 5678 90"]),
    (AccountNumberRecognizer, "mi número de cliente es C-0045521", ["C-0045521"]),
    (SpanishBankAccountRecognizer, "CCC 2100 0418 45 0200051332", ["2100 0418 45 0200051332"]),
    (SpanishBankAccountRecognizer, "21000418450200051332", ["21000418450200051332"]),
    (SpanishBankAccountRecognizer, "2100-0418-4502-0005-1332", ["2100-0418-4502-0005-1332"]),
    # biometrics
    (BiometricIdRecognizer, "fingerprint template FP-88421-XK", ["FP-88421-XK"]),
    (BiometricIdRecognizer, "huella dactilar: 3fa85f6457174562", ["3fa85f6457174562"]),
    (BiometricIdRecognizer, "iris scan id IRS0042231", ["IRS0042231"]),
    (BiometricIdRecognizer, "voiceprint VP_20240311_77", ["VP_20240311_77"]),
    # vehicles
    (VinRecognizer, "VIN 1M8GDM9AXKP042788", ["1M8GDM9AXKP042788"]),
    (VinRecognizer, "1HGCM82633A004352.", ["1HGCM82633A004352"]),
    (VehiclePlateRecognizer, "mi coche 1234 BCD", ["1234 BCD"]),
    (VehiclePlateRecognizer, "matrícula 1234-BCD", ["1234-BCD"]),
    (VehiclePlateRecognizer, "matrícula antigua M-1234-AB", ["M-1234-AB"]),
    (VehiclePlateRecognizer, "license plate 7ABC123", ["7ABC123"]),
    (VehiclePlateRecognizer, "nº de bastidor WVWZZZ1JZXW000001", ["WVWZZZ1JZXW000001"]),
    # devices
    (ImeiRecognizer, "IMEI 490154203237518", ["490154203237518"]),
    (ImeiRecognizer, "49-015420-323751-8", ["49-015420-323751-8"]),
    (SerialNumberRecognizer, "S/N: C02XK0ABJGH5", ["C02XK0ABJGH5"]),
    (SerialNumberRecognizer, "número de serie 12AB-34CD", ["12AB-34CD"]),
    (
        SerialNumberRecognizer,
        "device id 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
        ["3f2504e0-4f89-11d3-9a0c-0305e82c3301"],
    ),
]


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(("cls", "text", "expected"), CASES, ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_found(cls: type[EntityRecognizer], language: str, text: str, expected: list[str]) -> None:
    assert found(cls(supported_language=language), text) == expected


NEGATIVES: list[tuple[type[EntityRecognizer], str]] = [
    (MedicalRecordNumberRecognizer, "MRN: pending"),
    (MedicalRecordNumberRecognizer, "pedido 00123456"),
    (HealthPlanIdRecognizer, "member since 2019"),
    (HealthPlanIdRecognizer, "ABCD123456789012"),  # CIP shape without context stays below threshold
    (FaxNumberRecognizer, "fax 12"),
    (FaxNumberRecognizer, "teléfono +34 912 345 679"),
    (LicenseNumberRecognizer, "license plate 7ABC123"),
    (LicenseNumberRecognizer, "licencia pendiente"),
    (AccountNumberRecognizer, "cuenta ES91 2100 0418 4502 0005 1332"),  # an IBAN, not ours
    (AccountNumberRecognizer, "pedido 12345678"),
    (AccountNumberRecognizer, "cuenta 123"),
    (SpanishBankAccountRecognizer, "2100 0418 46 0200051332"),  # wrong control digits
    (SpanishBankAccountRecognizer, "ES91 2100 0418 4502 0005 1332"),
    (BiometricIdRecognizer, "fingerprint reader broken"),
    (VinRecognizer, "VIN 1M8GDM9AYKP042788"),  # wrong check digit
    (VinRecognizer, "1HGCM82643A004352"),
    (VinRecognizer, "ABCDEFGHIJKLMNOPQ"),
    (VehiclePlateRecognizer, "me cobraron 1500 DKK"),
    (VehiclePlateRecognizer, "pedido 1234 y BCD"),
    (VehiclePlateRecognizer, "matrícula de la universidad 2024"),
    (ImeiRecognizer, "IMEI 490154203237519"),  # fails Luhn
    (ImeiRecognizer, "490154203237518"),  # bare 15 digits: more likely a card
    (SerialNumberRecognizer, "serial killer documentary"),
    (SerialNumberRecognizer, "número de serie: no lo encuentro"),
]


@pytest.mark.parametrize(("cls", "text"), NEGATIVES, ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_not_found(cls: type[EntityRecognizer], text: str) -> None:
    assert found(cls(supported_language="es"), text) == []


# --- dates ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fecha de nacimiento: 12/03/1985.", ["12/03/1985"]),
        ("nacido el 12-03-1985, DNI", ["12-03-1985"]),
        ("nací el 3-7-1990", ["3-7-1990"]),
        ("el 3 de marzo de 1985", ["3 de marzo de 1985"]),
        ("el 1º de enero del 2001", ["1º de enero del 2001"]),
        ("born March 3, 1985", ["March 3, 1985"]),
        ("DOB: 3 March 1985", ["3 March 1985"]),
        ("on the 21st of Sept. 1999", ["21st of Sept. 1999"]),
        ("12/31/1985 (US order)", ["12/31/1985"]),
        ("29/02/2000", ["29/02/2000"]),
    ],
)
def test_dates_found(language: str, text: str, expected: list[str]) -> None:
    assert found(DateOfBirthRecognizer(supported_language=language), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "31/02/1985",  # no such day
        "29/02/2001",
        "31 de abril de 1990",
        "February 30, 1990",
        "versión 2.4.1",
        "pedido 123456",
        "el 3 de marzo",  # no year: kept below the threshold, raised by context in the engine
        "12/03/85 no tiene siglo",  # two-digit years are Presidio's DateRecognizer's
    ],
)
def test_dates_rejected(text: str) -> None:
    assert found(DateOfBirthRecognizer(), text) == []
