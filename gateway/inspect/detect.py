"""Detection inside a worker process: each worker holds one loaded analyzer and runs calls on it.

Presidio and spaCy are synchronous and CPU-bound; running them on the event loop would stall every
other request (health checks included). Each worker loads the plugins' recognizers and the spaCy model
once at start. The gateway's side of the pool (time budget, queueing, batching, replacing a hung
worker, warming the replacement before it takes calls) is :mod:`gateway.inspect.pool`.

One call carries every text of one message, or of several queued messages (:func:`run_batch`). spaCy
is most of the cost (measured in ``docs/performance.md``), so the worker:

1. runs only the spaCy components some recognizer reads: the dependency parser never (Presidio reads
   tokens, lemmas and entities; no recognizer reads dependencies, sentences or noun chunks), the
   named-entity recognizer only for languages that have an NER recognizer (a ``SpacyRecognizer``);
2. analyzes each distinct text of a message once (a ticket repeats its agents' names and statuses);
3. runs spaCy over all the texts of a message in batches (``nlp.pipe``) before the recognizers ask for
   them one by one: batched, the model's matrix work is several times cheaper per text;
4. skips a pattern when its text lacks a look-around every match of it needs (exact, by the rule in
   :mod:`gateway.inspect.precheck`): most patterns find nothing in most texts;
5. in a language without NER (Spanish) runs spaCy only on the texts context scoring reads, those with
   results: Presidio's steps run in stages across the message (:func:`_analyze_staged`);
6. runs at a lower scheduling priority than the gateway process (``WORKER_NICE``), so a saturated pool
   does not delay the event loop.

None of this changes what is found: the same model computes the same annotations (checked on the
accuracy and performance corpora, see ``docs/performance.md``).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from gateway.inspect.analyzer import Analyzer, DetectRequest
from gateway.inspect.findings import Finding
from gateway.inspect.precheck import install_prechecks

#: spaCy components whose output no recognizer reads.
UNUSED_COMPONENTS = ("parser",)
#: Texts per ``nlp.pipe`` batch.
PIPE_BATCH = 64
#: Characters prefetched at once: bounds the spaCy documents a worker holds for one huge message.
PREFETCH_CHARS = 256 * 1024
#: Workers run at a lower scheduling priority than the gateway process: when the workers saturate the
#: cores, the event loop (health checks, uninspected routes, forwarding) still gets a core at once.
#: Among the gateway's own processes only the difference counts; it gives the workers no less CPU when
#: the loop is idle.
WORKER_NICE = 5

_WORKER_ANALYZER: Analyzer | None = None
_WORKER_PREFETCH: Prefetch | None = None


class Prefetch:
    """Answers the NLP engine's per-text calls from documents computed in batches by ``nlp.pipe``.

    Presidio's ``AnalyzerEngine.analyze`` asks its NLP engine for one text at a time. :meth:`fill`
    processes a whole message's texts in one ``pipe`` run; the engine's ``process_text`` then finds each
    one ready. A text that was not prefetched (or a call outside :meth:`fill`/:meth:`clear`) is processed
    as before, so correctness never depends on the prefetch.
    """

    def __init__(self, nlp_engine: Any, lazy_languages: Iterable[str] = ()) -> None:
        self._engine = nlp_engine
        self._process_text = nlp_engine.process_text
        self._ready: dict[tuple[str, str], Any] = {}
        #: Languages whose artifacts are computed only when something reads them (:class:`LazyArtifacts`).
        self.lazy_languages = frozenset(lazy_languages)
        nlp_engine.process_text = self.process_text  # an instance attribute shadows the method

    def process_text(self, text: str, language: str) -> Any:
        artifacts = self._ready.get((language, text))
        if artifacts is not None:
            return artifacts
        if language in self.lazy_languages:
            return LazyArtifacts(lambda: self._compute(text, language))
        return self._process_text(text, language)

    def _compute(self, text: str, language: str) -> Any:
        artifacts = self._ready.get((language, text))
        return artifacts if artifacts is not None else self._process_text(text, language)

    def fill(self, texts: Sequence[tuple[str, str]]) -> None:
        """Compute the NLP artifacts of (text, language) pairs, one ``pipe`` run per language."""
        by_language: dict[str, list[str]] = {}
        for text, language in texts:
            if (language, text) not in self._ready:
                by_language.setdefault(language, []).append(text)
        for language, batch in by_language.items():
            for text, artifacts in self._engine.process_batch(list(dict.fromkeys(batch)), language,
                                                              batch_size=PIPE_BATCH):
                self._ready[(language, text)] = artifacts

    def clear(self) -> None:
        self._ready.clear()


class LazyArtifacts:
    """A text's NLP artifacts, computed on first use of any attribute.

    Stands in for Presidio's ``NlpArtifacts`` in languages where no recognizer needs spaCy's NER
    (Spanish): there only the context enhancer reads the artifacts (lemmas around a result), so a text
    without results never needs spaCy at all. Whatever reads an attribute gets the real artifacts'
    attribute, computed as before, so no reader can tell the difference except by type.
    """

    __slots__ = ("_compute", "_value")

    def __init__(self, compute: Callable[[], Any]) -> None:
        self._compute = compute
        self._value: Any = None

    @property
    def computed(self) -> bool:
        return self._value is not None

    def __getattr__(self, name: str) -> Any:
        if self._value is None:
            self._value = self._compute()
        return getattr(self._value, name)


def tune(analyzer: Analyzer) -> dict[str, tuple[str, ...]]:
    """Disable the spaCy components nothing reads (rules in the module doc); return them per language."""
    from presidio_analyzer.predefined_recognizers import SpacyRecognizer

    models = getattr(analyzer.engine.nlp_engine, "nlp", None)
    if not isinstance(models, dict):
        return {}
    ner_languages = {r.supported_language for r in analyzer.engine.registry.recognizers
                     if isinstance(r, SpacyRecognizer)}
    # One spaCy pipeline may serve several languages: it keeps NER if any of them needs it.
    needs_ner = {id(nlp) for lang, nlp in models.items() if lang in ner_languages}
    disabled: dict[str, tuple[str, ...]] = {}
    for lang, nlp in models.items():
        off = [c for c in UNUSED_COMPONENTS if c in nlp.pipe_names]
        if id(nlp) not in needs_ner and "ner" in nlp.pipe_names:
            off.append("ner")
        for component in off:
            nlp.disable_pipe(component)
        disabled[lang] = tuple(c for c in nlp.disabled if c in (*UNUSED_COMPONENTS, "ner"))
    return disabled


def load_worker_analyzer(plugin_modules: Sequence[str] = ()) -> tuple[Analyzer, Prefetch | None]:
    """An analyzer set up as the workers run it: tuned pipelines and the batch prefetch installed."""
    analyzer = Analyzer.from_plugins(plugin_modules)
    disabled = tune(analyzer)
    install_prechecks(analyzer.engine.registry.recognizers)
    nlp_engine = analyzer.engine.nlp_engine
    # Without NER in a language, only context scoring reads its artifacts: compute them when it does.
    lazy = [lang for lang, off in disabled.items() if "ner" in off] if _can_stage(analyzer.engine) else []
    prefetch = Prefetch(nlp_engine, lazy) if hasattr(nlp_engine, "process_batch") else None
    return analyzer, prefetch


def init_worker(plugin_modules: tuple[str, ...]) -> None:
    global _WORKER_ANALYZER, _WORKER_PREFETCH
    # A worker must not inherit the parent's signal handling for Ctrl-C: the parent shuts it down.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        os.nice(WORKER_NICE)
    except OSError:  # pragma: no cover - a platform or sandbox without nice(): run at the same priority
        pass
    _WORKER_ANALYZER, _WORKER_PREFETCH = load_worker_analyzer(plugin_modules)
    # The model and the recognizers live as long as the worker: keep the collector from rescanning them.
    gc.freeze()


def _key(req: DetectRequest) -> tuple[object, ...]:
    return req.text, req.language, req.entities, tuple(sorted(req.thresholds.items()))


def _chunks(requests: Sequence[DetectRequest], limit: int) -> Iterator[Sequence[DetectRequest]]:
    start, size = 0, 0
    for i, req in enumerate(requests):
        size += len(req.text)
        if size >= limit:
            yield requests[start:i + 1]
            start, size = i + 1, 0
    if start < len(requests):
        yield requests[start:]


def analyze_message(analyzer: Analyzer, prefetch: Prefetch | None,
                    requests: Sequence[DetectRequest]) -> list[list[Finding]]:
    """Findings for each request, in order: each distinct request analyzed once, spaCy run in batches."""
    distinct: dict[tuple[object, ...], int] = {}
    firsts: list[DetectRequest] = []
    index = []
    for req in requests:
        key = _key(req)
        if key not in distinct:
            distinct[key] = len(firsts)
            firsts.append(req)
        index.append(distinct[key])
    staged = isinstance(analyzer, Analyzer) and isinstance(prefetch, Prefetch) and _can_stage(analyzer.engine)
    supported = getattr(analyzer, "supported", None)
    results: list[list[Finding]] = []
    for chunk in _chunks(firsts, PREFETCH_CHARS):
        try:
            if staged:
                assert isinstance(prefetch, Prefetch)
                results += _analyze_staged(analyzer, prefetch, chunk)
                continue
            if prefetch is not None:
                # Only the texts the analyzer will send to spaCy: not blank, some entity it can find there.
                prefetch.fill([(r.text, r.language) for r in chunk if r.text.strip() and (
                    supported is None or any(e in supported.get(r.language, ()) for e in r.entities))])
            results += analyzer.analyze(chunk)
        finally:
            if prefetch is not None:
                prefetch.clear()
    return [list(results[i]) for i in index]


def _can_stage(engine: Any) -> bool:
    """Whether :func:`_analyze_staged` can run this Presidio engine's steps itself."""
    from presidio_analyzer import AnalyzerEngine

    return (isinstance(engine, AnalyzerEngine) and not engine.log_decision_process
            and all(hasattr(AnalyzerEngine, f"_AnalyzerEngine__{step}") for step in _PRIVATE_STEPS)
            and hasattr(engine, "_enhance_using_context"))


