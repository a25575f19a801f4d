"""English-text recognizers (addresses, towns, names, phone shapes) and the analyzer's name re-reading.

Pattern recognizers are run on their own, without NLP: every span below comes from the recognizer
under test. Values are made up for these tests; negatives are the look-alikes a support ticket is
full of (order numbers, amounts, product names and versions, company names).
"""

from __future__ import annotations

import pytest
from presidio_analyzer import EntityRecognizer

from gateway.inspect.analyzer import NamePropagator, looks_like_full_name
from gateway.inspect.findings import Finding
from gateway.plugins.recognizers_en_address import StreetAddressRecognizer, TownInProseRecognizer
from gateway.plugins.recognizers_en_person import DialogueSpeakerRecognizer, EnglishPersonContextRecognizer
from gateway.plugins.recognizers_en_phone import GluedPhoneLabelRecognizer, PhoneShapeRecognizer
from gateway.plugins.recognizers_hipaa_dates import DateOfBirthRecognizer
from gateway.plugins.recognizers_pci import CardNumberRecognizer

THRESHOLD = 0.5


def found(recognizer: EntityRecognizer, text: str) -> list[str]:
    results = recognizer.analyze(text, recognizer.supported_entities, None)
    return sorted({text[r.start : r.end] for r in results if r.score >= THRESHOLD})


def covered(recognizer: EntityRecognizer, text: str, value: str) -> bool:
    """Whether the union of the findings covers ``value`` (overlapping spans are merged downstream)."""
    start = text.index(value)
    hidden = set()
    for r in recognizer.analyze(text, recognizer.supported_entities, None):
        if r.score >= THRESHOLD:
            hidden.update(range(r.start, r.end))
    return all(i in hidden for i in range(start, start + len(value)) if text[i].isalnum())


# --- addresses -----------------------------------------------------------------------------------------

ADDRESSES = [
    ("She lives at 512 Vinkelgade 14, Tarnby.", "512 Vinkelgade 14, Tarnby"),
    ("Meet me at 88 Via Garibaldi 12, Pescia", "88 Via Garibaldi 12, Pescia"),
    ("My address: 4410 21 Oakridge Road, Dunmore", "4410 21 Oakridge Road, Dunmore"),
    ("Ana Ruiz\n\n771 Kastanienweg 52\n Apt. 14\n Neudorf\n Germany 30211",
     "771 Kastanienweg 52\n Apt. 14\n Neudorf\n Germany 30211"),
    ("Send it to:\nMolenstraat 18\n Suite 3\n Leiden\n Netherlands 2311", "Molenstraat 18\n Suite 3\n Leiden"),
    ("Please ship to 9 Rue des Lilas\n Apt. 2\n Lyon\n France", "9 Rue des Lilas\n Apt. 2\n Lyon"),
    ("My address is PSC 4411, Box 2210\nAPO AE 09112", "PSC 4411, Box 2210\nAPO AE 09112"),
    ("deliver to unit 2231 box 8812\ndpo ap 55102 please", "unit 2231 box 8812\ndpo ap 55102"),
    ("Our office is at the corner of 12 Elm Street and Birch Avenue.",
     "the corner of 12 Elm Street and Birch Avenue"),
    ("my new address is 31 lindenallee 7 apt. 4 hanau", "31 lindenallee 7 apt. 4 hanau"),
    ("Return it to Tom Berglunds vei 12 for me.", "Tom Berglunds vei 12"),
    ("Please send the card to 61 Kingfisher Close, Apt. 9, Bramley, United Kingdom 40441 in case.",
     "61 Kingfisher Close, Apt. 9, Bramley, United Kingdom 40441"),
    # an export's placeholder for an empty state field is part of the address
    ("The letter arrived at 12 Harbour Road Jõgeva nan last night.", "12 Harbour Road Jõgeva nan"),
    ("Please return to 5 Elm St. Springfield nan in case of an issue.", "5 Elm St. Springfield nan"),
    ("Ship to 84 Lindenweg, Hoorn, NULL 1624", "84 Lindenweg, Hoorn, NULL 1624"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "value"), ADDRESSES)
def test_street_address(text: str, value: str) -> None:
    assert covered(StreetAddressRecognizer(), text, value)


