"""Undo the usual ways of hiding personal data from pattern matching, for detection only.

Detection runs on a normalized copy of each text; findings are mapped back to the original's offsets and
the transformation acts on the original, so what the vendor sees keeps its formatting but nothing that
was hidden survives. Normalization:

- HTML character references are decoded (``&#64;`` → ``@``, ``&amp;`` → ``&``);
- invisible format characters are dropped (zero-width space/joiners, word joiner, BOM, soft hyphen…);
- compatibility forms are folded with NFKC (full-width ``４１１１`` → ``4111``, ligatures, superscripts);
- common Cyrillic and Greek look-alikes of Latin letters are folded to Latin (``аnа@еxample.com``);
- a line break between two digits becomes a space where it falls between groups of four (a card number
  wrapped over two lines), and disappears where it splits a group (``4111 11\n11``, ``41111111\n1111…``),
  but only where the digits can be one wrapped card: at least 7 digits (single spaces between groups
  allowed) before the break, or one group of four before it and only groups of four after it
  (``4111\n1111 1111 1111``). A postcode ending a line (``Leeds 12345``) stays apart from a phone
  number or house number starting the next, so neither is glued into a run of digits nobody recognizes.

Every normalized character remembers the span of original characters it came from. Where every character
folds to exactly one character (``1º`` → ``1o``, look-alikes, full-width letters) the spans are the
original's own, and none are kept.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from dataclasses import dataclass

# Unicode "Cf" characters that render as nothing and are used to split tokens.
_INVISIBLE = frozenset(
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3164\ufeff\uffa0"
)

# Look-alikes from Unicode's confusables list that matter for identifiers in Latin-script text.
_HOMOGLYPHS = str.maketrans({
    # Cyrillic
    "а": "a", "в": "B", "е": "e", "к": "k", "м": "M", "н": "H", "о": "o", "р": "p", "с": "c", "т": "T",
    "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l",
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
    "У": "Y", "Х": "X", "І": "I", "Ј": "J", "Ѕ": "S", "Ԁ": "D", "Ү": "Y", "Ԛ": "Q", "Ԝ": "W",
    # Greek
    "α": "a", "ο": "o", "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "ι": "i", "κ": "k", "χ": "x",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin-ish symbols used in place of letters and digits
    "ℓ": "l", "ı": "i", "ȷ": "j", "ɡ": "g", "ꓲ": "I", "ߋ": "o",
})

_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_NEEDS_WORK = re.compile(r"[^\x00-\x7f]|&|[0-9][\r\n]")


@dataclass(frozen=True)
class Normalized:
    """A normalized text and, per character, the original ``[start, end)`` it came from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @property
    def identity(self) -> bool:
        """Whether each character sits where its original does (the text itself may be folded)."""
        return not self.starts

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` of the normalized text to the original text."""
        if self.identity:
            return start, end
        if end <= start:
            position = self.starts[start] if start < len(self.starts) else (self.ends[-1] if self.ends else 0)
            return position, position
        return self.starts[start], self.ends[end - 1]


# Characters the character pass changes even in NFKC-normalized text.
_CHANGED = re.compile("[&" + re.escape("".join(sorted(_INVISIBLE))) + "".join(
    re.escape(chr(c)) for c in sorted(_HOMOGLYPHS)) + "]")
_BREAK = re.compile(r"[\r\n]")


def normalize(text: str) -> Normalized:
    """Normalize ``text`` for detection (see the module docstring); text it would not change is returned as is."""
    if not _NEEDS_WORK.search(text) or _unchanged(text):
        return Normalized(text, (), ())
    folded = _folded_in_place(text)
    if folded is not None:
        return Normalized(folded, (), ())
    return _normalize_slow(text)


def _unchanged(text: str) -> bool:
    """True when the character pass would return ``text`` exactly (the fast path).

    That holds when the text is NFKC-normalized (so each character folds to itself), has no ``&``,
    invisible character or look-alike, and no line break right after a digit. Most non-ASCII text (all
    ordinary Spanish) qualifies, and this check runs in C but for the rare line breaks after a character.
    ``tests/unit/test_normalize.py`` checks it against the character pass on random tricky strings.
    """
    if _CHANGED.search(text) or not unicodedata.is_normalized("NFKC", text):
        return False
    return not any(m.start() > 0 and text[m.start() - 1].isdigit() for m in _BREAK.finditer(text))


def _folded_in_place(text: str) -> str | None:
    """The character pass's output when every character folds to exactly one, else None (the second fast path).

    Then nothing moves: no reference is decoded, nothing invisible dropped, no line break after a digit
    considered, so the folded text's offsets are the original's. Ordinary Spanish with ``º``/``ª`` (which
    NFKC folds to ``o``/``a``) is the common case. Checked against the character pass with the first fast
    path in ``tests/unit/test_normalize.py``.
    """
    if "&" in text and any(html.unescape(m.group(0)) != m.group(0) for m in _ENTITY.finditer(text)):
        return None
    out = text
    for ch in set(text):
        if ch >= "\x80":
            folded = _fold_one(ch)
            if len(folded) != 1:
                return None
            if folded != ch:
                out = out.replace(ch, folded)  # a few distinct characters: faster than translate()
    if any(m.start() > 0 and out[m.start() - 1].isdigit() for m in _BREAK.finditer(out)):
        return None  # the character pass may join a wrapped card number here
    return out


@functools.lru_cache(maxsize=4096)
def _fold_one(ch: str) -> str:
    return _fold(ch)


def _normalize_slow(text: str) -> Normalized:
    """The character pass: every character folded, with its original span."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def emit(chunk: str, start: int, end: int) -> None:
        for ch in chunk:
            out.append(ch)
            starts.append(start)
            ends.append(end)

    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "&":
            m = _ENTITY.match(text, i)
            if m is not None:
                decoded = html.unescape(m.group(0))
                if decoded != m.group(0):
                    emit(_fold(decoded), i, m.end())
                    i = m.end()
                    continue
        if ch in _INVISIBLE:
            i += 1
            continue
        if ch in "\r\n" and out and out[-1].isdigit():
            j = i
            while j < n and text[j] in "\r\n \t" + "".join(_INVISIBLE):
                j += 1
            if j < n and _fold(text[j])[:1].isdigit() and _wrapped_card(out, text, j):
                emit(_break_replacement(out), i, j)
                i = j
                continue
        emit(_fold(ch), i, i + 1)
        i += 1
    return Normalized("".join(out), tuple(starts), tuple(ends))


_GROUPS = re.compile(r"\d+(?: \d+)*")


def _wrapped_card(out: list[str], text: str, j: int) -> bool:
    """Whether a line break between ``out`` (folded so far) and ``text[j:]`` can split one card number.

    Before the break: at least 7 digits in groups separated by single spaces, or a single group of
    four followed, after the break, by two or more groups of four (the last may be cut by the window).
    """
    before = [0]
    for k in range(len(out) - 1, -1, -1):
        ch = out[k]
        if ch.isdigit():
            before[-1] += 1
        elif ch == " " and before[-1] and k > 0 and out[k - 1].isdigit():
            before.append(0)
        else:
            break
    if sum(before) >= 7:
        return True
    if before != [4]:
        return False
    window = _fold(text[j:j + 24])
    ahead = _GROUPS.match(window)
    if ahead is None:
        return False
    groups = ahead.group(0).split(" ")
    complete = groups if ahead.end() < len(window) else groups[:-1]
    return len(groups) >= 2 and all(len(g) == 4 for g in complete)


def _break_replacement(out: list[str]) -> str:
    """What a line break after a digit becomes: a space after a group of four digits, else nothing."""
    run = 0
    for ch in reversed(out):
        if not ch.isdigit():
            break
        run += 1
    return " " if run == 4 else ""


def _fold(chunk: str) -> str:
    folded = unicodedata.normalize("NFKC", chunk).translate(_HOMOGLYPHS)
    return "".join(c for c in folded if c not in _INVISIBLE)