_PRIVATE_STEPS = ("add_recognizer_id_if_not_exists", "remove_low_scores", "remove_decision_process")


#: Each registry's recognizer selections: (registry, its recognizer list, that list's length, selections).
_SELECTIONS: dict[int, tuple[Any, list[Any], int, dict[tuple[str, tuple[str, ...]], list[Any]]]] = {}


def _recognizers_for(registry: Any, language: str, entities: list[str]) -> list[Any]:
    """``registry.get_recognizers`` for a language and entities, computed once while the registry is unchanged.

    Presidio filters every registered recognizer for every text; the answer depends only on the
    arguments and the registry's recognizers, and a repeated call builds the same set in the same
    way, so it returns the same recognizers in the same order as the first. A registry whose list was
    replaced or grew (``add_recognizer``) is asked again.
    """
    entry = _SELECTIONS.get(id(registry))
    if entry is None or entry[0] is not registry or entry[1] is not registry.recognizers or (
            entry[2] != len(registry.recognizers)):
        entry = _SELECTIONS[id(registry)] = (registry, registry.recognizers, len(registry.recognizers), {})
    key = (language, tuple(entities))
    selected = entry[3].get(key)
    if selected is None:
        selected = entry[3][key] = registry.get_recognizers(
            language=language, entities=entities, all_fields=False, ad_hoc_recognizers=None)
    return list(selected)


