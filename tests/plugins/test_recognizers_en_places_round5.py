"""Fifth-round place rules: addresses read outwards from a unit or from a street between commas,
corners read word by word, street names before an English street word, towns after a place word
or before a landmark, and towns above a country line. Values are made up for these tests;
negatives are item counts, product names, chapters, amounts, company names and ordinary words.
"""

from __future__ import annotations

import pytest

from gateway.plugins.recognizers_en_address import (
    PrefixedTownRecognizer,
    StreetAddressRecognizer,
    TownInProseRecognizer,
)
from gateway.plugins.recognizers_en_address_block import AddressBlockRecognizer
from gateway.plugins.recognizers_en_address_run import StreetCornerRecognizer, UnitAddressRecognizer
from gateway.plugins.recognizers_en_place import (
    TownAboveCountryRecognizer,
    TownBeforeLandmarkRecognizer,
    TownGazetteerRecognizer,
)
from gateway.plugins.recognizers_en_street import (
    StreetNameBeforeStreetWordRecognizer,
    StreetWithoutStreetWordRecognizer,
)


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
        "We rent 2 bedroom Apartment 5 to students.",  # no street name before the unit
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
        ("May I have the statement sent to Rósa and Kossuth tér 92.?", ["Rósa and Kossuth tér 92"]),
        ("The office is at the corner of 2914 184th Street and Fremont Dale",
         ["the corner of 2914 184th Street and Fremont Dale"]),  # an ordinal
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
        ("the shows on lukas streets street were loud", ["lukas streets"]),
        ("Pedestrians must enter on Graben 13 St. the first months", ["Graben 13"]),  # a house number
        ("Pedestrians must enter on Berings gate 210 St. the first months", ["Berings gate 210"]),
        ("Pedestrians must enter on Kossuth Lajos u. 52. St. the first months", ["Kossuth Lajos u. 52."]),
        ("Pedestrians must enter on Travessa WE-07-A 1498 St. the first months", ["Travessa WE-07-A 1498"]),
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
        "It runs on Windows 10 St. too",  # a brand
        "I went on Main gate 5 St.",
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
        ("Celebrating its 10th year in Cite Khzama 2, Acme Group is", ["Cite Khzama 2"]),  # a district number
        ("Celebrating its 10th year in Vaulx-lez-Binche, Acme Group is", ["Vaulx-lez-Binche"]),
        ("She drove from Stratford-upon-Avon today.", ["Stratford-upon-Avon"]),
    ],
)
def test_prefixed_towns(text: str, expected: list[str]) -> None:
    assert spans(PrefixedTownRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    ["We moved to New Relic for monitoring.", "Jackets in North Face style.", "Welcome to South Park!",
     "Send it to New York.", "It is in East Wing 2.", "Served in Coca-Cola glasses.", "Switch to Wi-Fi mode."],
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the following year at global x etf in kuopio, which later became acme ltd.", ["kuopio"]),
        ("Celebrating its 10th year in Frederiksberg C, Acme Corporation is", ["Frederiksberg C"]),  # a district
    ],
)
def test_lower_case_towns_after_in_and_postal_districts(text: str, expected: list[str]) -> None:
    assert spans(TownGazetteerRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    ["the order went to helsinki", "i live in reading.", "in turn, we went to nice places", "The answer is in Paris"],
)
def test_no_lower_case_town_without_in(text: str) -> None:
    assert [s for s in spans(TownGazetteerRecognizer, text) if s.islower() or s.endswith(" A")] == []


