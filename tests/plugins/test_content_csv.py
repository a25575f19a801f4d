"""The text/csv handler: one part per data cell, header kept, changed cells spliced back."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import BadRequestError
from gateway.inspect.document import ContentHandler
from gateway.plugins import content_csv
from gateway.plugins.content_csv import CsvDocument, CsvHandler

PERSON = "⟦PERSON_1a2b3c4d⟧"

ENGLISH = (
    b"name,email,phone,notes\r\n"
    b"John Smith,john.smith@example.com,+1 415 555 0132,\"Lives at 221 Baker St, Springfield\"\r\n"
    b"\"Jane \"\"JJ\"\" Doe\",jane@example.com,,\"Called twice.\nPrefers email.\"\r\n"
)
SPANISH = (
    "nombre;apellidos;dni;importe;comentario\n"
    "José;Pérez Muñoz;12345678Z;12,50;Cliente desde 2019\n"
    "Señora;\"García; López\";87654321X;3,00;\"Dice: \"\"llámenme por la tarde\"\"\"\n"
).encode()
TABS = b"id\tcustomer\n1\tAna Torres\n2\tLuis Gil\n"


def parse(body: bytes, charset: str | None = None) -> CsvDocument:
    return CsvHandler().parse(body, media_type="text/csv", charset=charset)


def rows(body: bytes, delimiter: str, charset: str = "utf-8") -> list[list[str]]:
    text = body.decode(charset).removeprefix("\ufeff")
    return [row for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if row]


@pytest.mark.parametrize(
    ("body", "delimiter", "expected"),
    [
        (ENGLISH, ",", [("csv:1:name", "John Smith", "name"), ("csv:1:email", "john.smith@example.com", "email"),
                        ("csv:1:phone", "+1 415 555 0132", "phone"),
                        ("csv:1:notes", "Lives at 221 Baker St, Springfield", "notes"),
                        ("csv:2:name", 'Jane "JJ" Doe', "name"), ("csv:2:email", "jane@example.com", "email"),
                        ("csv:2:phone", "", "phone"), ("csv:2:notes", "Called twice.\nPrefers email.", "notes")]),
        (SPANISH, ";", [("csv:1:nombre", "José", "nombre"), ("csv:1:apellidos", "Pérez Muñoz", "apellidos"),
                        ("csv:1:dni", "12345678Z", "dni"), ("csv:1:importe", "12,50", "importe"),
                        ("csv:1:comentario", "Cliente desde 2019", "comentario"),
                        ("csv:2:nombre", "Señora", "nombre"), ("csv:2:apellidos", "García; López", "apellidos"),
                        ("csv:2:dni", "87654321X", "dni"), ("csv:2:importe", "3,00", "importe"),
                        ("csv:2:comentario", 'Dice: "llámenme por la tarde"', "comentario")]),
        (TABS, "\t", [("csv:1:id", "1", "id"), ("csv:1:customer", "Ana Torres", "customer"),
                      ("csv:2:id", "2", "id"), ("csv:2:customer", "Luis Gil", "customer")]),
        (b"a,,a\n1,2,3,4\n", ",", [("csv:1:a", "1", "a"), ("csv:1:[2]", "2", None), ("csv:1:a[3]", "3", "a"),
                                   ("csv:1:[4]", "4", None)]),
        (b"email\n\njo@example.com\n\n", ",", [("csv:1:email", "jo@example.com", "email")]),
        (b"importe;total (EUR, con IVA)\n1,50;2,00\n", ";",  # two candidates: the sniffer decides
         [("csv:1:importe", "1,50", "importe"), ("csv:1:total (EUR, con IVA)", "2,00", "total (EUR, con IVA)")]),
        (b"name,email\n", ",", []),
    ],
)
def test_each_data_cell_is_a_part_named_by_its_column(body: bytes, delimiter: str,
                                                      expected: list[tuple[str, str, str | None]]) -> None:
    doc = parse(body)
    assert [(p.path, p.text, p.key) for p in doc.parts] == expected
    assert [p.text for p in doc.parts] == [cell for row in rows(body, delimiter)[1:] for cell in row]
    assert doc.serialize() == body  # nothing replaced: byte for byte


@pytest.mark.parametrize(
    ("body", "delimiter", "changes", "expected_rows"),
    [
        (ENGLISH, ",", {"csv:1:name": PERSON, "csv:2:name": PERSON},
         [["name", "email", "phone", "notes"],
          [PERSON, "john.smith@example.com", "+1 415 555 0132", "Lives at 221 Baker St, Springfield"],
          [PERSON, "jane@example.com", "", "Called twice.\nPrefers email."]]),
        (ENGLISH, ",", {"csv:1:notes": "Lives at <ADDRESS>", "csv:2:notes": 'Says "call me", twice\nok'},
         [["name", "email", "phone", "notes"],
          ["John Smith", "john.smith@example.com", "+1 415 555 0132", "Lives at <ADDRESS>"],
          ['Jane "JJ" Doe', "jane@example.com", "", 'Says "call me", twice\nok']]),
        (SPANISH, ";", {"csv:1:dni": "XXXXX678Z", "csv:2:apellidos": f"{PERSON}; {PERSON}"},
         [["nombre", "apellidos", "dni", "importe", "comentario"],
          ["José", "Pérez Muñoz", "XXXXX678Z", "12,50", "Cliente desde 2019"],
          ["Señora", f"{PERSON}; {PERSON}", "87654321X", "3,00", 'Dice: "llámenme por la tarde"']]),
    ],
)
def test_replacements_are_applied_cell_by_cell(body: bytes, delimiter: str, changes: dict[str, str],
                                               expected_rows: list[list[str]]) -> None:
    doc = parse(body)
    for part in doc.parts:
        part.replacement = changes.get(part.path)
    out = doc.serialize()
    assert rows(out, delimiter) == expected_rows
    header_line = body.splitlines(keepends=True)[0]
    assert out.startswith(header_line)  # header row kept, line ending included
    assert out.count(b"\r\n") == body.count(b"\r\n")  # line endings kept
    for part in parse(out).parts:
        assert part.text == changes.get(part.path, next(p.text for p in doc.parts if p.path == part.path))


@pytest.mark.parametrize(
    ("body", "path", "expected"),
    [
        (b'name,email\n"Ana",ana@example.com\n', "csv:1:name", b'name,email\n"",ana@example.com\n'),
        (b"name,email\nAna,ana@example.com\n", "csv:1:email", b"name,email\nAna,\n"),
        (b"email\nana@example.com\nluis@example.com\n", "csv:1:email", b'email\n""\nluis@example.com\n'),
    ],
)
def test_drop_empties_the_cell_and_keeps_the_row(body: bytes, path: str, expected: bytes) -> None:
    doc = parse(body)
    next(p for p in doc.parts if p.path == path).drop = True
    out = doc.serialize()
    assert out == expected
    assert len(rows(out, ",")) == len(rows(body, ","))


def test_bom_charset_and_unencodable_replacements() -> None:
    bom = parse(b"\xef\xbb\xbfname\nJos\xc3\xa9\n")
    assert [p.key for p in bom.parts] == ["name"]
    bom.parts[0].replacement = PERSON
    assert bom.serialize() == f"\ufeffname\n{PERSON}\n".encode()
    latin = parse("nombre;dni\nMuñoz;12345678Z\n".encode("latin-1"), charset="iso-8859-1")
    assert latin.parts[0].text == "Muñoz"
    latin.parts[1].replacement = "Núñez"  # fits Latin-1: stays Latin-1
    assert latin.serialize() == "nombre;dni\nMuñoz;Núñez\n".encode("latin-1")
    assert latin.charset == "iso-8859-1"
    latin.parts[0].replacement = PERSON  # does not fit: UTF-8, and the document says so
    assert latin.serialize() == f"nombre;dni\n{PERSON};Núñez\n".encode()
    assert latin.charset == "utf-8"


@pytest.mark.parametrize(
    ("body", "charset"),
    [
        (b"name,email\nJos\xe9,jose@example.com\n", None),  # Latin-1 bytes declared as UTF-8
        (b"name\n\xff\xfe\xfa\n", "utf-8"),
        (b"name,email\nAna,ana@example.com\n", "x-no-such-charset"),
        (b'name,email\n"Ana,ana@example.com\n', None),  # quote never closed
        (b'name,email\n"Ana"x,ana@example.com\n', None),  # text after a closing quote
        (b'name,email\nAna,"ana@example.com" \n', None),
    ],
)
def test_malformed_csv_is_rejected(body: bytes, charset: str | None) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse(body, charset)
    assert caught.value.reason == "malformed_body"


def test_the_hook_registers_the_handler() -> None:
    (handler,) = content_csv.aduana_content_handlers()
    assert isinstance(handler, ContentHandler)
    assert handler.media_types == ("text/csv",)


CELL = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=150, deadline=None)
@given(
    table=st.lists(st.lists(CELL, min_size=2, max_size=2), min_size=1, max_size=6),
    new=st.lists(CELL, min_size=12, max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    terminator=st.sampled_from(["\r\n", "\n"]),
)
def test_any_table_round_trips_and_takes_any_replacement(table: list[list[str]], new: list[str], delimiter: str,
                                                          quoting: int, terminator: str) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, lineterminator=terminator)
    writer.writerows([["name", "email"], *table])
    body = buffer.getvalue().encode()
    doc = CsvDocument(body, body.decode(), "utf-8", False, delimiter)  # the sniffer is not under test here
    assert [p.text for p in doc.parts] == [cell for row in rows(body, delimiter)[1:] for cell in row]
    assert doc.serialize() == body
    for part, value in zip(doc.parts, new, strict=False):
        part.replacement = value
    out = doc.serialize()
    again = CsvDocument(out, out.decode(), "utf-8", False, delimiter)
    assert [p.text for p in again.parts] == [p.output for p in doc.parts]