def _analyze_staged(analyzer: Analyzer, prefetch: Prefetch, chunk: Sequence[DetectRequest]) -> list[list[Finding]]:
    """``Analyzer.analyze`` over a chunk, with Presidio's ``AnalyzerEngine.analyze`` run in stages.

    The steps per text are Presidio's, in Presidio's order, with the arguments ``Analyzer.analyze``
    gives it (entities, a score floor; no ad-hoc recognizers, context words, allow list or decision
    log): the recognizers, context enhancement, the score floor, duplicate removal. Only the order
    across texts changes: every text's recognizers run before any text's context enhancement, so the
    texts of a lazy language that have results (the only ones context enhancement reads artifacts of)
    go through spaCy in one batch, and the others never do. A recognizer result depends only on its
    own text and artifacts, so running texts in another order changes nothing.
    """
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer

    engine: Any = analyzer.engine
    presidio: Any = AnalyzerEngine  # its private steps, by their mangled names (checked by _can_stage)
    add_ids = presidio._AnalyzerEngine__add_recognizer_id_if_not_exists
    remove_low_scores = engine._AnalyzerEngine__remove_low_scores
    remove_decision_process = presidio._AnalyzerEngine__remove_decision_process
    plans = [analyzer.plan(req) for req in chunk]
    prefetch.fill([(req.text, req.language) for req, plan in zip(chunk, plans, strict=True)
                   if plan is not None and req.language not in prefetch.lazy_languages])
    stages: list[tuple[list[str], float, list[Any], Any, list[Any]] | None] = []
    for req, plan in zip(chunk, plans, strict=True):
        if plan is None:
            stages.append(None)
            continue
        entities, floor = plan
        recognizers = _recognizers_for(engine.registry, req.language, entities)
        artifacts = engine.nlp_engine.process_text(req.text, req.language)
        raw: list[Any] = []
        for recognizer in recognizers:
            if not recognizer.is_loaded:
                recognizer.load()
                recognizer.is_loaded = True
            current = recognizer.analyze(text=req.text, entities=entities, nlp_artifacts=artifacts)
            if current:
                add_ids(current, recognizer)
                raw.extend(current)
        stages.append((entities, floor, recognizers, artifacts, raw))
    prefetch.fill([(req.text, req.language) for req, stage in zip(chunk, stages, strict=True)
                   if stage is not None and stage[4] and isinstance(stage[3], LazyArtifacts)
                   and not stage[3].computed])
    out: list[list[Finding]] = []
    for req, stage in zip(chunk, stages, strict=True):
        if stage is None:
            out.append([])
            continue
        entities, floor, recognizers, artifacts, raw = stage
        results = engine._enhance_using_context(req.text, raw, artifacts, recognizers, None)
        results = remove_low_scores(results, floor, recognizers)
        results = EntityRecognizer.remove_duplicates(results)
        results = remove_decision_process(results)
        out.append(analyzer.findings(req, entities, results))
    return out