def test_town_above_a_country_when_the_text_reads_as_spanish() -> None:
    text = "Olivia Berg\n\nPedraza de Alba\nSpain"
    assert spans(TownAboveCountryRecognizer, text, "es") == ["Pedraza de Alba"]
    assert spans(TownAboveCountryRecognizer, "Hola Ana, gracias por todo.\nSaludos", "es") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the restaurant is at 8841 86 rue du château", ["8841 86 rue du château"]),  # lower case after a particle
        ("The restaurant is at 6035 66 Avenue des Tuileries", ["6035 66 Avenue des Tuileries"]),
        ("my addr 12 Main Street", ["12 Main Street"]),
        ("Send it to 12 Main Street, Szczecin nan 71-562", ["12 Main Street, Szczecin nan 71-562"]),  # Polish postcode
    ],
)
def test_streets_with_particles(text: str, expected: list[str]) -> None:
    assert spans(StreetAddressRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "keep getting address 30.90.236.117 blocked",  # "addr" is not a cue inside "address"
        "The title refers to Holmevej 34 street in Odense.",  # a number and a street word alone
        "Pedestrians must enter on Graben 11 St. the first months",
    ],
)
def test_no_street_in_ip_addresses_or_a_bare_number_and_street_word(text: str) -> None:
    assert spans(StreetAddressRecognizer, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the bus station is on floridusgasse 49", ["floridusgasse 49"]),  # wholly lower case
        ("the bus station is on gesterbyntie 58.", ["gesterbyntie 58"]),
    ],
)
def test_lower_case_street_and_number(text: str, expected: list[str]) -> None:
    assert spans(StreetWithoutStreetWordRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    ["my game is on iphone 12", "it runs on windows 11", "it is on channel 5", "the fix is on firmware 12"],
)
def test_no_lower_case_street_in_devices_and_words(text: str) -> None:
    assert spans(StreetWithoutStreetWordRecognizer, text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr. Wallace grew up in Unionville (Orange).", ["Unionville (Orange)"]),
        ("Looking to support Acme Corporation in Groningen 9722 AS in its mission", ["Groningen 9722 AS"]),
        ("The Princess arrived at Begunje na Gorenjskem this morning", ["Begunje na Gorenjskem"]),
        ("The title refers to Slovenčeva 63 street in Dole pri Litiji. It was", ["Dole pri Litiji"]),
        ("The title refers to 93 rue Bonneterie street in MONS-EN-BAROEUL.", ["MONS-EN-BAROEUL"]),
    ],
)
def test_towns_in_prose_round5(text: str, expected: list[str]) -> None:
    assert spans(TownInProseRecognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    ["I grew up in Paris (and loved it)", "the shop on Main Street in The Mall", "I walked down the street in January"],
)
def test_no_town_in_brackets_months_or_boxes(text: str) -> None:
    assert [s for s in spans(TownInProseRecognizer, text) if "(" in s or s in ("The Mall", "January")] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("office is at 516 avenida manuel figueiredo 95 apt. 735\nthe laurels, nan 99240",
         ["516 avenida manuel figueiredo 95 apt. 735", "the laurels, nan 99240"]),  # an empty state field
        ("Billing address: Khatu Barsu\n 9085 ul. Rodziewicza 108 Suite 625\n Szczecin\n nan\n 71-562\n",
         ["71-562", "9085 ul. Rodziewicza 108 Suite 625", "Szczecin", "nan"]),  # a Polish postcode
        ("change it to 354 salontie 19 apt. 206\nviljandi, vd 81886?",
         ["354 salontie 19 apt. 206", "viljandi, vd 81886"]),  # a lower-case state code
        ("It arrived at 12 Kossuth utca 76. Suite 257\nKensington, nan 62654 last night.",
         ["12 Kossuth utca 76. Suite 257", "Kensington, nan 62654"]),  # the sentence goes on after the postcode
    ],
)
def test_address_blocks_round5(text: str, expected: list[str]) -> None:
    assert spans(AddressBlockRecognizer, text) == sorted(expected)


@pytest.mark.parametrize("text", ["Item 3 widgets\nTotal 450\n", "Order 12 chairs\nTotal: 450"])
def test_no_address_block_in_invoices(text: str) -> None:
    assert spans(AddressBlockRecognizer, text) == []
