"""Pattern pre-checks (gateway/inspect/precheck.py): a cue is skipped only when no match is possible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import regex
from presidio_analyzer import Pattern, PatternRecognizer

from gateway.inspect.precheck import CueCache, CuedRegex, install_prechecks, necessary_cues
from gateway.pluginmanager import load_plugins

FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("pattern", "cues"),
    [
        (r"(?<=(?i:mrn)[ :]+)\d{4,}", ["(?i:mrn)[ :]+"]),
        (r"\d{3}(?=[ \t]+(?i:mobile))", ["[ \\t]+(?i:mobile)"]),
        (r"(?=a)b(?<=c)", ["c", "a"]),                        # look-behinds first
        (r"(?<=[(|)])x", ["[(|)]"]),                          # brackets and bars inside a class
        (r"(?<=[]|])x", ["[]|]"]),                            # "]" first in a class is a literal
        (r"(?<=\(|)x", [r"\(|"]),                             # an escaped bracket, a bar in the body
        (r"(?<=[[:alpha:]])\d", ["[[:alpha:]]"]),             # POSIX class
        (r"(?<=a)x|y", []),                                   # top-level alternation: y needs no "a"
        (r"(?:(?<=a)x|y)", []),                               # inside a group
        (r"(?<=a)?x", []),                                    # quantified: optional
        (r"(?<=a){0,2}x", []),
        (r"(?<!a)x", []),                                     # negative: nothing required
        (r"(?i)(?<=a)x", []),                                 # inline global flags
        (r"(a)(?<=\1)x", []),                                 # a reference to an outer group
        (r"(?<=(?>a+)a)x", []),                               # atomic group: direction-dependent
        (r"(?<=a++b)x", []),                                  # possessive quantifier
        (r"(?<=[[]a|b)x", []),                                # "[" inside a class: refused
        (r"(?<=a)x)", []),                                    # unbalanced
        (r"(?<=a\G)x", []),                                   # the search anchor
    ],
)
def test_necessary_cues(pattern: str, cues: list[str]) -> None:
    assert necessary_cues(pattern, FLAGS) == cues


def test_verbose_patterns_get_no_cue() -> None:
    assert necessary_cues(r"(?<=a)x", FLAGS | regex.VERBOSE) == []
    assert necessary_cues(r"(?<=a)x", FLAGS | regex.VERSION1) == []


def _texts() -> list[str]:
    rows = (ROOT / "bench" / "accuracy" / "corpus_en.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(row)["text"] for row in rows if row.strip()] + [
        "MRN: 4455-2291, member ID XJ-99812, póliza 12345678, lives at 12 High St, Apt 4",
        "Please call 600 123 456 mobile, my address is calle Mayor 5, 28013 Madrid",
        "Saludos,\nAna López\n-- \nDe: Luis", "I'm Ana, card 4111 1111 1111 1111 exp 12/29 cvv 123",
    ]


def _pattern_recognizers() -> list[PatternRecognizer]:
    return [r for r in load_plugins(entry_points=False).recognizers() if isinstance(r, PatternRecognizer)]


def test_every_cue_matches_wherever_its_pattern_does() -> None:
    """The rule held to the engine: over real texts, a pattern's match implies each of its cues."""
    checked = 0
    texts = _texts()
    for recognizer in _pattern_recognizers():
        flags = recognizer.global_regex_flags
        for pattern in recognizer.patterns:
            cues = [regex.compile(c, flags) for c in necessary_cues(pattern.regex, flags)]
            if not cues:
                continue
            compiled = regex.compile(pattern.regex, flags)
            for text in texts:
                if compiled.search(text):
                    checked += 1
                    assert all(c.search(text) for c in cues), (pattern.name, text)
    assert checked > 50  # the corpus exercises the cued patterns, not only their absence


