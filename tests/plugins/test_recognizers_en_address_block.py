"""Address blocks read line by line: street, unit, town, state, postcode, country.

Values are made up for these tests; negatives are line lists a support ticket also has (invoices,
order summaries, signatures without an address).
"""

from __future__ import annotations

import pytest

from gateway.plugins.recognizers_en_address_block import AddressBlockRecognizer


@pytest.fixture(scope="module")
def recognizer() -> AddressBlockRecognizer:
    return AddressBlockRecognizer(supported_language="en")


def found(recognizer: AddressBlockRecognizer, text: str) -> list[str]:
    return [text[r.start:r.end] for r in sorted(recognizer.analyze(text, ["LOCATION"], None), key=lambda r: r.start)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ana Ruiz\n\n412 77 Korvenkatu\n Apt. 12\n Agios Nikolaos\n\n Cyprus 40321",
         ["412 77 Korvenkatu", "Apt. 12", "Agios Nikolaos", "Cyprus 40321"]),
        ("The address of Example Corp. is 12 Pesolantie 3\nΛΕΜΕΣΟΣ\n, LI\n Cyprus (Greek) 30411",
         ["12 Pesolantie 3", "ΛΕΜΕΣΟΣ", ", LI", "Cyprus (Greek) 30411"]),
        ("Billing address: Ana Ruiz\n    96 Rue du Lac Apt. 7\n   Cite Jardin\n    71\n    2190\n",
         ["96 Rue du Lac Apt. 7", "Cite Jardin", "71", "2190"]),
        ("> ana ruiz\n> 72 rue de lyon\n> apt. 9\n> cite nour\n> tunisia 75300",
         ["72 rue de lyon", "apt. 9", "cite nour", "tunisia 75300"]),
        ("Address:\n8 Λ. Αμμοχώστου 17\n Apt. 3\n ΕΛ∆ΥΚ\n Cyprus (Greek).",
         ["8 Λ. Αμμοχώστου 17", "Apt. 3", "ΕΛ∆ΥΚ", "Cyprus (Greek)."]),
        ("Kase tee 9 Apt. 17\nTallinn, HA 19094\n", ["Kase tee 9 Apt. 17", "Tallinn, HA 19094"]),
        ("Can you check the following? 52 Sommerstr. 78\nGRANGE\n, nan\n 49036",
         ["52 Sommerstr. 78", "GRANGE", ", nan", "49036"]),
        ("Please return to 57 Ilichova 7\nTrentham\n 75714 in case of an issue.",
         ["57 Ilichova 7", "Trentham", "75714"]),
        ("12 Main Street in Springfield\nIL 62704", ["12 Main Street in Springfield", "IL 62704"]),
        ("Call a taxi to 85 Ráday út 6.\n Suite 1\n Barnag\n Hungary. Call me when you are here.",
         ["85 Ráday út 6.", "Suite 1", "Barnag", "Hungary"]),
    ],
)  # fmt: skip
def test_address_blocks(recognizer: AddressBlockRecognizer, text: str, expected: list[str]) -> None:
    assert found(recognizer, text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2 x Widget 5\n1 x Gadget 3\nTotal 450",  # an invoice
        "Order 12345\nShipped today\nThanks",  # no end of address
        "Ana Ruiz\nSupport lead\nExample Ltd\nPhone: 555 0100",  # a signature without an address
        "Version 3.2 installed\nRestarted twice\nStill failing",
        "Ticket 4411 updated\nStatus: open\nPriority 2",
        "Fax: 555 0100\nSwitzerland",  # a label line is no street
    ],
)
def test_no_address_block_in_other_line_lists(recognizer: AddressBlockRecognizer, text: str) -> None:
    assert found(recognizer, text) == []
