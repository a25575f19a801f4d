"""HIPAA vehicle and device identifiers: VINs, licence plates, IMEIs and serial numbers.

Registered by :mod:`recognizers_hipaa`. A VIN's 9th character and an IMEI's last digit are check
digits, so those two stand on their own; plates and serial numbers need a word in front of them,
except the current Spanish plate (``1234 BCD``), whose consonant-only letters make it distinctive.
"""

from __future__ import annotations

from typing import ClassVar

from presidio_analyzer import Pattern

from .recognizers_common import (
    AduanaPatternRecognizer,
    after_context,
    identifier,
    luhn_valid,
)

_VIN_CHARS = "A-HJ-NPR-Z0-9"  # I, O and Q are never used
_VIN = rf"(?-i:(?=[{_VIN_CHARS}]*[A-HJ-NPR-Z])(?=[{_VIN_CHARS}]*\d)[{_VIN_CHARS}]{{17}})"
_VIN_VALUES: dict[str, int] = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)


class VinRecognizer(AduanaPatternRecognizer):
    """VEHICLE_ID: a 17-character VIN whose 9th character is the ISO 3779 check digit.

    European manufacturers often leave position 9 unchecked; those VINs are found by
    :class:`VehiclePlateRecognizer` when "VIN" or "bastidor" precedes them.
    """

    ENTITY = "VEHICLE_ID"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("VIN", r"(?<![\w\-])" + _VIN + r"(?![\w\-])", 0.5),
    ]
    CONTEXT: ClassVar[list[str]] = ["vin", "bastidor", "chasis", "vehicle", "vehículo"]

    def checksum(self, value: str) -> bool | None:
        """Check the weighted sum modulo 11 against position 9 ("X" for 10)."""
        if len(value) != 17 or any(c not in _VIN_VALUES for c in value):
            return False
        total = sum(_VIN_VALUES[c] * w for c, w in zip(value, _VIN_WEIGHTS, strict=True)) % 11
        return value[8] == ("X" if total == 10 else str(total))


# Consonant-only codes that follow amounts and measures, not plates ("1500 DKK", "3000 RPM").
_NOT_PLATES = frozenset({
    "GBP", "CHF", "DKK", "CZK", "PLN", "MXN", "SGD", "HKD", "NZD", "CNY", "JPY", "KRW", "TRY", "HRK",
    "BGN", "RSD", "KWD", "BHD", "RPM", "KWH", "MPH", "BPM", "FPS", "GHZ", "MHZ", "KHZ", "DPI", "PPM",
})


class VehiclePlateRecognizer(AduanaPatternRecognizer):
    """VEHICLE_ID: Spanish plates (``1234 BCD``) and any plate or VIN after "matrícula", "plate", "VIN"."""

    ENTITY = "VEHICLE_ID"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "Spanish plate",
            r"(?<![\w\-])\d{4}[ \-]?(?-i:[BCDFGHJKLMNPRSTVWXYZ]{3})(?![\w\-])",
            0.4,
        ),
        Pattern(
            "plate or VIN after context",
            after_context(
                [r"matr[ií]cula", r"placa", r"license\s+plate", r"licence\s+plate", r"plate",
                 r"number\s+plate", r"registration(?:\s+(?:number|no|plate))?", r"vin",
                 r"bastidor", r"chasis", r"n[uú]mero\s+de\s+bastidor",
                 r"vehicle\s+identification\s+number"],
                3,
            )
            + r"(?-i:(?=[A-Z0-9 \-]*\d)(?=[0-9 \-]*[A-Z])"
            + r"(?:[A-Z0-9]{1,4}(?:[ \-]?[A-Z0-9]{1,4}){1,2}|[A-HJ-NPR-Z0-9]{17}))(?![\w\-])",
            0.7,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "matrícula", "placa", "plate", "registration", "vehículo", "coche", "vehicle",
    ]

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """Drop currencies and units that look like plate letters ("1500 DKK")."""
        return pattern_text[-3:].upper() in _NOT_PLATES


class ImeiRecognizer(AduanaPatternRecognizer):
    """DEVICE_ID: a Luhn-valid 15-digit IMEI, after "IMEI" or in its printed 2-6-6-1 grouping.

    A bare run of 15 digits is left alone: it is far more often an Amex/Diners card number.
    """

    ENTITY = "DEVICE_ID"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "IMEI after context",
            after_context([r"imei", r"imei\s+(?:number|no)", r"n[uú]mero\s+imei"], 2)
            + r"\d{2}[ \-/]?\d{6}[ \-/]?\d{6}[ \-/]?\d(?![\w\-]|[ .,]\d)",
            0.8,
        ),
        Pattern(
            "IMEI grouped 2-6-6-1",
            r"(?<![\w\-])(?<!\d[ .])\d{2}(?P<g>[ \-/])\d{6}(?P=g)\d{6}(?P=g)\d(?![\w\-]|[ .,]\d)",
            0.5,
        ),
    ]
    REPLACEMENT_PAIRS = ((" ", ""), ("-", ""), ("/", ""))
    CONTEXT: ClassVar[list[str]] = ["imei", "móvil", "phone", "dispositivo", "device"]

    def checksum(self, value: str) -> bool | None:
        """Luhn over the 15 digits."""
        return len(value) == 15 and luhn_valid(value)


class SerialNumberRecognizer(AduanaPatternRecognizer):
    """DEVICE_ID: serial numbers and device identifiers after "serial", "S/N", "número de serie"…"""

    ENTITY = "DEVICE_ID"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "serial or device id after context",
            after_context(
                [r"serial(?:\s+(?:number|no|num))?", r"s/n", r"sn", r"n[º°]\s*(?:de\s+)?serie",
                 r"n[uú]mero\s+de\s+serie", r"device\s+(?:id|identifier)",
                 r"id\s+del\s+dispositivo", r"identificador\s+del\s+dispositivo", r"udid",
                 r"meid", r"hardware\s+id", r"asset\s+tag", r"android\s+id", r"idfa",
                 r"advertising\s+id", r"serie"],
                2,
            )
            + identifier(4, 40),
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["serial", "serie", "device", "dispositivo", "udid"]
