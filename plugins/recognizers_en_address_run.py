"""LOCATION in English text: a one-line address read outwards from its unit ("… 86. Suite 645 Nagylak Csongrád").

:class:`~recognizers_en_address.StreetAddressRecognizer` reads an address as one regex from the
street on, and stops at the first word it cannot parse: a lower-case street word of another
language ("Nagytétényi út 86.", "Zumalakarregi etorbidea 51"), a district number after the town
("Pardubice 2 Pardubický kraj"), a bracket after the country ("Cyprus (Greek) 28458"). The pieces
other rules find leave the words between them visible. A unit inside a building (``Apt. 703``,
``Suite 645``) is the surest sign that an address is being written, so this rule starts there and
reads the line both ways, word by word:

- backwards to the start of the clause (a colon, a question mark, a sentence word such as "to",
  "is", "at"), keeping the run from its first number on: the street with its house number;
- forwards over what a town line is made of (capitalised words, state codes, district numbers,
  postcodes, a bracket, a second unit, commas) until a sentence word, a dictionary word in lower
  case, the end of the sentence or the line.

Both sides are needed: a house number before the unit ("Unit 3 Review Questions" is a chapter, not
an address). Nothing depends on the words of a particular address: each word is judged by its
shape, the stop words of an English sentence and the dictionary.

Registered for both languages: an English ticket quoting a foreign address often reads as Spanish
to the language vote.
"""

from __future__ import annotations

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from gateway.inspect.lexicon import is_dictionary_word

from .recognizers_common import AduanaLocalRecognizer
from .recognizers_en_address import STREET_WORD

#: A unit inside a building; "Unit" and "Flat" capitalised ("unit 5 was broken" is an item).
_UNIT = regex.compile(
    r"(?<![\p{L}\d])(?:(?i:apt|apartment|suite|ste)|(?-i:Unit|UNIT|Flat|FLAT))\.?[ \t]*#?\d{1,5}(?-i:[A-Z])?"
    r"(?![\p{L}\d])"
)
_UNIT_WORD = regex.compile(r"(?i:apt|apartment|suite|ste|unit|flat)")
_QUICK = regex.compile(r"(?i:apt|apartment|suite|ste\b|unit|flat)")
#: Words of an English sentence: the clause boundary on the left, the end of the address on the right.
_STOPS = frozenset(
    "the this that these my our your his her their and but or please thanks thank it i we you he she they is "
    "was are were be if when for in on at to from with by call who what where how why can could would will "
    "also best regards dear hi hello as so then there here not no yes ok after before until since during "
    "today tomorrow tonight now soon asap next last every via into onto near about address addresses "
    "phone tel mobile cell email e-mail fax office website order invoice ticket total amount".split()
)
_NUMBER = regex.compile(r"\d{1,6}(?:-\d{2,4})?(?-i:st|nd|rd|th|[A-Za-z])?")
#: UK and Canadian postcode halves ("PH36", "9QH", "N0R", "1N0").
_CODE = regex.compile(r"(?-i:[A-Z]{1,2}\d[A-Z\d]?|\d[A-Z]{2}|[A-Z]\d[A-Z]|\d[A-Z]\d)")
#: A word of a place name in any script; "∆" stands for Δ in pasted Greek capitals; "u." is an abbreviation.
_PLACE_WORD = regex.compile(r"[\p{L}\p{M}∆](?:[\p{L}\p{M}∆'’\-]*[\p{L}\p{M}∆])?\.?")
_BRACKET = regex.compile(r"\([\p{L}\p{M} .\-]{1,25}\)")
#: On the left, a street's own tokens may also be "C/" (Spanish "calle") and quoted names ('"NILA"').
_LEFT_EXTRA = regex.compile(r"\p{L}{1,3}/|[\"“][\p{L}\p{M} \-]{1,20}[\"”]")
_PARTICLES = frozenset(
    "de del della di da das do dos du des la las los le les el van von der den ter ten nad pod na pri u y i e".split()
)
_MAX_LEFT = 10
_MAX_RIGHT = 10
_TOKEN = regex.compile(r"[^\s]+")


