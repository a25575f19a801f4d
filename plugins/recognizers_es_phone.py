"""Phone numbers, Spanish first: ``+34``/``0034``, national ``612 345 678``, and international ones.

Uses ``phonenumbers`` (libphonenumber) at its VALID leniency, trying several regions, because a
number is only "national" relative to a country: ``612 345 678`` is Spanish, ``(415) 555-0132`` is
American. Presidio's own ``PhoneRecognizer`` tries US-centred regions and nothing decides between a
phone and the digits of a card, an IBAN or a DNI; this one does, and scores by how much a candidate
looks like a phone: an international prefix is strong, a grouped national number is medium, and a
bare run of 9 digits is weak unless a phone word ("móvil", "llamar", "phone") precedes it.
"""

from __future__ import annotations

import functools
import re
from typing import ClassVar

import phonenumbers
from phonenumbers import Leniency
from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    LocalRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts

#: Regions tried for national-format numbers (numbers with ``+``/``00`` are found from any region).
#: Each region costs a libphonenumber pass per candidate, so the list is the customers' countries.
PHONE_REGIONS: tuple[str, ...] = ("ES", "US", "GB", "DE", "FR", "IT", "PT", "MX", "AR", "CO", "CL", "PE")

_PHONE_WORDS = re.compile(
    r"(?i)(?<![^\W\d_])(?:tel[eé]fonos?|tel|tlf|tfno|telf|m[oó]vil(?:es)?|celular|ll[aá]m\w*|"
    r"contact\w*|whats\s?app|l[ií]nea|fijo|phone|mobile|cell|call(?:s|ed|ing)?|ring|tel[eé]f)(?![^\W\d_])"
)
# "el número 612345678": "número" right before the digits, with no other label, means a phone.
_WEAK_PHONE_WORDS = re.compile(r"(?i)(?<![^\W\d_])(?:n[uú]mero|number)\s*:?\s*$")
# Words after which a number is something else: an order, an ID, a card, a fax (FAX_NUMBER).
_OTHER_WORDS = re.compile(
    r"(?i)(?<![^\W\d_])(?:pedidos?|order|factura|invoice|albar[aá]n|ref|referencia|reference|"
    r"expediente|ticket|incidencia|solicitud|caso|case|dni|nif|nie|cif|pasaporte|passport|"
    r"tarjeta|card|cuenta|account|iban|cp|c\.p|postal|zip|fax|importe|amount|total|cliente|"
    r"customer|socio|member|serie|serial|imei|n[º°]\s*de\s*(?:pedido|cliente))(?![^\W\d_])"
)
# A fax number is FAX_NUMBER, even with an international prefix.
_FAX_WORDS = re.compile(r"(?i)(?<![^\W\d_])(?:fax|telefax|facs[ií]mil)(?![^\W\d_])")
# A phone-number candidate: digits joined by single separators or brackets, led by "+", "(" or
# "(+" at most, and not continuing a word or another number. libphonenumber only sees these short
# strings: given a whole text, its matcher slows to seconds on long runs of digit groups.
_CANDIDATE = re.compile(
    r"(?<![\w+(])(?<!\d[ .\-])"
    r"(?:\(\+?|\+)?\d(?:\d|[ .\-/]?\((?=\d)|\)[ .\-]?(?=\d)|[ .\-/](?=[\d(]))*"
)
_MAX_CANDIDATE_CHARS = 32  # longer chains of digit groups are cards, IBANs, dumps: not one phone
_MIN_DIGITS = 6
_CONTEXT_WINDOW = 40
_MIN_NATIONAL_DIGITS = 7  # shorter "valid" numbers in some plans are postcodes and order numbers
_BEFORE_REJECT = re.compile(r"(?:\w|\w[-/]|\d[.,]|\d[ .-])$")
_AFTER_REJECT = re.compile(r"^(?:\w|[-/.,]\d|[ .-]\d|[ -]?(?-i:[A-Z])(?!\w))")