def _results(recognizer: Any, text: str) -> list[tuple[str, int, int, float]]:
    return [(r.entity_type, r.start, r.end, r.score) for r in recognizer.analyze(text, recognizer.supported_entities)]


def test_prechecked_recognizers_find_what_plain_ones_find() -> None:
    """A pre-check that skipped a scan with a match would make the two differ here."""
    plain, tuned = _pattern_recognizers(), _pattern_recognizers()
    assert install_prechecks(tuned) > 30
    # Recognizers of one class share its Pattern objects: the plain ones must still scan every pattern.
    assert not any(isinstance(p.compiled_regex, CuedRegex) for r in plain for p in r.patterns)
    for text in _texts():
        for a, b in zip(plain, tuned, strict=True):
            assert _results(a, text) == _results(b, text), (type(a).__name__, text)


class _Counting:
    def __init__(self, compiled: Any) -> None:
        self.compiled, self.scans = compiled, 0

    def finditer(self, text: str, *args: Any, **kwargs: Any) -> Any:
        self.scans += 1
        return self.compiled.finditer(text, *args, **kwargs)


def _counted(patterns: list[Pattern]) -> tuple[PatternRecognizer, list[_Counting]]:
    recognizer = PatternRecognizer("ID", patterns=patterns, name="r")
    counters = []
    for p in recognizer.patterns:
        p.compiled_regex = counter = _Counting(regex.compile(p.regex, recognizer.global_regex_flags))
        p.compiled_with_flags = recognizer.global_regex_flags
        counters.append(counter)
    return recognizer, counters


def test_a_pattern_without_its_cue_is_not_scanned() -> None:
    recognizer, (cued, plain) = _counted([Pattern("cued", r"(?<=(?i:mrn)[ :]+)\d{4,}", 0.7),
                                          Pattern("plain", r"\b\d{9}\b", 0.3)])
    install_prechecks([recognizer])
    assert isinstance(recognizer.patterns[0].compiled_regex, CuedRegex)
    assert recognizer.patterns[1].compiled_regex is plain
    assert _results(recognizer, "order 123456789") == [("ID", 6, 15, 0.3)]
    assert (cued.scans, plain.scans) == (0, 1)
    assert _results(recognizer, "MRN: 44552291") == [("ID", 5, 13, 0.7)]
    assert (cued.scans, plain.scans) == (1, 2)


def test_a_recognizer_with_no_possible_match_is_skipped_whole() -> None:
    recognizer, (first, second) = _counted([Pattern("a", r"(?<=mrn )\d+", 0.7),
                                            Pattern("b", r"\d+(?= mobile)", 0.7)])
    install_prechecks([recognizer])
    assert recognizer.analyze("nothing here 123", ["ID"]) == []
    assert (first.scans, second.scans) == (0, 0)
    assert _results(recognizer, "call 600 mobile") == [("ID", 5, 8, 0.7)]
    assert (first.scans, second.scans) == (0, 1)
    # Other flags than the cues were compiled with: the recognizer runs, Presidio recompiles.
    assert [r.start for r in recognizer.analyze("MRN 12", ["ID"], None, regex.DOTALL)] == []
    assert [r.start for r in recognizer.analyze("MRN 12", ["ID"], None, FLAGS)] == [4]


def test_cue_cache_searches_each_cue_once_per_text() -> None:
    cache = CueCache()
    key, compiled = cache.compile("mrn", FLAGS)
    assert cache.compile("mrn", FLAGS) == (key, compiled)
    text = "MRN 1"
    assert cache.present(key, compiled, text)
    cache._found[key] = False  # a second lookup for the same text object answers from the cache
    assert not cache.present(key, compiled, text)
    assert cache.present(key, compiled, "mrn 2")


def test_a_cue_search_that_times_out_counts_as_found() -> None:
    class Slow:
        def search(self, text: str, timeout: float | None = None) -> Any:
            raise TimeoutError

    assert CueCache().present(1, Slow(), "text")