NOT_ADDRESSES = [
    "I ordered 3 Apple Watch 2 straps and paid 45.90 USD.",
    "Order 12345 shipped; invoice 2024-0042 attached.",
    "Windows 10 crashed on my Dell XPS 13 laptop.",
    "Upgrade to Premium Plan 2 for 3 users, release 4 build 7.",
    "Acme Widgets Ltd charged me 129.99 twice.",
    "The meeting is at 10 and lasts 45 minutes.",
    "Ticket 55512 was closed by the Support Team.",
    "The price column shows nan for 12 rows and NULL for 3 rows.",
    "Export 2024 Report nan values in 15 Sales Columns",
    "Terms and Conditions 2024",
    "Please read the Terms and Conditions 2024.",
    "Section 3 and Section 4 apply to this order.",
    "We compared Model 3 and Model 5 in the review.",
    "See the details in Section 3 and Section 4.",
    "It is available in Model 3 and Model 5.",
    "Price is: Gold 3 and Silver 5",
]


@pytest.mark.parametrize("text", NOT_ADDRESSES)
def test_no_street_address_in_products_amounts_orders(text: str) -> None:
    assert found(StreetAddressRecognizer(), text) == []


TOWNS = [
    ("We moved here from Valdecilla last year.", ["Valdecilla"]),
    ("I grew up in PORT ELMSLEY.", ["PORT ELMSLEY"]),
    ("She is studying at the University of Tarragona.", ["Tarragona"]),
    ("Looking to support Foo Corp. in Lindholm 4021 this year", ["Lindholm 4021"]),
]


@pytest.mark.parametrize(("text", "expected"), TOWNS)
def test_town_in_prose(text: str, expected: list[str]) -> None:
    assert found(TownInProseRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I'm in Marketing and I moved to Premium plan.",
        "Installed in Windows 2010 edition.",
        "I live in the city centre, not in Bed.",
        "We moved the meeting to Monday.",
    ],
)
def test_no_town_without_a_place(text: str) -> None:
    assert found(TownInProseRecognizer(), text) == []


# --- names ---------------------------------------------------------------------------------------------

NAMES = [
    ("Directed By:    Odile Marchetti", ["Odile Marchetti"]),
    ("a film directed by Rurik T Valdsson and starring Valdsson", ["Rurik T Valdsson", "Valdsson"]),
    ("\"Not now!\" said Yusuf to Imke.", ["Imke", "Yusuf"]),
    ("Ottilie shouted at Bram: \"Stop!\"", ["Bram", "Ottilie"]),
    ("Everyone calls me Tavi", ["Tavi"]),
    ("hello, my name is perpetua", ["perpetua"]),
    ("What's your last name? Okonkwo", ["Okonkwo"]),
    ("Please follow up with Ilse Vandermeer next week.", ["Ilse Vandermeer"]),
    ("I want to add Casimir Lund as a beneficiary.", ["Casimir Lund"]),
    ("Ramona Quist lives at the old mill.", ["Ramona Quist"]),
    ("Here is Leontyne's address.", ["Leontyne"]),
    ("Hamza, can I please speak to your manager?", ["Hamza"]),
    ("Don't leave now, Cosmo!", ["Cosmo"]),
    ("Hello, this is Mr. Mr. Anselm Kroll.", ["Mr. Anselm Kroll"]),
    ("Ivo Brandt\n\n12 Lindenweg 4\nApt. 2", ["Ivo Brandt"]),
    ("Billing address: Mirela Stan\n  4 Strada Lunga 8", ["Mirela Stan"]),
]


@pytest.mark.parametrize(("text", "expected"), NAMES)
def test_person_from_english_context(text: str, expected: list[str]) -> None:
    assert found(EnglishPersonContextRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "My name is not on the invoice.",
        "I'm so sorry, I'm unemployed now.",
        "Please follow up with Customer Service about order 5521.",
        "Add Premium Support as a plan to my account.",
        "Acme Ltd's address is on the invoice.",
        "The Support Team said the refund is pending.",
        "Thanks, can you check order 4471?",
    ],
)
def test_no_person_in_english_prose_without_a_name(text: str) -> None:
    assert found(EnglishPersonContextRecognizer(), text) == []


def test_dialogue_speakers() -> None:
    text = 'Ines: Where were you last night?\nBoris: At the office, as always.\nNote: none.'
    assert found(DialogueSpeakerRecognizer(), text) == ["Boris", "Ines"]


@pytest.mark.parametrize(
    "text",
    [
        "Subject: Refund request.\nStatus: Waiting for the customer.",  # form fields, not speakers
        "Ines: Where were you last night?",  # one line is not a dialogue
        "Genre: Kids & Family\nRating: Not rated",
    ],
)
def test_no_dialogue_speakers_in_forms(text: str) -> None:
    assert found(DialogueSpeakerRecognizer(), text) == []


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        ("Terence Vassiliev", True),
        ("Đurđa J Jovanović", True),
        ("Acme Foods Ltd", False),
        ("Customer Service", False),
        ("Apple Watch", False),
        ("IBM Research", False),
        ("Metallica", False),
        ("Pharma 2000", False),
    ],
)
def test_organization_spans_read_as_names(span: str, expected: bool) -> None:
    assert looks_like_full_name(span) is expected


