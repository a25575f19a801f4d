"""Lower-case names in English text: a cue that announces a person, and a word no dictionary knows.

Names are made up for these tests; negatives are ordinary lower-case words after the same cues
("said hello to", "my kid brother", "name: required"), brands and modern words, and form labels.
"""

from __future__ import annotations

import pytest

from gateway.plugins.recognizers_en_lower_name import LowerCaseNameRecognizer


def found(text: str, language: str = "en", entity: str = "PERSON") -> list[str]:
    recognizer = LowerCaseNameRecognizer(supported_language=language)
    return sorted({text[r.start:r.end] for r in recognizer.analyze(text, [entity], None) if r.entity_type == entity})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("i'm so jealous! said tamsin to oswin", ["oswin", "tamsin"]),              # reported speech
        ("hello, this is mr. kalvo rieske. who are you?", ["kalvo rieske"]),        # a title
        ("i want to remove my kid zorina from the will.", ["zorina"]),              # a relative
        ("it was settled between him and ludvek's kid.", ["ludvek"]),               # a possessive
        ("as promised, here's andrik's address:", ["andrik"]),
        ("hi brannoc, i'm writing about a problem", ["brannoc"]),                   # a greeting
        ("name:    emek krabov\naddress: somewhere", ["emek krabov"]),              # a name label
        ("what's your last name? andersby", ["andersby"]),
        ("my name is hrodvin j babarić but everyone calls me hrodvin", ["hrodvin", "hrodvin j babarić"]),
        ("we need to add vidor persk as guardian", ["vidor persk"]),                # a role or credit
        ("detained the tennis player kristel boyanova over visa disputes", ["kristel boyanova"]),
        ("arranged and sung by hiroto nakamiya in 1943", ["hiroto nakamiya"]),
        ("nasune oyokami lives at 12 elm road", ["nasune oyokami"]),                # a verb of residence
        ("bozka: what a day.\ncyntara: remember me?", ["bozka", "cyntara"]),        # a dialogue
        ("so it is you. remember me, dervik? when i left", ["dervik"]),           # a vocative
        ("leighara mackovy\n\nla sagnette\nswitzerland", ["leighara mackovy"]),     # a contact card's head
        ("sung by hiroto nakamiya; it may be that nakamiya knew", ["hiroto nakamiya", "nakamiya"]),  # recurs
    ],
)
def test_lower_case_name_after_a_cue(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "he said hello to my kid brother and said thanks to the team.",
        "name: required\nphone: optional",
        "note: call back later.\nstatus: open and pending.",
        "my son's xbox broke and my daughter's iphone too.",
        "the player zoom failed; the manager asked about it.",
        "Hi team, my name is not listed. The Manager asked Tamsin about it.",    # capitals: other rules
        "please add 2 licences as soon as possible",
        "the customer complained about order 1234's shipping",
        "hi there, the app's login page is down",
        "written by the support team, directed by management",
        "my wife's car was serviced by acme motors",
        "pls help\nmy order is late",                                           # "help" is a word
        "order status\nshipped",
        "is it done, right?",
        "thanks, xbox!",
    ],
)
def test_no_lower_case_name_in_ordinary_words(text: str) -> None:
    assert found(text) == []


def test_dialogue_rule_is_english_only() -> None:
    text = "asunto: pedido retrasado.\nnombre: pendiente de revisar."
    assert found(text, "es") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the princess arrived at wroclavik this morning", ["wroclavik"]),
        ("while studying at the university of hellaby.", ["hellaby"]),
        ("mr. hale flew to kastorvik on saturday", ["kastorvik"]),
        ("the parcel arrived at the depot this morning", []),          # ordinary words
        ("i grew up in poverty and moved to town", []),
        ("i grew up in london", ["london"]),                              # a town written in lower case
        ("the update arrived at 9 am", []),
    ],
)
def test_lower_case_town_after_a_verb_of_moving(text: str, expected: list[str]) -> None:
    assert found(text, entity="LOCATION") == expected