def run_batch(messages: Sequence[Sequence[DetectRequest]]) -> list[list[list[Finding]] | BaseException]:
    """One worker call: the findings of each message, or the exception its analysis raised.

    The messages are analyzed together (one spaCy batch, each distinct text once), which is what makes a
    batch cheaper than its messages one by one. If that raises, each message is analyzed on its own, so
    the error is returned for the message whose text caused it and the others still get their findings.
    """
    if _WORKER_ANALYZER is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("analyzer not loaded in this worker")
    analyzer, prefetch = _WORKER_ANALYZER, _WORKER_PREFETCH
    try:
        flat = analyze_message(analyzer, prefetch, [r for m in messages for r in m])
    except Exception:
        if len(messages) == 1:
            raise
    else:
        out: list[list[list[Finding]] | BaseException] = []
        start = 0
        for m in messages:
            out.append(flat[start:start + len(m)])
            start += len(m)
        return out
    alone: list[list[list[Finding]] | BaseException] = []
    for m in messages:
        try:
            alone.append(analyze_message(analyzer, prefetch, m))
        except Exception as exc:
            alone.append(exc)
    return alone


#: What a new worker analyzes before it takes calls: loads everything the first real call would.
WARM_UP = (DetectRequest("warm up", "en", ("PERSON",), {"PERSON": 0.5}),)


def warm_up() -> int:
    """Analyze :data:`WARM_UP` in this worker and say which worker it was (its process id)."""
    run_batch([list(WARM_UP)])
    return os.getpid()