class PhoneNumberRecognizer(LocalRecognizer):
    """PHONE_NUMBER via libphonenumber across several regions, with Spanish and English context."""

    ENTITY = "PHONE_NUMBER"
    name: str  # set by EntityRecognizer.__init__; declared for type checkers
    INTERNATIONAL_SCORE = 0.7
    GROUPED_SCORE = 0.5
    BARE_SCORE = 0.3
    CONTEXT_BOOST = 0.3
    CONTEXT: ClassVar[list[str]] = [
        "teléfono", "telefono", "móvil", "movil", "llamar", "llamadme", "contacto", "línea",
        "whatsapp", "phone", "mobile", "telephone",
    ]

    def __init__(
        self,
        supported_language: str = "en",
        regions: tuple[str, ...] = PHONE_REGIONS,
        name: str | None = None,
    ) -> None:
        self.regions = regions
        super().__init__(
            supported_entities=[self.ENTITY],
            supported_language=supported_language,
            context=list(self.CONTEXT),
            name=name if name is not None else type(self).__name__,
        )

    def load(self) -> None:
        """Nothing to load: ``phonenumbers`` ships its metadata."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Find phone numbers in ``text``; ``entities`` and ``nlp_artifacts`` are not needed."""
        spans: dict[tuple[int, int], str] = {}
        for candidate in _CANDIDATE.finditer(text):
            raw = candidate.group()
            if len(raw) > _MAX_CANDIDATE_CHARS or sum(c.isdigit() for c in raw) < _MIN_DIGITS:
                continue
            for rel_start, rel_end, region in _phones_in(raw, self.regions):
                start, end = _trim_brackets(
                    text, candidate.start() + rel_start, candidate.start() + rel_end
                )
                if (start, end) not in spans and not self._looks_like_other(text, start, end):
                    spans[(start, end)] = region
        results = [self._result(text, start, end, region) for (start, end), region in spans.items()]
        return EntityRecognizer.remove_duplicates([r for r in results if r.score > 0])

    @staticmethod
    def _looks_like_other(text: str, start: int, end: int) -> bool:
        """Reject digits glued to a longer code (card, IBAN, ``INC-334960``, a DNI's letter)."""
        return bool(_BEFORE_REJECT.search(text[max(0, start - 2) : start])) or bool(
            _AFTER_REJECT.search(text[end : end + 3])
        )

    def _result(self, text: str, start: int, end: int, region: str) -> RecognizerResult:
        raw = text[start:end]
        international = raw.lstrip("(").startswith(("+", "00"))
        if international:
            score = self.INTERNATIONAL_SCORE
        elif raw.isdigit():
            score = self.BARE_SCORE
        else:
            score = self.GROUPED_SCORE
        window = text[max(0, start - _CONTEXT_WINDOW) : start]
        window = window.rsplit("\n\n", 1)[-1]
        phone_word = _last_match_end(_PHONE_WORDS, window)
        other_word = _last_match_end(_OTHER_WORDS, window)
        if phone_word < 0 and other_word < 0:
            phone_word = _last_match_end(_WEAK_PHONE_WORDS, window)
        boosted = False
        if _fax_label_end(window) > phone_word:
            score = 0.0
        elif not international and (
            other_word > phone_word or sum(c.isdigit() for c in raw) < _MIN_NATIONAL_DIGITS
        ):
            score = 0.0  # "pedido 612345678", "DNI 12345678": the nearest label says what it is
        elif phone_word >= 0:
            score = min(1.0, score + self.CONTEXT_BOOST)
            boosted = True
        explanation = AnalysisExplanation(
            recognizer=self.name,
            original_score=score,
            textual_explanation=f"Valid phone number for region {region} (libphonenumber)",
        )
        return RecognizerResult(
            entity_type=self.ENTITY,
            start=start,
            end=end,
            score=score,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: boosted,
            },
        )


@functools.lru_cache(maxsize=4096)
def _phones_in(candidate: str, regions: tuple[str, ...]) -> tuple[tuple[int, int, str], ...]:
    """Return ``(start, end, region)`` of the numbers libphonenumber finds in ``candidate``.

    Regions are tried in order and the first that finds a number wins: a number only needs one
    country to be valid in. Cached, because tickets repeat their numbers.
    """
    for region in regions:
        found = tuple(
            (match.start, match.end, region)
            for match in phonenumbers.PhoneNumberMatcher(candidate, region, leniency=Leniency.VALID)
        )
        if found:
            return found
    return ()


def _fax_label_end(window: str) -> int:
    """Return where a fax word before the number ends in ``window``, or -1.

    Only the number's own line counts, plus the line above when it is a bare label ("Fax:"): in a
    contact block "+41 53 147 37 99 fax" labels the line it ends, not the mobile number below it.
    """
    lines = window.split("\n")
    scope = lines[-1]
    if len(lines) > 1 and lines[-2].rstrip().endswith(":"):
        scope = lines[-2] + "\n" + scope
    end = _last_match_end(_FAX_WORDS, scope)
    return end if end < 0 else len(window) - len(scope) + end


def _last_match_end(pattern: re.Pattern[str], window: str) -> int:
    """Return where the last match of ``pattern`` in ``window`` ends, or -1."""
    last = -1
    for match in pattern.finditer(window):
        last = match.end()
    return last


def _trim_brackets(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop an unbalanced bracket libphonenumber kept: ``(612 345 678`` in "teléfono (612 345 678)"."""
    raw = text[start:end]
    if raw.startswith("(") and ")" not in raw:
        start += 1
    if raw.endswith(")") and "(" not in raw:
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return start, end
