"""Phone numbers by their written shape and by the words around them, for what libphonenumber rejects.

Registered by :mod:`recognizers_es` next to :class:`~recognizers_es_phone.PhoneNumberRecognizer`.
That recognizer keeps only numbers libphonenumber finds *valid* in one of a dozen regions: a real
number from another country (``(73) 4746-3459`` in Brazil), a number with an extension
(``650-752-7354x549``), a 7-digit local number (``439 4166``) or one in a numbering plan the
library does not know is lost. A customer writing a number does not care whether it is allocated:
it is still their number. This recognizer keeps shapes that are phone numbers however they are
grouped (``+CC`` and groups, a bracketed area code, North American 3-3-4) and, after a phone word
("phone:", "call me on", "mobile") or before a line label ("… office", "… mobile"), any run of
digit groups with 6 to 15 digits; :class:`GluedPhoneLabelRecognizer` takes a label glued on with a
hyphen ("…-Office"). Order numbers, cards and IDs after their own labels are refused.
"""

from __future__ import annotations

from typing import ClassVar

import regex
from presidio_analyzer import Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from .recognizers_common import NOT_AFTER_ORDER_WORDS, AduanaLocalRecognizer, AduanaPatternRecognizer

# Not after an order word, nor after "fax" (FAX_NUMBER, from the HIPAA recognizers).
_START = (
    r"(?<![\w+(\-/.,])(?<!\d[ .\-])(?<!(?i:fax|telefax|facs[ií]mil)[^\w\n]{1,4})"
    + NOT_AFTER_ORDER_WORDS
)
# A label may be glued on with a hyphen ("(73) 4746-3459-Office"); another digit group may not.
_END = r"(?![\w/]|[.,\-]\d|[ .\-]\d)"
_EXT = r"(?:[ \t]?(?i:x|ext\.?|extension)[ \t]?\d{1,5})?"
#: Digit groups joined by single separators, optionally led by "+" or a bracketed group.
_GROUPS = r"(?:\+|\(\+?)?\d{1,5}\)?(?:[ .\-]?\(?\d{1,5}\)?){0,6}"
_PHONE_WORDS = (
    r"(?i:phone|telephone|tel|mobile|cell|cellphone|landline|whatsapp|sms|call(?:\s+me)?(?:\s+(?:on|at))?|"
    r"ring(?:\s+me)?(?:\s+(?:on|at))?|text(?:\s+me)?(?:\s+(?:on|at))?|reach(?:\s+me)?\s+(?:on|at)|"
    r"answering\s+at|messages\s+to|contact\s+number|phone\s+number|mobile\s+number|cell\s+number|"
    r"registered|(?:desk|direct(?:\s+line)?)(?=[ \t]*:))"
)
#: A phone word, then up to one label-like line break ("Phone:\n439 4166").
_AFTER_PHONE_WORD = (
    r"(?<=(?<![\p{L}])" + _PHONE_WORDS + r"(?:\s+(?i:number|no\.?|#))?[ \t]*[:\-]?[ \t]*(?:\r?\n[ \t]*)?)"
)
_LABELS = r"(?i:office|mobile|cell|home|work|landline|direct|phone|tel|fax)(?![\p{L}])"
_LINE_LABEL = r"(?=[ \t]+" + _LABELS + ")"
#: A label glued on with a hyphen ("669 742 441-Office\\,+41 59 784 73 89-Fax"): the number may follow a
#: comma that does not follow a digit (a list of numbers, not a thousands separator).
_GLUED_START = r"(?=[\d(+])(?<![\w+(\-/.])(?<!\d,)(?<!\d[ .\-])" + NOT_AFTER_ORDER_WORDS
_GLUED_LABEL = r"(?=-" + _LABELS + ")"
#: The fax recognizer (HIPAA) stops at an extension: a fax number with one is taken here.
_AFTER_FAX = r"(?<=(?<![\p{L}])(?i:fax|telefax)[ \t]*[:\-]?[ \t]*)"
_EXT_REQUIRED = r"[ \t]?(?i:x|ext\.?|extension)[ \t]?\d{1,5}"


class PhoneShapeRecognizer(AduanaPatternRecognizer):
    """PHONE_NUMBER: numbers written as phone numbers, valid in a numbering plan or not."""

    ENTITY = "PHONE_NUMBER"
    REPLACEMENT_PAIRS = ()
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "international (+CC groups)",
            _START + r"(?:\(\+\d{1,3}\)|\+\d{1,3})(?:[ .\-]?\(?\d{1,5}\)?){2,6}" + _EXT + _END,
            0.6,
        ),
        Pattern(
            "bracketed area code",
            _START + r"(?:\+?\d{1,3}[ .\-]?)?\(\d{1,4}\)[ .\-]?\d{3,4}[ .\-]?\d{4}" + _EXT + _END,
            0.6,
        ),
        Pattern(
            "North American 3-3-4",
            _START + r"(?:\+?1[ .\-])?\d{3}([.\-])\d{3}\1\d{4}" + _EXT + _END,
            0.6,
        ),
        Pattern("digit groups after a phone word", _AFTER_PHONE_WORD + _GROUPS + _EXT + _END, 0.6),
        Pattern("digit groups before a phone label", _START + _GROUPS + _EXT + _LINE_LABEL, 0.6),
        Pattern("fax number with an extension", _AFTER_FAX + _GROUPS + _EXT_REQUIRED + _END, 0.6),
    ]
    CONTEXT: ClassVar[list[str]] = ["phone", "telephone", "mobile", "cell", "call"]

    def checksum(self, value: str) -> bool | None:
        """Keep 6 to 15 digits (ITU E.164), not counting an extension; no run of one digit."""
        return None if _phone_digits(value) else False


def _phone_digits(value: str) -> bool:
    """6 to 15 digits (ITU E.164), not counting an extension, and not one digit repeated."""
    digits = [c for c in value.split("x")[0].split("X")[0].split("ext")[0] if c.isdigit()]
    return 6 <= len(digits) <= 15 and len(set(digits)) > 1


_GLUED_CUE = regex.compile(r"[\d)]-" + _LABELS)
_GLUED = regex.compile(_GLUED_START + _GROUPS + _EXT + _GLUED_LABEL)


class GluedPhoneLabelRecognizer(AduanaLocalRecognizer):
    """PHONE_NUMBER: digit groups with a label glued on by a hyphen ("669 742 441-Office\\,+41 59 784 73 89-Fax").

    Contact cards exported from address books write every number so, listed after a comma. A quick
    scan for a digit and "-Office"/"-Fax"/… comes first: most text has none.
    """

    ENTITY = "PHONE_NUMBER"
    SCORE = 0.6

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the numbers of ``text`` that carry a glued-on phone label."""
        if self.ENTITY not in entities or not _GLUED_CUE.search(text):
            return []
        return [
            self.result(m.start(), m.end(), self.SCORE)
            for m in _GLUED.finditer(text) if _phone_digits(m.group())
        ]
