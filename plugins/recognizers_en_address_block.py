"""LOCATION in English text: a postal address written as a block of lines, read line by line.

:class:`~recognizers_en_address.StreetAddressRecognizer` reads an address as one regex from its
street; it stops at the first line it cannot parse (a town in brackets, ``Cyprus (Greek) 67588``, a
blank line before the country, a state line of digits, a ``∆`` in a town's name), and everything
after that line leaks. A block is easier to read by its lines: once a line with a house number is
followed by lines that each look like a part of an address (a unit, a town, a state code, a
postcode) and the block ends on a country or a postcode, every line from the street down is the
address. Each line is classified on its own, so the cost is one pass over the lines of a text with
a line break and a digit; nothing depends on the words of a particular address.

What keeps it from reading other line lists as addresses: the first line must mix letters and
digits like a street and not be a label, a link or an e-mail; every following line must be short
and look like one of the parts; the block must end on a country (from the gazetteer) or a postcode,
with at least one line between street and end. The country line is hidden with the rest: inside
an address it is part of the address (alone in prose a country is not personal data).

Registered for both languages: a block has no language, and an English ticket quoting a foreign
address often reads as Spanish to the language vote.
"""

from __future__ import annotations

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from gateway.inspect.lexicon import countries, is_common_not_proper, town_key

from .recognizers_common import AduanaLocalRecognizer

#: Indentation and quoting marks that may open each line of a pasted block ("> ", "??? ").
_PREFIX = regex.compile(r"[ \t?>}|]*")
_POSTCODE = (
    r"(?:\d{3,6}(?:[- ]\d{2,4})?|\d{2}-\d{3}|[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2}|[A-Z]\d[A-Z][ ]?\d[A-Z]\d"
    r"|\d{4}[ ]?[A-Z]{2})"
)
_UNIT = regex.compile(r"(?i)(?:apt|apartment|suite|ste|unit|flat|fl|floor|room|rm)\.?[ \t]*#?\d{1,5}[A-Z]?")
_STATE = regex.compile(r"(?i),?[ \t]*(?:[A-Z]{1,3}|\d{1,3})")
_POSTCODE_LINE = regex.compile(r"(?i),?[ \t]*" + _POSTCODE)
#: A town: up to five words of any script without digits, maybe a bracket, a state and a postcode.
_TOWN = regex.compile(
    r"(?i)(?P<town>[^\d\s@:/?!;,()\"“”][^\d@:/?!;,()\"“”\n]{0,38}?)(?:[ \t]*\([^)\n]{1,25}\))?"
    r"(?:[ \t]*,?[ \t]*(?P<state>[A-Z]{1,3}|\d{1,3}))?(?:[ \t]*,?[ \t]*(?P<post>" + _POSTCODE + r"))?"
)
#: The placeholder an export writes for an empty state field: the line is a town line.
_STATE_CODE = regex.compile(r"(?-i:nan|NaN|NULL)")
#: A country line: a country of the gazetteer, maybe a bracket ("Cyprus (Greek)") and a postcode.
_COUNTRY = regex.compile(
    r"(?i)(?P<country>[^\d\s(),][^\d(),\n]{1,40}?)(?:[ \t]*\([^)\n]{1,25}\))?[ \t]*,?(?:[ \t]*(?P<post>"
    + _POSTCODE + r"))?"
)
_LETTER = regex.compile(r"\p{L}")
_DIGIT = regex.compile(r"\d")
#: What may come before the street on its line: a label or a sentence, up to a colon or a sentence end.
_LEAD = regex.compile(r"[:?!][ \t]+")
#: Words of a sentence before a house number ("please return to 575 …"); a street's own words are not these.
_SENTENCE_WORDS = frozenset("to is at in on with from the please my our it's its are was were here address".split())
#: The rest of a sentence after the last line of a block ("Hungary. Please call me", "75714 in case").
_TAIL = regex.compile(r"(?:[.?!;)\]]+(?:[ \t]+|$)|[ \t]+(?=\p{Ll}))(?!\d)")
#: Not in a street line: a label, an item count, money, a percentage.
_NOT_STREET = regex.compile(r"[%$€£]|(?<!\p{L})[x×](?!\p{L})")
_NUMBER_WORD = regex.compile(r"(?<![\p{L}\d])\d")
_WORD = regex.compile(r"[\p{L}'’]+")
_MAX_WORDS_BEFORE_NUMBER = 4
_MAX_LINE = 80
_MAX_PART = 45
_MAX_LINES = 7
#: The lines an address block may end on.
_ENDS = frozenset({"country", "postcode", "town+postcode"})


