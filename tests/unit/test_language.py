"""Language detection: the fast expressions answer exactly as the original ones."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.inspect import language
from gateway.inspect.language import detect_language

_OLD_WORD = re.compile(r"[a-záéíóúüñ]+", re.IGNORECASE)


def _old_detect(text: str, languages: Sequence[str] = ("en", "es")) -> str:
    """The implementation before the fast expressions (commit 549ad3d)."""
    if not languages:
        return "en"
    if len(languages) == 1:
        return languages[0]
    words = _OLD_WORD.findall(text.lower())
    if not words:
        return languages[0]
    es = sum(w in language._ES for w in words) + 2 * len(re.findall(r"[ñ¿¡]", text))
    en = sum(w in language._EN for w in words)
    es += len(re.findall(r"[áéíóú]", text, re.IGNORECASE)) // 2
    if es > en and "es" in languages:
        return "es"
    if en > es and "en" in languages:
        return "en"
    return languages[0]


def test_the_character_classes_match_every_code_point_as_before() -> None:
    every = "\x00".join(map(chr, range(1, 0x110000)))
    lowered = every.lower()
    assert set("".join(language._WORD.findall(lowered))) == set("".join(_OLD_WORD.findall(lowered)))
    old_accented = re.findall(r"[áéíóú]", every, re.IGNORECASE)
    assert language._ACCENTED.findall(every) == old_accented


_TRICKY = "aeiouns ñÑ¿¡áéíóúÁÉÍÓÚüÜıİſKK.,\n" + "".join(sorted(language._ES | language._EN))


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([*sorted(language._ES | language._EN), *_TRICKY, " ", "the", "el"]), max_size=40),
       st.sampled_from([("en", "es"), ("es", "en"), ("en",), ("es", "fr"), ("fr", "de"), ()]))
def test_detect_language_answers_as_before(pieces: list[str], languages: tuple[str, ...]) -> None:
    text = "".join(pieces)
    assert detect_language(text, languages) == _old_detect(text, languages)
