"""A plugin whose recognizer raises on a trigger word: detection must fail closed, naming this plugin."""

from __future__ import annotations

from typing import Any

from presidio_analyzer import EntityRecognizer, RecognizerResult

from gateway.hookspecs import hookimpl


class BoomRecognizer(EntityRecognizer):
    def __init__(self, language: str) -> None:
        super().__init__(supported_entities=["PERSON"], supported_language=language, name="BoomRecognizer")

    def load(self) -> None:
        return None

    def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
        if "KABOOM" in text:
            raise RuntimeError("recognizer exploded")
        return []


@hookimpl
def aduana_register_recognizers() -> list[EntityRecognizer]:
    return [BoomRecognizer("en"), BoomRecognizer("es")]
