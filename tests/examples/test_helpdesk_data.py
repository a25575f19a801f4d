"""The seed tickets: the identifiers they plant are valid (so checksum recognizers must fire) and indexed."""

from __future__ import annotations

import json
import re

import pytest

from helpdesk import (
    SEEDED_DISTRACTORS,
    SEEDED_PERSONAL_DATA,
    Ticket,
    make_ticket,
    seed_tickets,
)

DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def dni_is_valid(value: str) -> bool:
    return re.fullmatch(r"\d{8}[A-Z]", value) is not None and DNI_LETTERS[int(value[:8]) % 23] == value[8]


def nie_is_valid(value: str) -> bool:
    if re.fullmatch(r"[XYZ]\d{7}[A-Z]", value) is None:
        return False
    return DNI_LETTERS[int(str("XYZ".index(value[0])) + value[1:8]) % 23] == value[8]


def iban_is_valid(value: str) -> bool:
    compact = value.replace(" ", "")
    if re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", compact) is None:
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def spanish_account_is_valid(iban: str) -> bool:
    """Check the two control digits inside a Spanish IBAN (bank+branch, then account), mod 11."""
    weights = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)

    def control(digits: str) -> str:
        value = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        return str({10: 1, 11: 0}.get(value, value))

    ccc = iban.replace(" ", "")[4:]
    return control("00" + ccc[:8]) + control(ccc[10:]) == ccc[8:10]


