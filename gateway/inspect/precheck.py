"""Exact pre-checks for pattern recognizers: skip a pattern whose text lacks something every match needs.

Most of a pattern recognizer's time is its regexes scanning texts in which they find nothing, and
the costliest are the patterns that open with a look-behind (``after_context``'s keyword windows,
the address cue phrases): the engine evaluates the look-behind backwards at every position of the
text. The same look-behind's body searched *forwards* (``(?<![^\\W\\d_])(?i:mrn|…)…``) fails at
almost every position on its first character, so it costs a fraction of the scan.

The rule, for one Presidio ``Pattern`` compiled with flags ``F``:

1. A *cue* of the pattern is the body ``B`` of a positive look-around ``(?<=B)`` or ``(?=B)`` that
   sits at the top level of the regex (not inside any group), is not quantified, and the regex has
   no top-level alternation. Then every match of the pattern is a position where ``B`` matches the
   text (ending there for a look-behind, starting there for a look-ahead).
2. So if ``B``, compiled alone with the same flags ``F``, has no match anywhere in the text, the
   pattern has none either, and Presidio's loop over its matches would have run zero times: skipping
   the scan returns exactly the same results (none). A recognizer none of whose patterns can match
   returns no result, and Presidio adds nothing for it (context enhancement only rescores results).
3. Whatever the analysis cannot read with certainty gives no cue, and the pattern is scanned as
   before: inline global flags (``(?i)``: they would not carry over to ``B`` alone), the verbose
   flag, a body that refers to groups (``\\1``, ``(?P=name)``, ``(?(1)…)``) or to the search start
   (``\\G``), a body that does not compile alone, unbalanced brackets.

Nothing needs declaring: the rule reads the regex, so it applies to Presidio's predefined
recognizers and every plugin's alike. ``bench/perf/check_equivalence.py`` re-proves it on both
corpora, and ``tests/unit/test_detect_precheck.py`` holds the analysis to the regex engine.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import regex  # type: ignore[import-untyped]

#: Flags under which a regex's text cannot be read character by character (comments, set operations).
_UNREADABLE_FLAGS = regex.VERBOSE | regex.VERSION1
#: What a body may not contain: references to groups or to the search start, and atomic groups and
#: possessive quantifiers, whose meaning depends on the direction of matching (a look-behind is
#: matched backwards, the cue forwards).
_UNSAFE_IN_BODY = regex.compile(
    r"\\[1-9]|\\g|\\G|\\K|\(\?P[=>]|\(\?&|\(\?R|\(\?[0-9+\-]|\(\?\(|\(\?>|[*+?}]\+"
)
_QUANTIFIERS = "?*+{"
#: A cue search that takes longer than this counts as found (the pattern is then scanned as usual).
CUE_TIMEOUT_SECONDS = 1.0


def _top_level(pattern: str) -> tuple[list[tuple[str, int, int]], bool] | None:
    """Scan ``pattern``: its top-level groups as (opener, body start, body end), and whether it has a
    top-level ``|``. Return None when the text cannot be read with certainty."""
    groups: list[tuple[str, int, int]] = []
    stack: list[tuple[str, int]] = []
    bar = False
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            i += 2
            continue
        if char == "[":
            i = _skip_class(pattern, i)
            if i < 0:
                return None
            continue
        if char == "(":
            if pattern.startswith("(?#", i):  # a comment: runs to the first ")"
                end = pattern.find(")", i)
                if end < 0:
                    return None
                i = end + 1
                continue
            opener = ""
            for candidate in ("(?<=", "(?<!", "(?=", "(?!"):
                if pattern.startswith(candidate, i):
                    opener = candidate
                    break
            if not opener and pattern.startswith("(?", i):
                # Inline global flags, "(?i)", change what a body means alone: refuse the pattern.
                j = i + 2
                while j < n and (pattern[j].isalpha() or pattern[j] == "-"):
                    j += 1
                if j < n and pattern[j] == ")":
                    return None
            stack.append((opener, i + len(opener) if opener else i + 1))
            i += len(opener) if opener else 1
            continue
        if char == ")":
            if not stack:
                return None
            opener, start = stack.pop()
            if not stack:
                quantified = i + 1 < n and pattern[i + 1] in _QUANTIFIERS
                if opener and not quantified:
                    groups.append((opener, start, i))
            i += 1
            continue
        if char == "|" and not stack:
            bar = True
        i += 1
    if stack:
        return None
    return groups, bar


def _skip_class(pattern: str, i: int) -> int:
    """Index just past the character class opening at ``i``; -1 when it does not close.

    A ``]`` right after ``[`` or ``[^`` is a literal, as in the engine; a POSIX class (``[:alpha:]``)
    inside is skipped whole. Any other ``[`` inside a class (a literal in the engine's version 0, a
    nested set in version 1) is refused rather than guessed at.
    """
    n = len(pattern)
    i += 1
    if i < n and pattern[i] == "^":
        i += 1
    if i < n and pattern[i] == "]":
        i += 1
    while i < n:
        char = pattern[i]
        if char == "\\":
            i += 2
        elif char == "[":
            end = pattern.find(":]", i) if pattern.startswith("[:", i) else -1
            if end < 0:
                return -1
            i = end + 2
        elif char == "]":
            return i + 1
        else:
            i += 1
    return -1


def necessary_cues(pattern: str, flags: int) -> list[str]:
    """Bodies of ``pattern``'s top-level positive look-arounds: each matches wherever the pattern does.

    Look-behinds come first (they are usually the selective part: a keyword, a cue phrase).
    """
    if flags & _UNREADABLE_FLAGS:
        return []
    scanned = _top_level(pattern)
    if scanned is None:
        return []
    groups, bar = scanned
    if bar:
        return []
    cues = []
    for opener in ("(?<=", "(?="):
        for kind, start, end in groups:
            body = pattern[start:end]
            if kind != opener or not body or _UNSAFE_IN_BODY.search(body):
                continue
            try:
                regex.compile(body, flags)
            except regex.error:
                continue
            cues.append(body)
    return cues


class CueCache:
    """Which cues occur in the current text: each cue regex searched at most once per text."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, int], Any] = {}
        self._text: str | None = None
        self._found: dict[int, bool] = {}

    def compile(self, cue: str, flags: int) -> tuple[int, Any]:
        """A key and the compiled cue, shared by every pattern with the same cue and flags."""
        key = (cue, flags)
        if key not in self._compiled:
            self._compiled[key] = regex.compile(cue, flags)
        compiled = self._compiled[key]
        return id(compiled), compiled

    def present(self, key: int, compiled: Any, text: str) -> bool:
        if text is not self._text:  # the text is held, so its identity is never reused meanwhile
            self._text = text
            self._found = {}
        found = self._found.get(key)
        if found is None:
            try:
                found = compiled.search(text, timeout=CUE_TIMEOUT_SECONDS) is not None
            except TimeoutError:
                found = True  # undecided: the pattern is scanned as before, under Presidio's own timeout
            self._found[key] = found
        return found


class CuedRegex:
    """A compiled pattern that first checks its cues: no cue in the text, no scan (an empty iterator)."""

    def __init__(self, compiled: Any, cues: Sequence[tuple[int, Any]], cache: CueCache) -> None:
        self.compiled = compiled
        self.cues = tuple(cues)
        self._cache = cache

    def can_match(self, text: str) -> bool:
        return all(self._cache.present(key, cue, text) for key, cue in self.cues)

    def finditer(self, text: str, *args: Any, **kwargs: Any) -> Iterator[Any]:
        if not self.can_match(text):
            return iter(())
        return iter(self.compiled.finditer(text, *args, **kwargs))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled, name)


def install_prechecks(recognizers: Iterable[object], cache: CueCache | None = None) -> int:
    """Give every pattern of every Presidio ``PatternRecognizer`` its cues; return how many got some.

    Presidio recompiles a pattern when called with other flags than it was compiled with; it then
    scans as before (the pre-check is lost, never wrong). A recognizer whose ``analyze`` is
    Presidio's own, all of whose patterns have a missing cue, returns no result without entering
    Presidio's per-pattern loop.
    """
    from presidio_analyzer import PatternRecognizer

    cache = cache if cache is not None else CueCache()
    installed = 0
    for candidate in recognizers:
        if not isinstance(candidate, PatternRecognizer):
            continue
        recognizer: Any = candidate
        flags: int | None = recognizer.global_regex_flags
        if not recognizer.patterns or flags is None:
            continue
        wrapped: list[CuedRegex] = []
        patterns = list(recognizer.patterns)
        for i, pattern in enumerate(patterns):
            cues = necessary_cues(pattern.regex, flags)
            if not cues or isinstance(pattern.compiled_regex, CuedRegex):
                continue
            compiled = pattern.compiled_regex
            if not compiled or pattern.compiled_with_flags != flags:
                compiled = regex.compile(pattern.regex, flags)
            # Pattern objects are shared (a class's PATTERNS serve every instance): the pre-check goes on
            # this recognizer's own copy, so another analyzer in the process scans as before.
            own = copy.copy(pattern)
            own.compiled_regex = cued = CuedRegex(compiled, [cache.compile(c, flags) for c in cues], cache)
            own.compiled_with_flags = flags
            patterns[i] = own
            wrapped.append(cued)
            installed += 1
        recognizer.patterns = patterns
        if len(wrapped) == len(recognizer.patterns) and type(recognizer).analyze is PatternRecognizer.analyze:
            _skip_when_hopeless(recognizer, wrapped)
    return installed


def _skip_when_hopeless(recognizer: Any, patterns: Sequence[CuedRegex]) -> None:
    original = recognizer.analyze
    flags = recognizer.global_regex_flags

    def analyze(text: str, entities: Any, nlp_artifacts: Any = None, regex_flags: int | None = None) -> Any:
        # Other flags than the cues were compiled with: Presidio recompiles, and so the scan runs.
        if regex_flags in (None, flags) and not any(p.can_match(text) for p in patterns):
            return []
        return original(text, entities, nlp_artifacts, regex_flags)

    recognizer.analyze = analyze
