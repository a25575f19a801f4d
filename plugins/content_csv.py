"""Content handler for ``text/csv``: every data cell is a part, the header row names them.

Paths are ``csv:<row>:<column>``: ``row`` counts data records from 1 (the header row is not one, blank
lines are skipped), ``column`` is the header cell's text. ``key`` is that header text too, so field rules by
key work. A column whose header cell is empty or missing is labelled ``[n]`` (``n`` its 1-based position)
with ``key=None``; a repeated header name is labelled ``name[n]``. The header row itself is kept and never
inspected.

Reading: the delimiter (one of ``,`` ``;`` tab ``|``) is the only one the header row holds, else the one
:class:`csv.Sniffer` detects, else a comma; quoting is RFC 4180 (``"``, doubled to escape). The stdlib
reader in strict mode decides what the cells are, and a scanner that follows the same grammar records
where each cell sits in the text.

Writing splices only the cells whose output differs from their text into the original text, so the
delimiter, line endings, quoting of unchanged cells and a UTF-8 byte-order mark are kept exactly. A changed
cell is quoted if it was quoted or needs to be. ``drop`` empties the cell. When a replacement does not fit
the body's charset (tokens use ``⟦ ⟧``), the whole body is written in UTF-8 and :attr:`CsvDocument.charset`
says so, as the other text handlers do, so the gateway can fix the Content-Type.

Malformed (``BadRequestError``, ``malformed_body``): bytes invalid for the charset, an unknown charset,
quoting the strict reader rejects (an unterminated quote, text after a closing quote), a cell above the
reader's field size limit.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from gateway.errors import BadRequestError
from gateway.hookspecs import hookimpl
from gateway.inspect.document import ContentHandler, Part

_DELIMITERS = ",;\t|"
_QUOTE = '"'
_SNIFF_CHARS = 64 * 1024
_BOM = "\ufeff"


def _malformed(detail: str) -> BadRequestError:
    return BadRequestError(detail, reason="malformed_body")


@dataclass(frozen=True)
class _Cell:
    """Where one cell sits in the decoded text."""

    start: int
    end: int
    quoted: bool
    alone: bool  #: the only cell of its record (an empty unquoted one would make a blank line)

    def value(self, text: str) -> str:
        raw = text[self.start : self.end]
        return raw[1:-1].replace('""', '"') if self.quoted else raw


def _scan(text: str, delimiter: str) -> Iterator[list[_Cell]]:
    """Yield the cells of each record (``[]`` for a blank line) following the strict reader's grammar."""
    unquoted = re.compile(f"[^{re.escape(delimiter)}\r\n]*")
    position, length = 0, len(text)
    while position < length:
        spans: list[tuple[int, int, bool]] = []
        if text[position] not in "\r\n":
            while True:
                start = position
                if text.startswith(_QUOTE, position):
                    position += 1
                    while True:
                        close = text.find(_QUOTE, position)
                        if close < 0:
                            raise _malformed("a quoted CSV cell is never closed")
                        position = close + 1
                        if not text.startswith(_QUOTE, position):
                            break
                        position += 1
                    if position < length and text[position] not in f"{delimiter}\r\n":
                        raise _malformed("text follows a closing quote in a CSV cell")
                else:
                    match = unquoted.match(text, position)
                    assert match is not None  # the pattern matches the empty string
                    position = match.end()
                spans.append((start, position, text.startswith(_QUOTE, start)))
                if not text.startswith(delimiter, position):
                    break
                position += 1
        position += 2 if text.startswith("\r\n", position) else 1
        yield [_Cell(start, end, quoted, alone=len(spans) == 1) for start, end, quoted in spans]