def luhn_is_valid(value: str) -> bool:
    digits = [int(char) for char in value if char.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return len(digits) >= 13 and total % 10 == 0


@pytest.mark.parametrize(
    ("check", "good", "bad"),
    [
        (dni_is_valid, "12345678Z", "12345678A"),
        (nie_is_valid, "X1234567L", "X1234567M"),
        (nie_is_valid, "Y2345678Z", "12345678Z"),
        (iban_is_valid, "ES91 2100 0418 4502 0005 1332", "ES92 2100 0418 4502 0005 1332"),
        (spanish_account_is_valid, "ES91 2100 0418 4502 0005 1332", "ES91 2100 0418 4602 0005 1332"),
        (luhn_is_valid, "4111 1111 1111 1111", "4111 1111 1111 1112"),
    ],
)
def test_checksum_helpers_tell_good_from_bad(check: object, good: str, bad: str) -> None:
    assert callable(check)
    assert check(good) is True
    assert check(bad) is False


def by_id() -> dict[int, Ticket]:
    return {ticket["id"]: ticket for ticket in seed_tickets()}


def all_text(ticket: Ticket) -> str:
    return json.dumps(ticket, ensure_ascii=False)


def indexed(entity: str) -> list[str]:
    return [value for table in SEEDED_PERSONAL_DATA.values() for value in table.get(entity, ())]


def test_seed_has_english_and_spanish_tickets() -> None:
    languages = [ticket["language"] for ticket in seed_tickets()]
    assert languages.count("en") >= 3
    assert languages.count("es") >= 3
    assert len({ticket["id"] for ticket in seed_tickets()}) == len(languages)


def test_seeded_identifiers_have_valid_checksums() -> None:
    tickets = seed_tickets()
    national_ids = [t["requester"]["national_id"] for t in tickets if t["language"] == "es"]
    assert all(dni_is_valid(v) or nie_is_valid(v) for v in national_ids if v)
    assert all(dni_is_valid(v) for v in indexed("ES_NIF"))
    assert all(nie_is_valid(v) for v in indexed("ES_NIE"))
    ibans = [t["payment"]["iban"] for t in tickets if t["payment"]["iban"]] + indexed("IBAN_CODE")
    assert all(iban_is_valid(v) for v in ibans)
    assert all(spanish_account_is_valid(v) for v in ibans if v.startswith("ES"))
    cards = [t["payment"]["card_number"] for t in tickets if t["payment"]["card_number"]]
    assert all(luhn_is_valid(v) for v in cards + indexed("CREDIT_CARD"))
    # Not vacuous: every kind of value is there to check.
    assert len(national_ids) >= 3
    assert len(indexed("ES_NIF")) >= 2
    assert len(indexed("ES_NIE")) >= 1
    assert len(ibans) >= 3
    assert len(cards) >= 4


@pytest.mark.parametrize(
    "value",
    [
        "+34 612 345 678", "(415) 555-0132", "4111 1111 1111 1111", "3782 822463 10005", "12345678Z",
        "X1234567L", "ES91 2100 0418 4502 0005 1332", "GB82 WEST 1234 5698 7654 32", "MRN 00123456",
        "219-09-9999",
        "Calle Mayor 12, 3º B, 28013 Madrid", "742 Evergreen Terrace, Springfield, IL 62704",
    ],
)
def test_seed_plants_the_values_the_demo_relies_on(value: str) -> None:
    assert any(value in ticket["body"] for ticket in seed_tickets())


def test_personal_data_index_matches_the_tickets() -> None:
    tickets = by_id()
    assert set(SEEDED_PERSONAL_DATA) == set(tickets) == set(SEEDED_DISTRACTORS)
    for ticket_id, table in SEEDED_PERSONAL_DATA.items():
        text = all_text(tickets[ticket_id])
        for entity, values in table.items():
            assert values, entity
            for value in values:
                assert value in text, (ticket_id, entity, value)
        for value in SEEDED_DISTRACTORS[ticket_id]:
            assert value in text, (ticket_id, value)


def test_structured_personal_values_also_appear_inline() -> None:
    """Field rules alone are not enough: the same values sit in free text too.

    1007 and 1008 are the control tickets: their text holds no contact details, only distractors.
    """
    for ticket in seed_tickets():
        if ticket["id"] in (1007, 1008):
            assert ticket["requester"]["email"] not in ticket["body"]
            continue
        inline = ticket["body"] + "".join(c["body"] for c in ticket["comments"])
        who, paid = ticket["requester"], ticket["payment"]
        for value in (who["email"], who["phone"], who["national_id"], who["address"]):
            assert value is None or value in inline, (ticket["id"], value)
        for value in (paid["card_number"], paid["iban"]):
            assert value is None or value in inline, (ticket["id"], value)


def test_values_are_fictitious() -> None:
    for ticket in seed_tickets():
        text = all_text(ticket)
        for domain in re.findall(r"@((?:[\w-]+\.)*[\w-]+)", text):
            assert domain in {"example.com", "example.org", "example.net"}
        for area, exchange, line in re.findall(r"\((\d{3})\) (\d{3})-(\d{4})", text):
            assert exchange == "555", area
            assert line.startswith("01"), (area, line)
        assert all(number.startswith("+44 20 7946 0") for number in re.findall(r"\+44 [\d ]{13}", text))


def test_seed_tickets_are_fresh_copies() -> None:
    first = seed_tickets()
    first[0]["comments"].clear()
    first[0]["requester"]["name"] = "changed"
    second = seed_tickets()
    assert len(second[0]["comments"]) == 2
    assert second[0]["requester"]["name"] == "Margaret Ellison"
    with pytest.raises(TypeError):
        SEEDED_PERSONAL_DATA[1001]["PERSON"] = ()  # type: ignore[index]


def test_make_ticket_builds_the_seed_shape() -> None:
    ticket = make_ticket(
        ticket_id=42, name="Zed Canary", email="zed@example.com", national_id="45678912S",
        comments=[("Agent", "first"), ("Zed Canary", "second")], created_at="2024-06-03T09:00:00Z",
    )
    seed = seed_tickets()[0]
    assert set(ticket) == set(seed)
    for key in ("requester", "payment", "custom_fields"):
        assert set(ticket[key]) == set(seed[key])
    assert [c["id"] for c in ticket["comments"]] == [4201, 4202]
    assert [c["created_at"] for c in ticket["comments"]] == ["2024-06-03T10:00:00Z", "2024-06-03T11:00:00Z"]
    assert ticket["body"].endswith("Zed Canary")
    assert dni_is_valid(ticket["requester"]["national_id"] or "")
