"""Streets without a street word of their own, and postcodes written in two groups.

Values are made up for these tests; negatives are product names and versions after the same
prepositions ("on Xbox 360", "on Windows 10"), rooms, pages and gates.
"""

from __future__ import annotations

import pytest

from gateway.plugins.recognizers_en_address import StreetAddressRecognizer, TownInProseRecognizer
from gateway.plugins.recognizers_en_street import CornerWithoutCornerWordRecognizer, StreetWithoutStreetWordRecognizer


def found(text: str) -> list[str]:
    recognizer = StreetWithoutStreetWordRecognizer(supported_language="en")
    return [text[r.start:r.end] for r in recognizer.analyze(text, ["LOCATION"], None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The title refers to Moerbeigracht 35 street in Zwolle.", ["Moerbeigracht 35"]),
        ("Pedestrians must enter on Trg slobode 17 St. for now", ["Trg slobode 17"]),
        ("Pedestrians must enter on Κασνέτη 22 St. for now", ["Κασνέτη 22"]),
        ("The bus station is on Kuusiku 17", ["Kuusiku 17"]),
        ("He lives on the north side of Baltasar Oribe 5334.", ["Baltasar Oribe 5334"]),
    ],
)
def test_street_without_street_word(text: str, expected: list[str]) -> None:
    assert found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "My game is on Xbox 360.",
        "It only happens on Windows 10, and on Office 365.",
        "I'm on Ubuntu 22.04 and on iOS 17.",
        "The meeting is at Room 101, then at Gate 7.",
        "The issue is on page 12.",
        "Está en la calle Mayor 5, en Madrid.",  # Spanish: its own address rules
    ],
)
def test_no_street_in_products_rooms_and_versions(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My zip code is 45-710", ["45-710"]),
        ("postal code: 252 62", ["252 62"]),
        ("We opened an office in Gdańsk 80-170 last year", ["Gdańsk 80-170"]),
    ],
)
def test_postcodes_in_two_groups(text: str, expected: list[str]) -> None:
    recognizer = TownInProseRecognizer(supported_language="en")
    assert [text[r.start:r.end] for r in recognizer.analyze(text, ["LOCATION"], None)] == expected


@pytest.mark.parametrize("text", ["Order 45-710 shipped", "It costs 252 62 units", "Version 10-12 is out"])
def test_no_postcode_without_a_postcode_word(text: str) -> None:
    recognizer = TownInProseRecognizer(supported_language="en")
    assert recognizer.analyze(text, ["LOCATION"], None) == []


def test_house_number_ending_in_a_dot() -> None:
    text = "We'll meet at Example Ltd., 409 Nánási út 66., Pusztavám"
    results = StreetAddressRecognizer(supported_language="en").analyze(text, ["LOCATION"], None)
    assert [text[r.start:r.end] for r in results] == ["409 Nánási út 66., Pusztavám"]


def corners(text: str) -> list[str]:
    recognizer = CornerWithoutCornerWordRecognizer(supported_language="en")
    return [text[r.start:r.end] for r in recognizer.analyze(text, ["LOCATION"], None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ACME LTD\n\nOrvane and Postbox 297", ["Orvane and Postbox 297"]),
        ("Jan Kos\nAcme Brothers Limited\nMarlow and Teichweg 159\nMobile: 071 981 42 47",
         ["Marlow and Teichweg 159"]),
        ("Bot: Where should we send it? User: Orvane and Aqqusinerbakken 111", ["Orvane and Aqqusinerbakken 111"]),
        ("Do they serve vegan food? It's in Kestrel and Lindenallee 188", ["Kestrel and Lindenallee 188"]),
        ("The address of Acme Inc. is Brisa and Kongevejen 12.", ["Brisa and Kongevejen 12"]),
    ],
)
def test_corner_without_corner_word(text: str, expected: list[str]) -> None:
    assert corners(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Terms and Conditions 2024",
        "Please read the Terms and Conditions 2024.",
        "See the details in Section 3 and Section 4.",
        "It is available in Model 3 and Model 5.",
        "Price is: Gold 3 and Silver 5",
        "We compared Model 3 and Model 5 in the review.",       # does not end the sentence
        "Salt and Pepper",                                      # no number
        "My phones are: iPhone 12 and Galaxy S21",
    ],
)
def test_no_corner_in_titles_products_and_sections(text: str) -> None:
    assert corners(text) == []
