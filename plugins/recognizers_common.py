"""Shared building blocks for Aduana's built-in recognizers (not a plugin: it implements no hook).

Every built-in pattern recognizer derives from :class:`AduanaPatternRecognizer`: one class per
identifier with class-level ``ENTITY``, ``PATTERNS`` and ``CONTEXT`` and a ``checksum`` step, the same
shape as Presidio's predefined recognizers. Identifiers that are only personal data because of the
words around them ("CVV 123", "PIN 4821") are matched with :func:`after_context`, a look-behind that
puts the keyword in the regex itself: the span stays the bare value, and the decision does not depend
on the NLP engine's lemmas, so the recognizer behaves the same with or without spaCy.

``CONTEXT`` lists feed Presidio's context enhancer, which compares each entry with one lemma at a
time, as a substring: entries are single words (a phrase never matches) and not short fragments
("pan" is in "España"). Only patterns scoring below the threshold on their own depend on them.

Regexes carry their own case flags (``(?i:…)`` for keywords, ``(?-i:…)`` where case matters), so they
mean the same thing whatever ``global_regex_flags`` a registry hands them.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import ClassVar, Protocol

from presidio_analyzer import (
    AnalysisExplanation,
    EntityRecognizer,
    LocalRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)

#: Both languages Aduana inspects; every recognizer is instantiated once per language.
LANGUAGES: tuple[str, ...] = ("en", "es")

#: An upper-case / lower-case letter in any script, for names: Á, Ñ, ç, à… (``regex`` syntax).
UPPER = r"\p{Lu}"
LOWER = r"\p{Ll}"


class RecognizerFactory(Protocol):
    """A recognizer class: called with a language, returns a recognizer for it."""

    def __call__(self, supported_language: str = ...) -> EntityRecognizer: ...


def per_language(factories: Iterable[RecognizerFactory]) -> list[EntityRecognizer]:
    """Instantiate every recognizer class once per language in :data:`LANGUAGES`."""
    return [factory(supported_language=lang) for factory in factories for lang in LANGUAGES]


def after_context(keywords: Iterable[str], gap_words: int = 3) -> str:
    """Return a look-behind requiring one of ``keywords`` shortly before the match.

    Up to ``gap_words`` words made of letters only may sit between keyword and value ("CVV de la
    tarjeta: 123"); a word with a digit in it ends the window, so "PIN 1234, pedido 5678" only
    marks 1234. Keywords are regex fragments, matched case-insensitively and as whole words.
    """
    alternation = "|".join(keywords)
    return (
        rf"(?<=(?<![^\W\d_])(?i:{alternation})"
        rf"(?:[^\w\n]+[^\W\d_]+){{0,{gap_words}}}[^\w\n]+)"
    )


def identifier(min_len: int = 5, max_len: int = 20) -> str:
    """Return a regex for an identifier value: ASCII letters/digits with inner ``-``, ``_``, ``/``, ``.``.

    At least one digit is required, so "MRN: pending" is not a record number. Digit groups
    separated by single spaces ("1234 5678 90") are taken whole.
    """
    return (
        rf"(?:(?=[A-Za-z0-9/._\-]*\d)[A-Za-z0-9](?:[A-Za-z0-9]|[\-/._](?=[A-Za-z0-9]))"
        rf"{{{min_len - 1},{max_len - 1}}}(?![\w\-/])"
        rf"|\d{{2,6}}(?:[ ]\d{{2,6}}){{1,5}}(?![\w\-/]|[ ]\d))"
    )


#: A look-behind refusing values labelled as something else: "pedido 4111…" is an order number,
#: whatever its checksum says.
NOT_AFTER_ORDER_WORDS = (
    r"(?<!(?i:pedidos?|order|factura|invoice|ref|referencia|reference|tracking|albar[aá]n|"
    r"seguimiento|env[ií]o|shipment|ticket|incidencia|expediente)[^\w\n]{1,4}(?:n[º°o]\.?[ ])?)"
)


def luhn_valid(digits: str) -> bool:
    """Return whether a digit string passes the Luhn (mod 10) check used by cards and IMEIs."""
    if not digits.isdigit():
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def iso7064_mod97(alnum: str) -> int:
    """Return ``alnum`` (letters A=10 … Z=35) modulo 97, the IBAN check (ISO 7064 MOD 97-10)."""
    remainder = 0
    for char in alnum:
        value = int(char, 36)
        remainder = (remainder * (100 if value > 9 else 10) + value) % 97
    return remainder


def shannon_entropy(value: str) -> float:
    """Return the Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def all_same(digits: str) -> bool:
    """Return whether every character is the same (0000…, 1111…): placeholders, not identifiers."""
    return len(set(digits)) <= 1


class AduanaLocalRecognizer(LocalRecognizer):
    """A recognizer written as code (not patterns) for ``ENTITY`` and ``ALSO``, named after its class."""

    ENTITY: ClassVar[str]
    ALSO: ClassVar[tuple[str, ...]] = ()
    CONTEXT: ClassVar[list[str] | None] = None

    def __init__(self, supported_language: str = "en", name: str | None = None) -> None:
        super().__init__(
            supported_entities=[self.ENTITY, *self.ALSO],
            supported_language=supported_language,
            name=name if name is not None else type(self).__name__,
            context=self.CONTEXT,
        )

    def load(self) -> None:
        """Nothing to load; a subclass reading a list reads it here, once per process."""

    def result(self, start: int, end: int, score: float, entity: str | None = None) -> RecognizerResult:
        """A finding of ``entity`` (default ``ENTITY``) named after this recognizer, as Presidio reports one."""
        return RecognizerResult(
            entity or self.ENTITY, start, end, score,
            analysis_explanation=AnalysisExplanation(self.name, score),
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
        )


class AduanaPatternRecognizer(PatternRecognizer):
    """A pattern recognizer whose entity, patterns, context and checksum are declared on the class.

    ``checksum`` receives the match with ``REPLACEMENT_PAIRS`` removed and upper-cased and returns
    True (valid), False (reject the match) or None (no checksum for this identifier). A passing
    checksum lifts the score to 1.0 when ``STRONG_CHECKSUM`` is set; a weak one (a single check digit,
    one chance in ten of passing by accident) only keeps the pattern's own score.
    """

    ENTITY: ClassVar[str]
    PATTERNS: ClassVar[Sequence[Pattern]]
    CONTEXT: ClassVar[Sequence[str]] = ()
    REPLACEMENT_PAIRS: ClassVar[Sequence[tuple[str, str]]] = ((" ", ""), ("-", ""), (".", ""))
    STRONG_CHECKSUM: ClassVar[bool] = True

    def __init__(
        self,
        supported_language: str = "en",
        patterns: Sequence[Pattern] | None = None,
        context: Sequence[str] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=name if name is not None else type(self).__name__,
            supported_language=supported_language,
            patterns=list(patterns if patterns is not None else self.PATTERNS),
            context=list(context if context is not None else self.CONTEXT),
        )

    def normalize(self, pattern_text: str) -> str:
        """Strip separators and upper-case, so checksums see only the identifier's characters."""
        for old, new in self.REPLACEMENT_PAIRS:
            pattern_text = pattern_text.replace(old, new)
        return pattern_text.upper()

    def checksum(self, value: str) -> bool | None:
        """Validate the normalized value; the default has no checksum."""
        return None

    def validate_result(self, pattern_text: str) -> bool | None:
        """Run :meth:`checksum`: reject failures, and raise the score only for strong checksums."""
        verdict = self.checksum(self.normalize(pattern_text))
        if verdict is None or (verdict and not self.STRONG_CHECKSUM):
            return None
        return verdict