class UnitAddressRecognizer(AduanaLocalRecognizer):
    """LOCATION: a house-number street, a unit, and the town, state, country and postcode after it, on one line."""

    ENTITY = "LOCATION"
    SCORE = 0.6

    def load(self) -> None:
        """Read the dictionary once per process."""
        is_dictionary_word("town")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the one-line addresses of ``text`` that hold a unit."""
        if not _QUICK.search(text) and ", " not in text:
            return []
        lower_text = not any(c.isupper() for c in text)
        results = []
        for unit in _UNIT.finditer(text):
            if results and unit.start() < results[-1].end:
                continue  # a second unit of the same address ("Suite 093 Apt. 060")
            start = _street_start(text, unit.start())
            if start is None:
                continue
            results.append(self.result(start, _tail_end(text, unit.end(), lower_text), self.SCORE))
        for street in _BETWEEN_COMMAS.finditer(text):
            words = _LETTERS.findall(street.group("name"))
            if any(r.start <= street.start() < r.end for r in results) or not words or (
                all(map(_english, words)) and not any(map(_STREET_WORD.fullmatch, words))
            ):
                continue  # "…, 2 items 3, …" is a list
            end = _tail_end(text, street.end(), lower_text)
            if _LETTERS.search(text, street.end(), end):  # the town after it: ", 2 boxes 3, and more" is a list
                results.append(self.result(street.start(), end, self.SCORE))
        return results


#: A street between two numbers, after a comma or "to", "at", "is", "with", and a comma before the town:
#: ", 42374 Jõe põik 97, Kõlunõmme", "a taxi to 53217 Csabai kapu 70., Chrudim 3".
_BETWEEN_COMMAS = regex.compile(
    r"(?=\d)(?<=(?:,|(?<![\p{L}])(?i:to|at|is|with))[ \t]+)\d{1,6}(?:[ \t]+\d{1,5})?[ \t]+"
    r"(?P<name>[\p{L}\p{M}][\p{L}\p{M}'’\-]*\.?"
    r"(?:[ \t]+[\p{L}\p{M}][\p{L}\p{M}'’\-]*\.?){0,3})[ \t]+\d{1,5}(?:-?(?-i:[A-Za-z]))?\.?(?=,[ \t])"
)


def _english(word: str) -> bool:
    """A dictionary word or its plural ("boxes", "Widgets")."""
    return any(is_dictionary_word(w) for w in (word, word.removesuffix("s"), word.removesuffix("es")))


def _bare(token: str) -> str:
    return token.strip(".,;:!?\"“”'’()[]").lower()


def _street_start(text: str, unit_start: int) -> int | None:
    """Where the street before a unit starts (its house number), or None when no street comes before it."""
    line_start = text.rfind("\n", 0, unit_start) + 1
    tokens = list(_TOKEN.finditer(text, line_start, unit_start))[-_MAX_LEFT:]
    kept: list[regex.Match[str]] = []
    for token in reversed(tokens):
        word = token.group()
        if word[-1] in ":?!" or "@" in word or "://" in word or _bare(word) in _STOPS:
            break
        if word.endswith(".") and len(word) > 4 and not word[:-1].isdigit() and word[0].islower():
            break  # "… in case of an issue. 12 Main St" — the end of a sentence
        if not (_NUMBER.fullmatch(word.rstrip(".,")) or _PLACE_WORD.fullmatch(word.rstrip(","))
                or _LEFT_EXTRA.fullmatch(word.rstrip(","))):
            break
        kept.append(token)
    kept.reverse()
    while kept and not _NUMBER.fullmatch(kept[0].group().rstrip(".,")):
        kept.pop(0)
    words = [t.group().rstrip(",.") for t in kept if _PLACE_WORD.fullmatch(t.group().rstrip(","))]
    if not kept or not kept[0].group()[0].isdigit() or not words:
        return None
    # "a 2 bedroom Apartment 5": a street's name is capitalised, a street word or no English word
    if not (text.islower() or any(w[0].isupper() or _STREET_WORD.fullmatch(w) or not _english(w) for w in words)):
        return None
    return kept[0].start()


def _tail_end(text: str, unit_end: int, lower_text: bool) -> int:
    """Where the town, state, country and postcode after a unit end (``unit_end`` when none follow)."""
    line_end = text.find("\n", unit_end)
    if line_end < 0:
        line_end = len(text)
    end = unit_end
    for count, token in enumerate(_TOKEN.finditer(text, unit_end, line_end)):
        word = token.group()
        core = word.rstrip(",;.?!:")
        if word == "," and not count:
            continue  # "Apt. 534, Mogyorósbánya"
        if count >= _MAX_RIGHT or not core or _bare(core) in _STOPS:
            break
        if _NUMBER.fullmatch(core) or _CODE.fullmatch(core) or _BRACKET.fullmatch(core) or _UNIT_WORD.fullmatch(core):
            pass
        elif not _PLACE_WORD.fullmatch(core) or not (
            core[0].isupper() or core[0] == "∆" or lower_text or core in _PARTICLES or core == "nan"
            or not is_dictionary_word(core)
        ):
            break
        end = token.start() + len(core)
        abbreviation = bool(_UNIT_WORD.fullmatch(core)) or (core.isalpha() and len(core) <= 2)
        if word[len(core):][:1] in (".", "?", "!", ":", ";") and not abbreviation:
            break  # the sentence or the clause ends here
    return end




_CORNER = regex.compile(r"(?<![\p{L}])(?:(?i:the)[ \t]+)?(?i:corner)[ \t]+(?i:of)[ \t]+")
_AND = frozenset(("and", "&"))
_STREET_WORD = regex.compile(STREET_WORD)
_LETTERS = regex.compile(r"[\p{L}\p{M}'’\-]{2,}")
_MAX_SIDE = 7


class StreetCornerRecognizer(AduanaLocalRecognizer):
    """LOCATION: two streets at a corner, whatever their case and abbreviations ("Síp utca 36. and Tadzio Plaza").

    The street corner pattern of :mod:`recognizers_en_address` wants capitalised names and a house
    number without a dot; read word by word, a side is any run of words and numbers up to "and",
    and the second side ends at a sentence word or the end of the sentence. A digit must be in the
    corner, and a street word or a word the dictionary does not know: "the corner of Excel and
    Word", "the corner of page 3 and 4" are not places.

    Without "the corner of", a street read the same way after one word and "and" ("Lasse and C/
    Pablo Iglesias 93", "ava and 97 warren avenue"), the pair opening a line or following "is",
    "at", "to", "with", a colon or a question mark, and ending the sentence: the street then needs
    its number at one end and a street word, or its number last and a word the dictionary does not
    know ("is Tesla and Model 3", "with Alice and 2 others" are refused).
    """

    ENTITY = "LOCATION"
    SCORE = 0.6

    def load(self) -> None:
        """Read the dictionary once per process."""
        is_dictionary_word("town")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the corners of ``text``."""
        corner_of = "orner" in text or "ORNER" in text
        if not corner_of and " and " not in text and " & " not in text:
            return []
        lower_text = not any(c.isupper() for c in text)
        results = [self.result(s, e, self.SCORE) for s, e in _corners_after_a_word(text, lower_text)]
        for cue in _CORNER.finditer(text) if corner_of else ():
            end = _corner_end(text, cue.end(), lower_text)
            corner = text[cue.end():end] if end is not None else ""
            if not any(c.isdigit() for c in corner) or not any(
                _STREET_WORD.fullmatch(w) or not is_dictionary_word(w) for w in _LETTERS.findall(corner)
                if w.lower() not in _AND
            ):
                continue  # "the corner of page 3 and 4"
            results.append(self.result(cue.start(), end, self.SCORE))
        return results


#: One word and "and", opening a line or after "is", "at", "to", "with", a colon or a question mark.
_WORD_AND = regex.compile(
    r"(?=\p{L})(?:(?<=(?:\A|\n)[ \t?>}|]*)|(?<=(?<![\p{L}])(?i:is|at|to|with)[ \t]+)|(?<=[:?][ \t]+))"
    r"[\p{L}\p{M}][\p{L}\p{M}'’\-]*[ \t]+(?:and|&)[ \t]+"
)
_CLAUSE_END = regex.compile(
    r"[ \t]*(?:[.?!]*[ \t]*(?:\r?\n|\Z)|[.?!]+[ \t]+|[ \t](?i:for|after|before|please|today)(?![\p{L}]))"
)


def _corners_after_a_word(text: str, lower_text: bool) -> list[tuple[int, int]]:
    """"Lasse and C/ Pablo Iglesias 93": a word, "and", and a street with its number that ends the clause."""
    found = []
    for pair in _WORD_AND.finditer(text):
        first = pair.group().split()[0]
        if _bare(first) in _STOPS or not (first[0].isupper() or lower_text):
            continue
        end = _side_end(text, pair.end(), lower_text)
        if end is None or not _CLAUSE_END.match(text, end):
            continue
        street = text[pair.end():end].split()
        numbered_first, numbered_last = street[0][0].isdigit(), street[-1].rstrip(".")[:1].isdigit()
        words = _LETTERS.findall(" ".join(street))
        if len(street) < 2 or not words or not (numbered_first or numbered_last):
            continue
        if any(_STREET_WORD.fullmatch(w) for w in words) or (
            numbered_last and not all(is_dictionary_word(w) for w in words)
        ):
            found.append((pair.start(), end))
    return found


def _side_end(text: str, start: int, lower_text: bool) -> int | None:
    """Where a street read word by word from ``start`` ends, or None when it has no word."""
    line_end = text.find("\n", start)
    end = None
    for token in list(_TOKEN.finditer(text, start, len(text) if line_end < 0 else line_end))[:_MAX_SIDE]:
        word = token.group()
        core = word.rstrip(",;.?!:") if not _LEFT_EXTRA.fullmatch(word) else word
        if not core or (_bare(core) in _STOPS and not _STREET_WORD.fullmatch(core)) or not _street_token(core):
            break
        if not (core[0].isupper() or core[0].isdigit() or lower_text or core in _PARTICLES
                or not is_dictionary_word(core) or _STREET_WORD.fullmatch(core) or len(core) == 1):
            break
        end = token.start() + len(core)
        if word != core and not (core.isalpha() and len(core) <= 2):
            break
    return end


def _corner_end(text: str, start: int, lower_text: bool) -> int | None:
    """Where the second street of a corner ends, or None when ``text[start:]`` is no pair of streets."""
    line_end = text.find("\n", start)
    tokens = list(_TOKEN.finditer(text, start, len(text) if line_end < 0 else line_end))
    left = 0
    while left < len(tokens) and left <= _MAX_SIDE and tokens[left].group().lower() not in _AND:
        word = tokens[left].group()
        if _bare(word) in _STOPS or word[-1] in ",;:?!" or not _street_token(word.rstrip(".")):
            return None
        left += 1
    if not left or left >= len(tokens) or tokens[left].group().lower() not in _AND:
        return None
    end = None
    for token in tokens[left + 1:left + 1 + _MAX_SIDE]:
        word = token.group()
        core = word.rstrip(",;.?!:")
        if not core or (_bare(core) in _STOPS and not _STREET_WORD.fullmatch(core)) or not _street_token(core):
            break
        if not (core[0].isupper() or core[0].isdigit() or lower_text or core in _PARTICLES
                or not is_dictionary_word(core)):
            break
        end = token.start() + len(core)
        if word != core and not (core.isalpha() and len(core) <= 2):
            break
    return end


def _street_token(word: str) -> bool:
    """A word, a number or an abbreviation of a street's name ("Síp", "36", "ul", "C/", "9-11")."""
    return bool(_NUMBER.fullmatch(word) or _PLACE_WORD.fullmatch(word) or _LEFT_EXTRA.fullmatch(word))
