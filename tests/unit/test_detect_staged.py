"""The workers' staged analysis (gateway/inspect/detect.py): Presidio's steps, spaCy only where it is read."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.inspect.analyzer import Analyzer, DetectRequest
from gateway.inspect.detect import LazyArtifacts, Prefetch, _can_stage, analyze_message, load_worker_analyzer

ENTITIES = ("PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "ES_NIF", "IBAN_CODE", "LOCATION", "DATE_TIME",
            "HEALTH_PLAN_ID", "CREDIT_CARD", "MEDICAL_RECORD_NUMBER")
TEXTS = [
    ("en", "Hi, I'm Ana López, call me on +34 600 123 456 or ana.lopez@example.com."),
    ("en", "MRN 44552291, member ID XJ-99812, born 12/03/1980, lives at 12 High St, Apt 4"),
    ("es", "Hola, soy Marta Ruiz. Mi DNI es 12345678Z y mi teléfono 612 345 678."),
    ("es", "Póliza 12345678, tarjeta sanitaria BBBB123456789012, vivo en calle Mayor 5, 28013 Madrid"),
    ("es", "IBAN ES91 2100 0418 4502 0005 1332, fecha de nacimiento 03/04/1975"),
    ("es", "Gracias por la ayuda, quedo a la espera."),
    ("es", "Estado: pendiente"),
    ("en", "Thanks, that fixed it."),
]


def _req(language: str, text: str) -> DetectRequest:
    return DetectRequest(text, language, ENTITIES, dict.fromkeys(ENTITIES, 0.4))


@pytest.fixture(scope="module")
def analyzers() -> tuple[Analyzer, Analyzer, Prefetch]:
    plain = Analyzer.from_plugins()
    tuned, prefetch = load_worker_analyzer()
    assert prefetch is not None
    return plain, tuned, prefetch


def test_staged_analysis_finds_what_presidio_finds(analyzers: tuple[Analyzer, Analyzer, Prefetch]) -> None:
    plain, tuned, prefetch = analyzers
    assert _can_stage(tuned.engine) and prefetch.lazy_languages == {"es"}
    requests = [_req(lang, text) for lang, text in TEXTS]
    expected = plain.analyze(requests)
    assert any(expected[2]) and any(expected[3])  # Spanish texts with results: context scoring ran
    got = analyze_message(tuned, prefetch, requests)
    # When two recognizers report the same span, type and score, Presidio keeps either (its recognizers
    # come from a set): compare what was found, as bench/perf/check_equivalence.py does.
    assert [_core(f) for f in got] == [_core(f) for f in expected]


def _core(findings: list[Any]) -> list[tuple[str, int, int, float]]:
    return [(f.entity_type, f.start, f.end, f.score) for f in findings]


def test_spanish_text_without_results_never_goes_through_spacy(
        analyzers: tuple[Analyzer, Analyzer, Prefetch], monkeypatch: pytest.MonkeyPatch) -> None:
    _, tuned, prefetch = analyzers
    engine: Any = tuned.engine.nlp_engine
    seen: list[tuple[str, str]] = []
    batch = engine.process_batch

    def process_batch(texts: list[str], language: str, **kwargs: Any) -> Any:
        seen.extend((language, t) for t in texts)
        return batch(texts, language, **kwargs)

    monkeypatch.setattr(engine, "process_batch", process_batch)
    monkeypatch.setattr(prefetch, "_process_text", lambda *a: pytest.fail("spaCy one text at a time"))
    requests = [_req(lang, text) for lang, text in TEXTS]
    analyze_message(tuned, prefetch, requests)
    assert ("es", TEXTS[5][1]) not in seen and ("es", TEXTS[6][1]) not in seen
    assert ("es", TEXTS[2][1]) in seen and ("en", TEXTS[7][1]) in seen  # English always: NER reads it


def test_lazy_artifacts_compute_once_on_first_read() -> None:
    calls = []

    class Artifacts:
        lemmas = ("a",)

    def compute() -> Artifacts:
        calls.append(1)
        return Artifacts()

    lazy = LazyArtifacts(compute)
    assert not lazy.computed and calls == []
    assert lazy.lemmas == ("a",) and lazy.lemmas == ("a",)
    assert lazy.computed and calls == [1]


def test_an_engine_that_logs_its_decisions_is_not_staged(analyzers: tuple[Analyzer, Analyzer, Prefetch],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _, tuned, _ = analyzers
    monkeypatch.setattr(tuned.engine, "log_decision_process", True)
    assert not _can_stage(tuned.engine)


class _Registry:
    def __init__(self) -> None:
        self.recognizers: list[str] = ["a", "b"]
        self.calls = 0

    def get_recognizers(self, language: str, entities: list[str], **kwargs: Any) -> list[str]:
        self.calls += 1
        return [r for r in self.recognizers if r in entities]


def test_recognizer_selection_is_computed_once_while_the_registry_is_unchanged() -> None:
    from gateway.inspect.detect import _recognizers_for

    registry = _Registry()
    assert _recognizers_for(registry, "en", ["a"]) == ["a"]
    assert _recognizers_for(registry, "en", ["a"]) == ["a"] and registry.calls == 1
    assert _recognizers_for(registry, "es", ["a"]) == ["a"] and registry.calls == 2
    registry.recognizers.append("c")  # add_recognizer: asked again
    assert _recognizers_for(registry, "en", ["a", "c"]) == ["a", "c"] and registry.calls == 3
    registry.recognizers = ["c"]
    assert _recognizers_for(registry, "en", ["a", "c"]) == ["c"] and registry.calls == 4