def _delimiter(text: str) -> str:
    """The header row's only candidate delimiter if it has one (stable, as that row is never changed), else
    what :class:`csv.Sniffer` finds in the first rows, else a comma."""
    header = text[: min(i for i in (text.find("\n"), text.find("\r"), len(text)) if i >= 0)]
    if len(candidates := [d for d in _DELIMITERS if d in header]) == 1:
        return candidates[0]
    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and (cut := max(sample.rfind("\n"), sample.rfind("\r"))) > 0:
        sample = sample[:cut]
    try:
        return csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:  # one column, or too little text to tell
        return ","


def _labels(header: list[str]) -> list[tuple[str, str | None]]:
    labels: list[tuple[str, str | None]] = []
    for column, name in enumerate(header, 1):
        if not name:
            labels.append((f"[{column}]", None))
        elif any(key == name for _, key in labels):
            labels.append((f"{name}[{column}]", name))
        else:
            labels.append((name, name))
    return labels


class CsvDocument:
    """A parsed CSV body: one part per data cell, written back by splicing changed cells."""

    def __init__(self, body: bytes, text: str, charset: str, bom: bool, delimiter: str) -> None:
        #: The charset of :meth:`serialize`'s output; it becomes ``utf-8`` when a replacement needs it.
        self.charset = charset
        self._body, self._text, self._bom, self._delimiter = body, text, bom, delimiter
        records = [cells for cells in _scan(text, delimiter) if cells]
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=_QUOTE, strict=True)
        try:
            expected = [row for row in reader if row]
        except csv.Error as exc:
            raise _malformed("the CSV body has inconsistent quoting") from exc
        if [[cell.value(text) for cell in cells] for cells in records] != expected:
            raise _malformed("the CSV body could not be split into cells")
        self.parts: list[Part] = []
        self._cells: list[_Cell] = []
        labels = _labels(expected[0]) if expected else []
        for row, cells in enumerate(records[1:], 1):
            for column, cell in enumerate(cells, 1):
                label, key = labels[column - 1] if column <= len(labels) else (f"[{column}]", None)
                self.parts.append(Part(f"csv:{row}:{label}", cell.value(text), key=key))
                self._cells.append(cell)

    def _render(self, cell: _Cell, value: str) -> str:
        needs_quotes = any(char in value for char in (self._delimiter, _QUOTE, "\r", "\n"))
        if cell.quoted or needs_quotes or (cell.alone and not value):
            return _QUOTE + value.replace(_QUOTE, _QUOTE * 2) + _QUOTE
        return value

    def serialize(self) -> bytes:
        """Return the CSV with each changed cell rewritten; unchanged bodies come back byte for byte."""
        changed = [(cell, part.output) for cell, part in zip(self._cells, self.parts, strict=True)
                   if part.output != part.text]
        if not changed:
            return self._body
        pieces, position = [], 0
        for cell, value in changed:
            pieces += [self._text[position : cell.start], self._render(cell, value)]
            position = cell.end
        pieces.append(self._text[position:])
        text = (_BOM if self._bom else "") + "".join(pieces)
        try:
            return text.encode(self.charset)
        except UnicodeEncodeError:
            self.charset = "utf-8"
            return text.encode("utf-8")


class CsvHandler:
    """Splits ``text/csv`` bodies into one part per data cell."""

    name = "csv"
    media_types: tuple[str, ...] = ("text/csv",)

    def parse(self, body: bytes, *, media_type: str, charset: str | None) -> CsvDocument:
        """Parse ``body`` as CSV in ``charset`` (UTF-8 when not given)."""
        charset = charset or "utf-8"
        try:
            text = body.decode(charset)
        except LookupError as exc:
            raise _malformed("the CSV body declares an unknown charset") from exc
        except UnicodeDecodeError as exc:
            raise _malformed("the CSV body is not valid text in its charset") from exc
        bom = codecs.lookup(charset).name == "utf-8" and text.startswith(_BOM)
        text = text.removeprefix(_BOM) if bom else text
        return CsvDocument(body, text, charset, bom, _delimiter(text))


@hookimpl(trylast=True)
def aduana_content_handlers() -> list[ContentHandler]:
    return [CsvHandler()]