class AddressBlockRecognizer(AduanaLocalRecognizer):
    """LOCATION: the lines of a postal address block, from the street line to the country or postcode."""

    ENTITY = "LOCATION"
    SCORE = 0.6

    def load(self) -> None:
        """Read the country list once per process."""
        countries()

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the address blocks of ``text``."""
        if "\n" not in text or not _DIGIT.search(text):
            return []
        lines = _lines(text)
        results = []
        i = 0
        while i < len(lines):
            found = _block(lines, i)
            if found is None:
                i += 1
                continue
            spans, i = found
            results += [self.result(s, e, self.SCORE) for s, e in spans]
        return results


_Line = tuple[int, str]


def _lines(text: str) -> list[_Line]:
    """Each line as ``(offset, content)``: quoting prefix, trailing blanks and commas left out."""
    out = []
    pos = 0
    for raw in text.split("\n"):
        prefix = _PREFIX.match(raw)
        skip = prefix.end() if prefix else 0
        out.append((pos + skip, raw[skip:].rstrip(" \t\r,")))
        pos += len(raw) + 1
    return out


def _street(line: str) -> int | None:
    """Where the street starts in ``line``, or None if it is no street.

    A line may open with a label or a sentence ("Address:", "Can you check the following? 12 Main
    St"): the street is what follows the last colon, question or exclamation mark and the last
    sentence word before a number ("please return to 575 …"), or starts at the first number when
    many words come before it.
    """
    start = 0
    for m in _LEAD.finditer(line):
        start = m.end()
    body = line[start:]
    if not body or len(body) > 2 * _MAX_LINE or "@" in body or "://" in body:
        return None
    if len(_LETTER.findall(body)) < 3 or not _DIGIT.search(body) or _NOT_STREET.search(body):
        return None
    # "The address of Acme Inc. is 267 Pesolantie 32": the street starts after the sentence's last
    # word before a number ("12 Main Street in Springfield" keeps its start).
    last = None
    for word in _WORD.finditer(body):
        if word.group().lower() in _SENTENCE_WORDS and _DIGIT.search(body, word.end()):
            last = word
    if last is not None:
        start, body = start + last.end(), body[last.end():]
    if len(body) > _MAX_LINE:  # the street is what follows the sentence ("… office is at 516 …")
        return None
    number = _NUMBER_WORD.search(body)
    if number is None:
        return None
    if len(body[:number.start()].split()) > _MAX_WORDS_BEFORE_NUMBER:
        return start + number.start()
    return start + len(body) - len(body.lstrip())


def _part(line: str) -> str | None:
    """What a line after the street is: "unit", "postcode", "state", "country", "town" or None."""
    line = line.rstrip(".")
    if len(line) > _MAX_PART:
        return None
    if _UNIT.fullmatch(line):
        return "unit"
    if _POSTCODE_LINE.fullmatch(line):
        return "postcode"
    if _STATE.fullmatch(line) or line.lower() == "nan":
        return "state"
    country = _COUNTRY.fullmatch(line)
    if country and town_key(country.group("country")) in countries():
        return "country"
    town = _TOWN.fullmatch(line)
    if town and len(town.group("town").split()) <= 5:
        if not town.group("post"):
            return "town"
        # "Total 450" ends an invoice, not an address: a town with a postcode has a name in it, or an
        # empty state field between them ("the laurels, nan 99240").
        state = town.group("state")
        named = bool(state and _STATE_CODE.fullmatch(state)) or not all(
            map(is_common_not_proper, town.group("town").split())
        )
        return "town+postcode" if named else "town"
    return None


def _block(lines: list[_Line], first: int) -> tuple[list[tuple[int, int]], int] | None:
    """The spans of the address block whose street is line ``first``, and the line after it; or None."""
    offset, content = lines[first]
    start = _street(content)
    if start is None:
        return None
    spans = [(offset + start, offset + len(content))]
    kinds: list[str] = []
    blank = False
    j = first + 1
    while j < len(lines) and len(kinds) < _MAX_LINES:
        offset, content = lines[j]
        if not content:
            if blank:
                break
            blank = True
            j += 1
            continue
        kind, length = _part(content), len(content)
        # The last line, then the sentence goes on ("Hungary. Please call me", "Kensington, nan 62654 last
        # night"): the first break after which the line ends the address ("nan" is no sentence word).
        for tail in _TAIL.finditer(content) if kind is None else ():
            if tail.start() and _part(content[:tail.start()]) in _ENDS:
                kind, length = _part(content[:tail.start()]), tail.start()
                break
        if kind is None:
            break
        blank = False
        kinds.append(kind)
        spans.append((offset, offset + length))
        j += 1
        if kind == "country" or length < len(content):
            break
    if not kinds or kinds[-1] not in _ENDS or (len(kinds) < 2 and kinds[-1] != "town+postcode"):
        return None
    return spans, j
