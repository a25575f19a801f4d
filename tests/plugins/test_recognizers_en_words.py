"""What makes a capitalised word a name: identifiers and sentence-initial dictionary words are not.

The small spaCy model tags "Order ACME-ORD-123457" PERSON at a sentence start, and the name rules took
"Order Smith" whole. Values are made up for these tests.
"""

from __future__ import annotations

import pytest

from gateway.inspect.analyzer import could_be_name
from gateway.inspect.lexicon import is_common_not_proper, name_start
from gateway.plugins.recognizers_en_person import EnglishPersonContextRecognizer
from gateway.plugins.recognizers_en_place import TownGazetteerRecognizer


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("Order ACME-ORD-123457", False),
        ("CUST-0012348", False),
        ("jdoe@example.org", False),
        ("Ana María Ruiz-Mateos", True),
        ("O'Brien", True),
        ("Jovanović", True),
    ],
)
def test_identifiers_are_not_names(span: str, expected: bool) -> None:
    assert could_be_name(span) is expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [("Order", True), ("Ticket", True), ("Customer", True), ("Mark", False), ("Bill", False),
     ("Mille", False), ("Kristensen", False)],
)
def test_dictionary_words_that_are_never_names(word: str, expected: bool) -> None:
    assert is_common_not_proper(word) is expected


@pytest.mark.parametrize(
    ("text", "span", "expected"),
    [
        ("Order Smith said hi.", "Order Smith", "Smith"),
        ("Thanks. Ticket Jones lives here.", "Ticket Jones", "Jones"),
        ("Mark Smith said hi.", "Mark Smith", "Mark Smith"),  # a given name, not a sentence start
        ("I asked Order Smith.", "Order Smith", "Order Smith"),  # not at a sentence start
        ("order smith said hi.", "order smith", "order smith"),  # lower-case text is not cased by it
        ("Customer Rossi\n12 Via Roma 4", "Customer Rossi", "Customer Rossi"),  # a line of its own
        ("Order said hi.", "Order", None),
    ],
)
def test_name_start_cuts_a_sentence_initial_dictionary_word(text: str, span: str, expected: str | None) -> None:
    start = text.index(span)
    cut = name_start(text, start, start + len(span))
    assert (None if cut is None else text[cut:start + len(span)]) == expected


def test_name_rules_do_not_take_a_sentence_initial_word() -> None:
    recognizer = EnglishPersonContextRecognizer(supported_language="en")
    text = "Order Smith's address changed. Ana López's phone too."
    results = recognizer.analyze(text, ["PERSON"], None)
    assert sorted(text[r.start:r.end] for r in results) == ["Ana López", "Smith"]


# --- towns from the gazetteer ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gazetteer() -> TownGazetteerRecognizer:
    return TownGazetteerRecognizer(supported_language="en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Berg flew to Helsinki on Tuesday morning.", ["Helsinki"]),
        ("We met at Example Corp. in BRIVE-LA-GAILLARDE, which later closed.", ["BRIVE-LA-GAILLARDE"]),
        ("When: today\nWhere: Feira de Santana Country Club.", ["Feira de Santana"]),
        ("We returned to Grange by helicopter.", ["Grange"]),  # a word, but after "to"
        ("Ana Ruiz\n\nLIIVAKYLA\nEstonia", ["LIIVAKYLA"]),  # the line above a country line
        ("}} Suite 319\n}} Fliessemdorf\n}} Germany 44943", ["Fliessemdorf"]),
    ],
)
def test_towns_by_name(gazetteer: TownGazetteerRecognizer, text: str, expected: list[str]) -> None:
    results = gazetteer.analyze(text, ["LOCATION"], None)
    assert sorted(text[r.start:r.end] for r in results) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Reading the manual helps. Orange is my favourite colour.",  # towns that are words
        "Nice to meet you! Mobile: 555 0100.",
        "Please ship it to France by Friday.",  # a country is not personal data
        "the order went to helsinki",  # lower case: not a place name
        "Total\nGermany",  # a dictionary word above a country line is a label
        "Where: Country Club.",  # a town of that name exists; both words are words
    ],
)
def test_no_town_in_ordinary_words(gazetteer: TownGazetteerRecognizer, text: str) -> None:
    found = [text[r.start:r.end] for r in gazetteer.analyze(text, ["LOCATION"], None)]
    assert found == []
