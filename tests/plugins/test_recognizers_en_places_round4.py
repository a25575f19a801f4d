"""Fourth-round place rules: streets between two numbers, lower-case streets before a street word,
postcodes of more countries after a postcode word, towns after "returned to" and before a country
club, and a name heading a text. Values are made up for these tests; negatives are amounts, times,
pages, product names and headings.
"""

from __future__ import annotations

import pytest

from gateway.plugins.recognizers_en_address import TownInProseRecognizer
from gateway.plugins.recognizers_en_lower_name import LowerCaseNameRecognizer
from gateway.plugins.recognizers_en_street import StreetWithoutStreetWordRecognizer


def streets(text: str) -> list[str]:
    recognizer = StreetWithoutStreetWordRecognizer(supported_language="en")
    return sorted({text[r.start:r.end] for r in recognizer.analyze(text, ["LOCATION"], None)})


def towns(text: str) -> list[str]:
    recognizer = TownInProseRecognizer(supported_language="en")
    return sorted({text[r.start:r.end] for r in recognizer.analyze(text, ["LOCATION"], None) if r.score >= 0.5})


def heads(text: str, language: str = "en") -> list[str]:
    recognizer = LowerCaseNameRecognizer(supported_language=language)
    return sorted({text[r.start:r.end] for r in recognizer.analyze(text, ["PERSON"], None)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The restaurant is at 0413 Brovikstrasse 95", ["0413 Brovikstrasse 95"]),  # number on both sides
        ("The restaurant is at 0413 kopfhalvstrasse 95.", ["0413 kopfhalvstrasse 95"]),
        ("The cafe is at 5278 Άγιος Νικόλαος 4", ["5278 Άγιος Νικόλαος 4"]),
        ("Pedestrians must enter on Rue du Vallon 123 St. for now", ["Rue du Vallon 123"]),  # dictionary word inside
        ("lena lives on parkvangen 9 street.", ["parkvangen 9"]),  # lower case before a street word
        ("the title refers to allikmaa 46 street in tartu.", ["allikmaa 46"]),
        ("the restaurant is at 48072 65 annfield rd", ["48072 65 annfield rd"]),  # the street word is the name's
        ("the restaurant is at 12 baker street.", ["12 baker street"]),
    ],
)
def test_streets_between_numbers_and_before_street_words(text: str, expected: list[str]) -> None:
    assert streets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "It costs 500 dollars at 2 Euro 50.",  # an amount
        "The order ships at 5 pm 20.",
        "See you at 10 Model 3.",  # a product and its number
        "Turn to page 9 street view for the map.",  # dictionary words before a street word
        "He lives on the 3 floor 2.",
        "The file is at 2 gb street.",  # a unit between number and street word
        "I play it on Xbox 360.",
    ],
)
def test_no_street_in_amounts_times_and_products(text: str) -> None:
    assert streets(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("my zip code is 380", ["380"]),  # Iceland
        ("ZIP: 5040-033", ["5040-033"]),  # Portugal
        ("My zip code is 48608-580", ["48608-580"]),  # Brazil
        ("My postal code is 1234 BA", ["1234 BA"]),  # the Netherlands
        ("we returned to DUNVALE by helicopter.", ["DUNVALE"]),
        ("When: 1992-04-21\nWhere: SOUTH TRAYLOW Country Club.", ["SOUTH TRAYLOW"]),
        ("Where: Groot-Leende Golf Club", ["Groot-Leende"]),
        ("Looking to support Acme Ltd. in Camarate 2605-043 in its mission", ["Camarate 2605-043"]),
        ("Looking to support Acme Ltd. in Stoney Point N0R 1N0 in its mission", ["Stoney Point N0R 1N0"]),
    ],
)
def test_postcodes_and_towns(text: str, expected: list[str]) -> None:
    assert towns(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Order 380 shipped; the code is 5040-033.",  # no postcode word
        "my zip code is wrong, it has 380 items",
        "The invoice total is 1234 EUR.",
        "we returned to the store by car.",
        "Where: Royal Golf Club",
        "Where: Main Hall",
        "Where: The Country Club",
        "We launched in Berlin 2024-001 as a pilot.",  # not after a town: a project code
        "It happened in 2019 in March.",
    ],
)
def test_no_postcode_or_town_without_a_cue(text: str) -> None:
    assert towns(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wade Booker\n\n974 Rue Lafayette\nParis", ["Wade Booker"]),  # given name and surname
        ("Elżbieta Majewska\nACME REAL ESTATE CO.\nPSC 6585, Box 12", ["Elżbieta Majewska"]),
        ("Jean V Rodriguez\n\nCsanádhely\nHungary", ["Jean V Rodriguez"]),
        ("}}Helena T. Hřibová\n}}Highway Capital plc", ["Helena T. Hřibová"]),  # quoted block
        ("coral barajas\n\nnew westminster\ncanada", ["coral barajas"]),
        ("Savannah S. Beet\n\n790 Rue de Bayrout", ["Savannah S. Beet"]),  # a middle initial
    ],
)
def test_name_heading_a_text(text: str, expected: list[str]) -> None:
    assert heads(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Order Confirmation\n\nThanks for your order",
        "Shipping Address\n12 Main St",
        "Rose Gold\nIn stock",  # an everyday given name and a surname that is a word
        "Best Regards\nTeam",
        "Hello Team\nThe printer is broken.",
        "Acme Support\nTicket 123",
        "Wade Booker",  # alone: no more lines, nothing heads
        "Dear Anna Ruiz,\nthanks",
        "Section A Overview\nThe plan covers",  # an initial, but no given name before it
        "Grace A. Period\nnotes",  # an everyday given name
        "Plan B Options\nfor you",
    ],
)
def test_no_name_heading_in_headings(text: str) -> None:
    assert heads(text) == []


def corners(text: str) -> list[str]:
    from gateway.plugins.recognizers_en_street import CornerWithoutCornerWordRecognizer

    recognizer = CornerWithoutCornerWordRecognizer(supported_language="en")
    return [text[r.start:r.end] for r in recognizer.analyze(text, ["LOCATION"], None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please update the billing address with Sadiro and 99 Canterbury Road for this card: 3043",
         ["Sadiro and 99 Canterbury Road"]),  # after "with", the sentence goes on
        ("Can you please validate the following? Ilse and Rua Nova 12", ["Ilse and Rua Nova 12"]),
    ],
)
def test_corners_after_with_and_questions(text: str, expected: list[str]) -> None:
    assert corners(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "See Section 3 and Section 4 for details.",
        "It works with Model 3 and Model 5 for now.",
        "I am in Paris and Berlin for 3 days.",
        "Compatible with iPhone 12 and Galaxy S21 for sure",
        "Which plan? Basic and Premium 2 for teams.",
    ],
)
def test_no_corner_in_sections_models_and_plans(text: str) -> None:
    assert corners(text) == []
