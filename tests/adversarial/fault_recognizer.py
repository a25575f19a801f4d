"""A plugin whose recognizer raises on ``BOOMNOW``, hangs on ``HANGNOW`` and is slow on ``SLOWNOW``."""

from __future__ import annotations

import time
from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from gateway.hookspecs import hookimpl

#: How long a ``SLOWNOW`` text holds its worker.
SLOW_SECONDS = 2.5


class FaultRecognizer(EntityRecognizer):
    def __init__(self, language: str) -> None:
        super().__init__(supported_entities=["PERSON"], supported_language=language, name="FaultRecognizer")

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if "BOOMNOW" in text:
            raise RuntimeError("recognizer exploded")
        if "HANGNOW" in text:
            time.sleep(120)  # far over any time budget: the worker is killed, not waited for
        if "SLOWNOW" in text:
            time.sleep(SLOW_SECONDS)  # within the budget of the tests that use it, but it holds a worker
        return []


@hookimpl
def aduana_register_recognizers() -> list[EntityRecognizer]:
    return [FaultRecognizer("en"), FaultRecognizer("es")]
