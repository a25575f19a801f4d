"""Unknown proper nouns read as names: positives, and the look-alikes a support ticket is full of.

The recognizer reads spaCy's tokens (part of speech, entity type, lemma), so the tests run the same
small English model the gateway uses. Values are made up for these tests.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from gateway.inspect.analyzer import SPACY_MODEL
from gateway.plugins.recognizers_en_proper_noun import UnknownProperNounRecognizer


@pytest.fixture(scope="module")
def nlp() -> Any:
    import spacy

    return spacy.load(SPACY_MODEL)


@pytest.fixture(scope="module")
def recognizer() -> UnknownProperNounRecognizer:
    return UnknownProperNounRecognizer(supported_language="en")


def found(recognizer: UnknownProperNounRecognizer, nlp: Any, text: str) -> list[str]:
    artifacts = SimpleNamespace(tokens=nlp(text))
    results = recognizer.analyze(text, ["PERSON", "LOCATION"], artifacts)  # type: ignore[arg-type]
    return sorted(text[r.start:r.end] for r in results)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Why is Torvik so impulsive?", ["Torvik"]),
        ("Unlike the Brannstad novel, it has a happy ending.", ["Brannstad"]),
        ("Stacy is a very patient person.", ["Stacy"]),
        ("Please change the name on the account to Wilhelmina W ten Brook", ["Wilhelmina W ten Brook"]),
        ("Forward it to Mrs. Ingrid Kvalstad.", ["Mrs. Ingrid Kvalstad"]),
        ("The Lorrimer version was recorded in one take.", ["Lorrimer"]),
        ("ΧΟΡΤΙΑΤΗΣ bridge is closed again.", ["ΧΟΡΤΙΑΤΗΣ"]),  # another script
        ("ΠAΦOΣ bridge is closed again.", ["ΠAΦOΣ"]),  # the same after look-alikes were folded to Latin
        # a dictionary word joined by "and" to a name, the pair the subject of a verb
        ("Is it good? Thatcher and Brannstad were engineers.", ["Brannstad", "Thatcher"]),
        ("They said Brannstad and Mason have left.", ["Brannstad", "Mason"]),
    ],
)
def test_unknown_proper_nouns_are_names(
    recognizer: UnknownProperNounRecognizer, nlp: Any, text: str, expected: list[str]
) -> None:
    assert found(recognizer, nlp, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "My Xbox 360 stopped working after the update.",  # a product and its version
        "Netflix and Spotify both fail on my Samsung phone.",  # brands the dictionary does not know
        "Personal Info:\nWebsite:\nexample.org",  # form labels
        "The Users and Musicians tabs are empty.",  # inflected dictionary words
        "We shipped it to Portugal and Norway last Friday.",  # countries and days are not names
        "The Dutch and German versions are fine.",  # nationalities
        "Please reset my password, the SKU is ABC-123.",  # codes in capitals
        "Windows and Office are both updated.",  # brands and words joined by "and"
        "Sales and Marketing were merged into Support.",
        "Netflix and Chill was the campaign.",
        "The Baker and Brewer teams were merged.",  # no name in the pair
        "Tested on Ubuntu and Debian were fine.",
        "Capitalized words like Wisdom and Discipline are virtues.",  # two common words
    ],
)
def test_no_name_in_words_brands_and_labels(recognizer: UnknownProperNounRecognizer, nlp: Any, text: str) -> None:
    assert found(recognizer, nlp, text) == []


def test_registered_for_english_only() -> None:
    from gateway.plugins.recognizers_en_place import aduana_register_recognizers

    languages = {r.supported_language for r in aduana_register_recognizers()
                 if isinstance(r, UnknownProperNounRecognizer)}
    assert languages == {"en"}  # Spanish text ("Hola, quiero …") has its own name rules
