"""Fifth-round place rules: addresses read outwards from a unit or from a street between commas,
corners read word by word, street names before an English street word, towns after a place word
or before a landmark, and towns above a country line. Values are made up for these tests;
negatives are item counts, product names, chapters, amounts, company names and ordinary words.
"""

from __future__ import annotations

import pytest

from gateway.plugins.recognizers_en_address import PrefixedTownRecognizer, TownInProseRecognizer
from gateway.plugins.recognizers_en_address_run import StreetCornerRecognizer, UnitAddressRecognizer
from gateway.plugins.recognizers_en_place import TownBeforeLandmarkRecognizer, TownGazetteerRecognizer
from gateway.plugins.recognizers_en_street import StreetNameBeforeStreetWordRecognizer


def spans(recognizer_class: type, text: str, language: str = "en") -> list[str]:
    recognizer = recognizer_class(supported_language=language)
    return sorted({text[r.start:r.end] for r in recognizer.analyze(text, ["LOCATION"], None)})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a lower-case street word of another language, a district number, a country and a postcode
        ("Please return to 1204 Varga rakpart 31. Suite 410, Neu-Ulm, Germany 51203 in case of an issue.",
         ["1204 Varga rakpart 31. Suite 410, Neu-Ulm, Germany 51203"]),
        ("Please return to 3312 Dolního mlýna 884 Apt. 12 Kostelec 2 Lipový kraj in case of an issue.",
         ["3312 Dolního mlýna 884 Apt. 12 Kostelec 2 Lipový kraj"]),
        ("Move it to 417 Kerkavegen 18 Suite 20 Apt. 7, ΠΑΡΑΛΙΜΝΙ, Cyprus (Greek) 40215?",
         ["417 Kerkavegen 18 Suite 20 Apt. 7, ΠΑΡΑΛΙΜΝΙ, Cyprus (Greek) 40215"]),
        ("it is 7712 ormvägen 4 apt. 31, valdemoro, spain 20931", ["7712 ormvägen 4 apt. 31, valdemoro, spain 20931"]),
        ("i'll meet you at 5512 9 fern st apt. 42 cape vale north after the concert.",
         ["5512 9 fern st apt. 42 cape vale north"]),
        ("Office Ltd\n88 Ocsai kapu 5. Suite 3 Tarnaméra BA", ["88 Ocsai kapu 5. Suite 3 Tarnaméra BA"]),
        ('change my address to 9 ul. Pl. Wolności "ORLA" 12 Apt. 3 Gdynia Poland for post mail?',
         ['9 ul. Pl. Wolności "ORLA" 12 Apt. 3 Gdynia Poland']),
        ("Send it to 12 Main St Apt 4", ["12 Main St Apt 4"]),
    ],
)
def test_address_around_a_unit(text: str, expected: list[str]) -> None:
    assert spans(UnitAddressRecognizer, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We'll meet Friday at Acme Widgets Corp., 20417 Tamme põik 9, Rõuge", ["20417 Tamme põik 9, Rõuge"]),
        ("we'll meet at zeta coffee ltd., 3310 kirkkokatu 12, oulu", ["3310 kirkkokatu 12, oulu"]),
        ("Meet at Foo Inc., 2113 Calle Mayor 85, Villanueva de los Pinos",
         ["2113 Calle Mayor 85, Villanueva de los Pinos"]),
    ],
)
def test_street_between_commas(text: str, expected: list[str]) -> None:
    assert spans(UnitAddressRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Unit 3 Review Questions are due on Friday.",  # a chapter, no street before it
        "We have 3 Suite 200 rooms left for the conference.",
        "I bought 2 Samsung TVs, unit 5 was broken.",  # a lower-case "unit" is an item
        "I ordered 3 items, 2 boxes 3, and more.",  # a list, no town after it
        "Totals: 12, 3 Widgets 4, 5",
        "Order ACME-123, 4 chairs 2, tables.",
        "Estamos en la planta 3, puerta 2, de la oficina central.",  # Spanish text
    ],
)
def test_no_address_in_counts_chapters_and_lists(text: str) -> None:
    assert spans(UnitAddressRecognizer, text) == []
    assert spans(UnitAddressRecognizer, text, "es") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Can you please validate the following? the corner of Kis utca 36. and Tadzio Plaza",
         ["the corner of Kis utca 36. and Tadzio Plaza"]),
        ("I now live in the corner of 94 boulevard Amiral Corbin and Hanna Streets",
         ["the corner of 94 boulevard Amiral Corbin and Hanna Streets"]),
        ("the cafe is at the corner of βασιλέως κωνσταντίνου 154 and mirta via. it is nice.",
         ["the corner of βασιλέως κωνσταντίνου 154 and mirta via"]),
        ("Please update the billing address with the corner of 14 Rue 8 Mai 1945 and Elsa Dale for this card",
         ["the corner of 14 Rue 8 Mai 1945 and Elsa Dale"]),
        ("address:\nthe corner of sterrenstraat 189 and kovic ports.",
         ["the corner of sterrenstraat 189 and kovic ports"]),
        # one word, "and", and a street that ends the clause
        ("The restaurant is located at Mira and 68 rue Lafayette. It serves great food.",
         ["Mira and 68 rue Lafayette"]),
        ("can you please validate the following? eva and 97 walnut avenue", ["eva and 97 walnut avenue"]),
        ("What is your address? it is Lasse and C/ Santa Ana 93", ["Lasse and C/ Santa Ana 93"]),
        ("Acme Inc.\n\nTarmo and Kaselehe põik 55", ["Tarmo and Kaselehe põik 55"]),
        ("user: freja and lindenstrasse 61", ["freja and lindenstrasse 61"]),
    ],
)
def test_corners(text: str, expected: list[str]) -> None:
    assert spans(StreetCornerRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Put it in the corner of the room and the window 3 times.",  # sentence words
        "It sits in the corner of Excel and Word.",  # no digit
        "There is a stain in the corner of page 3 and 4.",  # only dictionary words
        "The winner is Tesla and Model 3.",  # a product and its number
        "I went with Alice and 2 others.",
        "Compare it with Dropbox and Office 365.",
        "The price is 10 and 20 Euro.",
        "Sales and 3 Marketing",
    ],
)
def test_no_corner_in_rooms_products_and_amounts(text: str) -> None:
    assert spans(StreetCornerRecognizer, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("these early shows on Talbot Vista Street were important", ["Talbot Vista"]),
        ("the shows on van Beers Lock Street were loud", ["van Beers Lock"]),
        ("the shows on vik way street were loud", ["vik way"]),  # lower case: a street word and an unknown word
        ("I live on Elm Street.", ["Elm"]),
    ],
)
def test_street_name_before_street_word(text: str, expected: list[str]) -> None:
    assert spans(StreetNameBeforeStreetWordRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "it is on Main Street",
        "we live on the same street",
        "see it on Google Street View",  # a brand
        "Turn on Street View.",
        "cars drive on one way street signs",  # lower-case dictionary words
    ],
)
def test_no_street_name_in_ordinary_phrases(text: str) -> None:
    assert spans(StreetNameBeforeStreetWordRecognizer, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("songwriters from around the world to Port Aurelio to share", ["Port Aurelio"]),
        ("songwriters from around the world to East Christian to share", ["East Christian"]),  # a given name
        ("She moved from North Sigvaldi last year.", ["North Sigvaldi"]),
    ],
)
def test_prefixed_towns(text: str, expected: list[str]) -> None:
    assert spans(PrefixedTownRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    ["We moved to New Relic for monitoring.", "Jackets in North Face style.", "Welcome to South Park!",
     "Send it to New York.", "It is in East Wing 2."],
)
def test_no_prefixed_town_before_ordinary_words(text: str) -> None:
    assert spans(PrefixedTownRecognizer, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KORVALA bridge is falling down.", ["KORVALA"]),
        ("tasiusaq bridge is falling down.", ["tasiusaq"]),  # a text written wholly in lower case
        ("We land at Narsarsuaq airport today.", ["Narsarsuaq"]),
    ],
)
def test_town_before_a_landmark(text: str, expected: list[str]) -> None:
    assert spans(TownBeforeLandmarkRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Set up the Zigbee bridge first.",
        "My Hue bridge is offline.",
        "The Docker bridge network fails.",
        "Golden Gate bridge at night",  # dictionary words
        "UPPER STONE bridge is falling down.",  # missed: dictionary words in capitals
        "Please reset the korvala bridge.",  # lower case in a mixed-case text
        "The Netflix castle scene.",  # a brand
    ],
)
def test_no_town_before_a_landmark(text: str) -> None:
    assert spans(TownBeforeLandmarkRecognizer, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Anna Berg\n\nEl Marsa\nTunisia", ["El Marsa"]),  # a town opening with a particle
        ("I'm Sam Law, originally from KORVALA, and i'm 68 y/o.", ["KORVALA"]),
    ],
)
def test_towns_above_a_country_and_after_originally(text: str, expected: list[str]) -> None:
    found = spans(TownGazetteerRecognizer, text) + spans(TownInProseRecognizer, text)
    assert [s for s in found if s in expected] == expected


@pytest.mark.parametrize("text", ["Total\nGermany", "de la\nSpain", "Made in\nGermany"])
def test_no_town_above_a_country_in_labels(text: str) -> None:
    assert spans(TownGazetteerRecognizer, text) == []