def test_found_names_are_found_again() -> None:
    text = "Lukas Brenner wrote the songs, and early Brenner is the best. May I add Anna, Ola, Ruth and Pia?"
    known = [Finding("PERSON", 0, 13, 0.85)]
    known += [Finding("PERSON", text.index(name), text.index(name) + len(name), 0.85) for name in ("Ola", "Ruth")]
    extra = NamePropagator().propagate(text, known)
    assert sorted(text[f.start : f.end] for f in extra) == ["Anna", "Brenner", "Pia"]
    assert all(f.score == 0.85 for f in extra)


def test_names_are_not_propagated_from_other_types() -> None:
    text = "Springfield office, 12 Springfield Road."
    assert NamePropagator().propagate(text, [Finding("LOCATION", 0, 11, 0.9)]) == []


# --- phones, dates, cards ---------------------------------------------------------------------------------

PHONES = [
    ("Office: (73) 4746-3459-Office", ["(73) 4746-3459"]),
    ("+41 53 147 37 99 fax", ["+41 53 147 37 99"]),
    ("650-752-7354x549 mobile", ["650-752-7354x549"]),
    ("0380 7558505 office", ["0380 7558505"]),
    ("Phone:\n439 4166", ["439 4166"]),
    ("Can someone call me on 76 177 296?", ["76 177 296"]),
    ("They're not answering at (1) 995-8140", ["(1) 995-8140"]),
    ("Reach me at (894)134-3524 today", ["(894)134-3524"]),
    ("(07700) 775548 fax", ["(07700) 775548"]),
    ("07700950467 fax\n+41 36 532 02 13 mobile", ["+41 36 532 02 13", "07700950467"]),
    ("Fax: +1-289-436-7124x521", ["+1-289-436-7124x521"]),
    ("no message on my registered 75 670 362. Please check", ["75 670 362"]),
    ("Mobile: 044 300 3741\nDesk: 681-1575031\n", ["044 300 3741", "681-1575031"]),  # a line label with a colon
    ("Direct line: 0161 496 0000", ["0161 496 0000"]),
]


@pytest.mark.parametrize(("text", "expected"), PHONES)
def test_phone_shapes(text: str, expected: list[str]) -> None:
    assert found(PhoneShapeRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Order 415-555-0132 was delayed.",
        "Invoice 2024-03-15 for 129.99",
        "Fax: +34 912 345 679",
        "Ticket 123-456-7890 is open.",
        "The total is 1 234 567 units.",
        "Call me at 3 pm.",
        "Card 4111 1111 1111 1111 expired.",
        "Desk 2019-2021 refurbished, asset 3345-778",   # "desk" without a label's colon
        "the help desk: ticket 123-4567890",          # the label is the ticket's, not a phone's
    ],
)
def test_no_phone_shape_in_other_numbers(text: str) -> None:
    assert found(PhoneShapeRecognizer(), text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Spain 35272\n669 742 441-Office\\,+41 59 784 73 89-Fax", ["+41 59 784 73 89", "669 742 441"]),
        ("Hungary 29989\n(60) 245-071-Office\\,(07700)442643-Fax", ["(07700)442643", "(60) 245-071"]),
        ("Denmark 88002\n26-91-74-40-Office,5720001487-Fax", ["26-91-74-40", "5720001487"]),
        ("Windows 10-Home and Office 2019-Home editions", []),       # versions before an edition word
        ("Order 1234567-Home was delivered.", []),
        ("Total 1,250,000-Office budget", []),                       # thousands, not a list of numbers
        ("Room 12-Office B", []),
        ("Call 555-555-Office", []),                                 # one digit repeated
    ],
)
def test_phone_with_a_glued_label(text: str, expected: list[str]) -> None:
    assert found(GluedPhoneLabelRecognizer(), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On 2000-06-16 01:27:32.192755, it started.", ["2000-06-16 01:27:32.192755"]),
        ("Logged 2021-11-02T08:15:00Z by the app", ["2021-11-02T08:15:00Z"]),
        ("Bad stamp 2021-02-30 08:15:00 here", []),
        ("Build 2021-11-02 42:00:00 is not a time", []),
    ],
)
def test_iso_timestamps(text: str, expected: list[str]) -> None:
    assert found(DateOfBirthRecognizer(), text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the last billed amount for cc 675956263684 please", ["675956263684"]),
        ("order 675956263684 shipped", []),
    ],
)
def test_twelve_digit_pan_after_cc(text: str, expected: list[str]) -> None:
    assert found(CardNumberRecognizer(), text) == expected
