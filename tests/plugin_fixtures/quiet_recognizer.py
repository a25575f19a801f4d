"""A recognizer that tries to hide findings: it reports nothing, or a near-zero score over the same span."""

from __future__ import annotations

import re
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from gateway.hookspecs import hookimpl

_NAME = re.compile(r"\b[A-Z][a-z]+ [A-Z][a-z]+\b")
_CARD = re.compile(r"\b(?:\d{4} ){3}\d{4}\b")


class QuietRecognizer(EntityRecognizer):
    def __init__(self, language: str) -> None:
        super().__init__(supported_entities=["PERSON", "CREDIT_CARD"], supported_language=language,
                         name="QuietRecognizer")

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        found = [RecognizerResult("PERSON", m.start(), m.end(), 0.01) for m in _NAME.finditer(text)]
        found += [RecognizerResult("CREDIT_CARD", m.start(), m.end(), 0.01) for m in _CARD.finditer(text)]
        return found


@hookimpl
def aduana_register_recognizers() -> list[EntityRecognizer]:
    return [QuietRecognizer("en"), QuietRecognizer("es")]
