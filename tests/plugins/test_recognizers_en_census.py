"""Census names as one signal among others: positives, and the everyday words that are also names.

The 1990 US census lists (``names`` wheel) know "Will", "Hope", "Park", "Gold" and "Fields" as
names; none of them may be hidden on the lists' word alone. Values are made up for these tests.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from gateway.inspect.analyzer import SPACY_MODEL
from gateway.inspect.lexicon import common_surnames, given_names, name_start, surnames
from gateway.plugins.recognizers_en_lower_name import LowerCaseNameRecognizer
from gateway.plugins.recognizers_en_person import EnglishPersonContextRecognizer
from gateway.plugins.recognizers_en_proper_noun import UnknownProperNounRecognizer


@pytest.fixture(scope="module")
def nlp() -> Any:
    import spacy

    return spacy.load(SPACY_MODEL)


def proper_nouns(nlp: Any, text: str) -> list[str]:
    artifacts = SimpleNamespace(tokens=nlp(text))
    results = UnknownProperNounRecognizer(supported_language="en").analyze(
        text, ["PERSON", "LOCATION"], artifacts  # type: ignore[arg-type]
    )
    return sorted(text[r.start:r.end] for r in results)


def context_names(text: str) -> list[str]:
    recognizer = EnglishPersonContextRecognizer(supported_language="en")
    return sorted({text[r.start:r.end] for r in recognizer.analyze(text, ["PERSON"], None) if r.score >= 0.5})


def lower_names(text: str) -> list[str]:
    recognizer = LowerCaseNameRecognizer(supported_language="en")
    return sorted({text[r.start:r.end] for r in recognizer.analyze(text, ["PERSON", "LOCATION"], None)})


# --- the lists ----------------------------------------------------------------------------------------


def test_census_lists_are_read_from_the_wheel() -> None:
    assert len(given_names()) > 5000 and len(surnames()) > 20000
    assert "heather" in given_names() and "sanders" in surnames()
    # the commonest surnames only: a rare one is as often a plain word ("points")
    assert "martins" in common_surnames() and "points" in surnames() and "points" not in common_surnames()


@pytest.mark.parametrize(
    ("text", "announced", "expected"),
    [
        ("Jasmine shouted at him.", True, 0),  # a cue found it: the given name stays
        ("Jasmine shouted at him.", False, None),  # without one, a sentence's dictionary word goes
        ("Order shouted at him.", True, None),  # not a given name: cut whatever the cue
    ],
)
def test_name_start_keeps_an_announced_given_name(text: str, announced: bool, expected: int | None) -> None:
    assert name_start(text, 0, text.index(" "), announced=announced) == expected


# --- capitalised names: the proper-noun rule -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Heather is a very patient person.", ["Heather"]),  # sentence start, a verb follows
        ("Sean is a very patient person.", ["Sean"]),  # the tagger calls it a nationality
        ("The true gender of Heather was debated.", ["Heather"]),
        ("Have you been to a Wade Booker concert before?", ["Wade Booker"]),  # given name + surname
    ],
)
def test_census_names_with_a_second_signal(nlp: Any, text: str, expected: list[str]) -> None:
    assert proper_nouns(nlp, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I want the Rose Gold model, not the Space Gray one.",  # everyday given name + surname-word
        "Please contact Customer Service or Sales about the Fields.",  # plurals of words
        "The Border Force has detained him.",  # surnames that are words, no given name
        "Will you Mark the Bill as paid? Hope so.",  # everyday given names
        "Price Match applies at checkout.",
        "Pinto is a kind of bean.",  # a surname that is a word, alone
        "We speak Greek and Dutch at home.",  # nationalities
        "Black Friday deals end on May 3.",
    ],
)
def test_no_census_name_in_everyday_words(nlp: Any, text: str) -> None:
    assert proper_nouns(nlp, text) == []


# --- cues ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm so jealous! said Tuomo to Dawn", ["Dawn", "Tuomo"]),  # the name ends the text
        ("Jasmine shouted at Phillip: stop!", ["Jasmine", "Phillip"]),  # given name opening the sentence
        ("Don't go to town, Amber!", ["Amber"]),  # a vocative starting like "a", "an"
        ("She named him Rayan", ["Rayan"]),
        ("Have you heard Tomas Velde speak yet?", ["Tomas Velde"]),
        ("What's your name? Tore Halvorsen", ["Tore Halvorsen"]),
        ("Bot: What's the name on the account? User: Amber Ozolins", ["Amber Ozolins"]),
        ("The name is wrong, please change it to Alette P. Lindqvist", ["Alette P. Lindqvist"]),
        ("It's under my partner's name Marina Ozolinsh", ["Marina Ozolinsh"]),
    ],
)
def test_names_after_cues(text: str, expected: list[str]) -> None:
    assert context_names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Please change it to Express Shipping.",  # no name talked about
        "The plan is called Premium Plan.",
        "Have you heard the news? It works now.",
        "Order shouted at the screen.",
        "Don't go to town, And then what?",
        "It was a tribute to Customer Service.",  # plain words after the cue
        "The product's name Express Shipping is new.",
    ],
)
def test_no_name_after_cues_without_one(text: str) -> None:
    assert context_names(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("have you heard júlia cardoso speak yet?", ["júlia cardoso"]),
        ("a tribute to cettina fanucci, sadly", ["cettina fanucci"]),
        ("my grandmother was called natalie aupry", ["natalie aupry"]),
        ("a mandolin coda (not by alexander grishin).", ["alexander grishin"]),
        ("the name is wrong, please change it to sophie langholm", ["sophie langholm"]),
        ("i would like to remove my kid benjamin from the will.", ["benjamin"]),  # a given name that is a word
        ("follow up with leokadia wiśniewska in a couple of months.", ["leokadia wiśniewska"]),
    ],
)
def test_lower_case_names_after_cues(text: str, expected: list[str]) -> None:
    assert lower_names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "have you heard the news? it was called an update",
        "a tribute to the team (not by design).",
        "please change it to express shipping",
        "el pedido fue llamado por teléfono",
        "follow up with rusty nails in a month",  # an everyday given name
        "he said hello to my kid brother.",
    ],
)
def test_no_lower_case_name_after_cues_without_one(text: str) -> None:
    assert lower_names(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("you can tell nicole was a huge nicole mahlberg fan.", ["nicole", "nicole mahlberg"]),
        ("you picked a fine time to leave me maura, four hungry children", ["maura"]),
        ("my order from austin never arrived", ["austin"]),  # a town: hidden all the same
    ],
)
def test_given_names_in_lower_cased_text(text: str, expected: list[str]) -> None:
    assert lower_names(text) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("i will ship it in april to america and asia, ask alexa or siri.", "en"),  # months, continents, brands
        ("brad will mark it, hope the bill is paid in may.", "en"),  # given names that are words
        ("Nicole is here, the text is not lower-cased", "en"),  # capitals: the other rules' business
        ("mi amiga nicole vive aqui", "es"),  # English text only
    ],
)
def test_no_given_name_in_lower_cased_words(text: str, language: str) -> None:
    recognizer = LowerCaseNameRecognizer(supported_language=language)
    assert recognizer.analyze(text, ["PERSON"], None) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Maybe it's under Sven Asplund", ["Sven Asplund"]),
        ("I would like to remove my son Aurelio from the will.", ["Aurelio"]),
    ],
)
def test_names_after_weak_cues(text: str, expected: list[str]) -> None:
    assert context_names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "It's under Review now.",  # a surname that is a word is not enough after a weak cue
        "My son Price is high.",
        "It was under Warranty Service until May.",
    ],
)
def test_no_name_after_weak_cues_without_one(text: str) -> None:
    assert context_names(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("maybe it's under neža u bjelajac", ["neža u bjelajac"]),
        ("as regular commenter aya lindström points out", ["aya lindström"]),
    ],
)
def test_lower_case_names_after_weak_cues(text: str, expected: list[str]) -> None:
    assert lower_names(text) == expected


def test_lower_case_town_after_based_in() -> None:
    assert lower_names("the agency is based in pinellas.") == ["pinellas"]
    assert lower_names("the agency is based in the city.") == []
