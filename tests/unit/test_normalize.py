"""Normalization for detection: hidden personal data becomes visible, offsets map back exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.inspect.normalize import normalize


@pytest.mark.parametrize(
    ("hidden", "visible"),
    [
        ("４１１１ １１１１ １１１１ １１１１", "4111 1111 1111 1111"),           # full-width digits
        ("ana\u200b.gil@exa\u200dmple.com", "ana.gil@example.com"),            # zero-width characters
        ("4111\u200b1111\u200c1111\u20601111", "4111111111111111"),
        ("аnа.gіl@еxample.com", "ana.gil@example.com"),                         # Cyrillic look-alikes
        ("ana&#46;gil&#64;example&period;com", "ana.gil@example.com"),          # HTML character references
        ("card 4111 1111\n1111 1111", "card 4111 1111 1111 1111"),              # wrapped over two lines
        ("card 4111 1111\r\n 1111 1111", "card 4111 1111 1111 1111"),
        ("DNI 1234\u00ad5678Z", "DNI 12345678Z"),                               # soft hyphen
        ("Hola José, ¿qué tal?", "Hola José, ¿qué tal?"),                       # ordinary Spanish untouched
        ("line one\nline two", "line one\nline two"),                           # ordinary line breaks kept
        ("card 4111 1111 11\r\n11 1111", "card 4111 1111 1111 1111"),          # a group split
        ("card 41111111\n11111111", "card 4111111111111111"),
        ("card ４１１１\n1111 1111 1111.", "card 4111 1111 1111 1111."),        # one group, then the rest
    ],
)
def test_hidden_values_become_visible(hidden: str, visible: str) -> None:
    assert normalize(hidden).text == visible


# A line break after a digit is kept where the digits cannot be one wrapped card: a postcode ending a
# line stays apart from the phone number, house number or order number on the next.
@pytest.mark.parametrize(
    "text",
    [
        "Leeds 12345\n99-99-99-99 Office",                # postcode, then a phone
        "Leeds LS1 2000\n0412 345 678 mobile",            # 4-digit postcode, then a grouped phone
        "Springfield 62704\n555 0199",
        "Apt. 12\n221 Baker Street",                      # unit, then a house number
        "Order 123456\n7 items",                          # 6 digits is not a wrapped card
        "Tarjeta 4111\n1111",                             # one group, one group: too short for a card
        "Total 4500\n12 months",
    ],
)
def test_short_digit_runs_are_not_joined_across_lines(text: str) -> None:
    assert normalize(text).text == text


def test_offsets_map_back_to_the_original() -> None:
    original = "Mail: ana&#64;example.com, card ４１１１\n1111 1111 1111."
    norm = normalize(original)
    start = norm.text.index("ana@example.com")
    s, e = norm.span(start, start + len("ana@example.com"))
    assert original[s:e] == "ana&#64;example.com"
    start = norm.text.index("4111 1111 1111 1111")
    s, e = norm.span(start, start + 19)
    assert original[s:e] == "４１１１\n1111 1111 1111"


def test_plain_ascii_is_the_identity_fast_path() -> None:
    norm = normalize("Plain text, 4111 1111 1111 1111.")
    assert norm.identity and norm.span(3, 7) == (3, 7)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(max_size=80))
def test_spans_always_stay_inside_the_original(text: str) -> None:
    norm = normalize(text)
    n = len(norm.text)
    for start in range(n + 1):
        for end in range(start, min(n, start + 3) + 1):
            s, e = norm.span(start, end)
            assert 0 <= s <= e <= len(text)


# Characters the fast path must get right: ASCII, Spanish, entities, breaks after digits of any script,
# invisible characters, look-alikes, compatibility forms, combining marks and conjoining jamo.
_TRICKY = st.sampled_from(list(
    "aZ09 .@-&#;x\r\n\t" "áéíóúñÑüÜ¿¡ºª€"
    "\u200b\u200d\u00ad\ufeff\u2060" "аеорсАΑοΟ"
    "４１ｆﬁ²①" "١٢३" "\u0301\u0308" "\u1100\u1161\u11a8가"
))
_TEXTS = st.one_of(
    st.lists(_TRICKY, max_size=24).map("".join),
    st.text(max_size=24),
    st.lists(st.sampled_from(["&amp;", "&#64;", "&period;", "&bogus;", "4\n", "\n5", "José ", "١\n"]),
             max_size=6).map("".join),
)


@settings(max_examples=2000, deadline=None, database=None)
@given(_TEXTS)
def test_fast_path_gives_the_character_pass_output(text: str) -> None:
    from gateway.inspect.normalize import _normalize_slow

    fast, slow = normalize(text), _normalize_slow(text)
    assert fast.text == slow.text
    for start in range(len(fast.text) + 1):
        for end in range(start, len(fast.text) + 1):
            assert fast.span(start, end) == slow.span(start, end)


def test_fast_path_is_taken_for_plain_spanish() -> None:
    assert normalize("Hola José, ¿qué tal? Pagué 20 €.\nGracias").identity
    assert not normalize("Tarjeta 4111 1111\n1111 1111").identity


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("C/ Mayor 5, 1º B, 2ª planta", "C/ Mayor 5, 1o B, 2a planta"),   # ordinals fold to letters
        ("аnа@еxample.com, Tel. ６００", "ana@example.com, Tel. 600"),     # look-alikes, full-width digits
        ("R&D team, AT&T &bogus; ﬁ", None),                                # a ligature folds to two letters
        ("Tarjeta ４１１１\n1111", None),                                   # a break after a digit: the pass decides
        ("Nº &#64;", None),                                                # a reference is decoded
    ],
)
def test_one_to_one_folds_keep_offsets(text: str, folded: str | None) -> None:
    from gateway.inspect.normalize import _normalize_slow

    norm = normalize(text)
    assert norm.text == _normalize_slow(text).text
    if folded is not None:  # the second fast path: folded in place, no span table
        assert norm.identity and norm.text == folded
    else:
        assert not norm.identity
