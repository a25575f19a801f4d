"""Dates (HIPAA: every date but the year that relates to a person), Spanish and English forms.

Registered by :mod:`recognizers_hipaa`. Presidio's ``DateRecognizer`` covers ISO and numeric
formats; this one adds day-first Spanish numeric dates, ``3 de marzo de 1985``, ``March 3, 1985`` and
``3 March 1985``, ISO timestamps with their time (``2000-06-16 01:27:32.192755``; Presidio stops at
the date and leaves the time), and drops impossible calendar dates ("31/02/1985").
"""

from __future__ import annotations

import datetime
import re
from typing import ClassVar

from presidio_analyzer import Pattern

from .recognizers_common import AduanaPatternRecognizer

_ES_MONTHS = (
    "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
    "noviembre", "diciembre",
)
_EN_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december",
)
#: Month names and abbreviations (Spanish and English) to month numbers.
MONTHS: dict[str, int] = {
    **{name: i for i, name in enumerate(_ES_MONTHS, start=1)},
    **{name[:3]: i for i, name in enumerate(_ES_MONTHS, start=1)},
    **{name: i for i, name in enumerate(_EN_MONTHS, start=1)},
    **{name[:3]: i for i, name in enumerate(_EN_MONTHS, start=1)},
    "setiembre": 9,
    "sept": 9,
}
_ES_MONTH = (
    r"(?i:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|"
    r"diciembre)"
)
_EN_MONTH = (
    r"(?i:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[89]\d{2}|20\d{2})"
_ORD = r"(?i:st|nd|rd|th|º)?"
_B = r"(?<![\p{L}\d/.\-])"  # not inside a longer token
_E = r"(?![\p{L}\d]|[/\-]\d|\.\d)"
_NUMBER = re.compile(r"\d+")
_WORD = re.compile(r"[^\W\d_]+")
_ISO = re.compile(r"\d{4}-")


class DateOfBirthRecognizer(AduanaPatternRecognizer):
    """DATE_TIME: ``12/03/1985``, ``12-03-1985``, ``3 de marzo de 1985``, ``March 3, 1985``."""

    ENTITY = "DATE_TIME"
    REPLACEMENT_PAIRS = ()
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "numeric date, 4-digit year",
            _B + rf"(?:{_DAY}(?P<s>[/.\-]){_MONTH}(?P=s)|{_MONTH}(?P<t>[/.\-]){_DAY}(?P=t)){_YEAR}"
            + _E,
            0.6,
        ),
        Pattern(
            "Spanish long date",
            _B + rf"{_DAY}{_ORD}[ \t]+de[ \t]+{_ES_MONTH}[ \t]+(?i:de|del)[ \t]+{_YEAR}" + _E,
            0.7,
        ),
        Pattern(
            "Spanish day and month (no year)",
            _B + rf"{_DAY}{_ORD}[ \t]+de[ \t]+{_ES_MONTH}(?![\p{{L}}])",
            0.3,
        ),
        Pattern(
            "ISO date and time (seconds, fractions, zone)",
            r"(?<![\p{L}\d/.\-])" + _YEAR + r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])[T ]"
            r"(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?(?:Z|[+\-]\d{2}:?\d{2})?"
            r"(?![\p{L}\d])",
            0.6,
        ),
        Pattern("English month-first date", _B + rf"{_EN_MONTH}[ \t]+{_DAY}{_ORD},?[ \t]+{_YEAR}" + _E, 0.7),
        Pattern(
            "English day-first date",
            _B + rf"{_DAY}{_ORD}[ \t]+(?:of[ \t]+)?{_EN_MONTH},?[ \t]+{_YEAR}" + _E,
            0.7,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "nacimiento", "nacido", "nacida", "nací", "fecha", "cumpleaños", "birth", "born", "dob",
        "birthday",
    ]

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """Drop dates that do not exist in the calendar, in either day/month order."""
        numbers = [int(n) for n in _NUMBER.findall(pattern_text)]
        if _ISO.match(pattern_text):
            return not _exists(numbers[0], numbers[1], numbers[2])
        month_names = [MONTHS[w] for w in _WORD.findall(pattern_text.lower()) if w in MONTHS]
        if month_names:
            day, month = numbers[0], month_names[0]
            year = numbers[1] if len(numbers) > 1 else 2000  # 2000 is a leap year: 29 Feb exists
            return not _exists(year, month, day)
        first, second, year = numbers
        return not (_exists(year, second, first) or _exists(year, first, second))


def _exists(year: int, month: int, day: int) -> bool:
    """Return whether the date exists."""
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True
