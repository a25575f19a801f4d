"""LOCATION in English text: a street named without a street word of its own, read from what is around it.

:class:`~recognizers_en_address.StreetAddressRecognizer` needs a street word in the name ("Morris
Street", "Via Roma") or a unit, a town or a postcode after it. A street written the way its own
country writes it, with the street word fused or absent ("Kuusiku 17", "Erhvervsvangen 91",
"Trg revolucije 17"), has neither; English prose then marks it in one of two ways:

- a street word *after* the house number, the English way of reading a foreign name ("Parmova
  106 street", "Trg revolucije 17 St.");
- a preposition of place, and the clause ending right after the number ("the bus stop is on
  Kuusiku 17.", "he lives on the north side of Baltasar Brum 5334"); in a text written wholly in
  lower case, one word of six letters or more that the dictionary does not know ("on floridusgasse 49").

The second shape is also the shape of "my game is on Xbox 360" or "it runs on Windows 10": the
name's last word must not be a dictionary word (nor one of its inflections) nor a known brand, and
the number has at most five digits and no decimal point (a version is not a house number).
"""

from __future__ import annotations

from typing import ClassVar

import regex
from presidio_analyzer import AnalysisExplanation, Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from gateway.inspect.lexicon import is_dictionary_word

from .recognizers_common import UPPER, AduanaLocalRecognizer, AduanaPatternRecognizer
from .recognizers_en_address import CORNER_SIDE, LINE_PREFIX, STREET_WORD
from .recognizers_en_proper_noun import BRANDS, MODERN_WORDS

_SP = r"[ \t]"
#: A capitalised word of any script, or a short abbreviation ("ul.", "R.").
_CAP = rf"(?-i:{UPPER}[\p{{L}}\p{{M}}'’\-]*\.?|\p{{Ll}}{{1,3}}\.)(?![\p{{L}}\d])"
#: Lower-case words inside a street's name ("Trg revolucije", "Rue de la Paix").
_LOWER = r"(?-i:\p{Ll}[\p{L}\p{M}'’\-]*)(?![\p{L}\d])"
_NAME = rf"{_CAP}(?:{_SP}+(?:{_CAP}|{_LOWER})){{0,3}}"
_HOUSE = r"\d{1,5}(?:-?(?-i:[A-Za-z]))?(?![\p{L}\d.,]\d)(?![\p{L}\d])"
_STREET_WORD_AFTER = r"(?i:street|st\.?|road|rd\.?|avenue|ave\.?)(?![\p{L}])"
_PLACE = (
    r"(?<=(?<![\p{L}])(?i:on|at|of)" + _SP + r"+(?i:the" + _SP + r"+(?:north|south|east|west)(?:ern)?" + _SP
    + r"+(?:side|end|part)" + _SP + r"+of" + _SP + r"+)?)"
)
#: Units and currencies between two numbers: an amount or a time, not a street ("at 2 Euro 50").
_UNITS = frozenset("euro euros eur usd gbp chf dollars pounds yen pm am gb mb kb tb ghz mhz kg km cm mm".split())
_NUMBER_THEN_STREET_WORD = "street name and number, then a street word"

_TRAILING_STREET_WORD = regex.compile(r"[ \t]+" + _STREET_WORD_AFTER + r"\Z")
_CLAUSE_END = r"(?=[ \t]*(?:[.,;!?)]|\r?\n|\Z))"


class StreetWithoutStreetWordRecognizer(AduanaPatternRecognizer):
    """LOCATION: "Parmova 106 street", "on Kuusiku 17." — a street name and house number, cued by English."""

    ENTITY = "LOCATION"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            _NUMBER_THEN_STREET_WORD,
            r"(?<![\p{L}\d.])(?:" + _NAME + r"|(?<=(?<![\p{L}])(?i:on|at|of|in|to)" + _SP + r"+)" + _LOWER + r"(?:"
            + _SP + r"+" + _LOWER + r"){0,2})" + _SP + r"+"
            + _HOUSE + _SP + r"+" + _STREET_WORD_AFTER,
            0.6,
        ),
        Pattern("street name and number after a preposition of place", _PLACE + _NAME + _SP + r"+" + _HOUSE
                + _CLAUSE_END, 0.55),
        Pattern(
            # "at 0413 Kopfhölzistrasse 95", "at 48072 65 annfield rd": one scan for both shapes
            "house numbers, street name, then a number or a street word, after a preposition of place",
            r"(?=\d)" + _PLACE + r"\d{1,6}(?:" + _SP + r"+\d{1,5})?" + _SP + r"+(?:" + _CAP + r"|" + _LOWER + r")(?:"
            + _SP + r"+(?:" + _CAP + r"|" + _LOWER + r")){0,3}" + _SP + r"+(?:" + _HOUSE + r"|" + _STREET_WORD_AFTER
            + r")" + _CLAUSE_END,
            0.55,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["street", "lives", "address"]

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Match, then leave a street word after the house number out of the span ("Parmova 106 street").

        English prose adds it to a foreign name; it is not part of the name.
        """
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        if not any(c.isupper() for c in text):
            results += [self._lower(m) for m in _LOWER_STREET.finditer(text) if _unknown_lower_street(m.group(1))]
        for result in results:
            explanation = result.analysis_explanation
            if explanation is None or explanation.pattern_name != _NUMBER_THEN_STREET_WORD:
                continue  # "at 12 baker street": there the street word is part of the name
            tail = _TRAILING_STREET_WORD.search(text, result.start, result.end)
            if tail:
                result.end = tail.start()

        return results

    def _lower(self, match: regex.Match[str]) -> RecognizerResult:
        score = 0.55
        return RecognizerResult(
            self.ENTITY, match.start(), match.end(), score,
            analysis_explanation=AnalysisExplanation(self.name, score),
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
        )

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """Drop "Xbox 360", "Windows 10", "Office 365": a dictionary word or a brand before the number.

        With a street word after the number, the name only needs one word the dictionary does not
        know ("Rue du Monument 12 St.", "parkring 9 street"; not "page 9 street").
        """
        words = pattern_text.split()
        if len(words) > 2 and regex.fullmatch(_STREET_WORD_AFTER, words[-1]):
            if words[0].isdigit():  # "at 48072 65 annfield rd": house numbers first
                return any(w.lower() in _UNITS for w in words)
            return all(is_dictionary_word(w.strip(".")) for w in words[:-2])
        led = bool(words) and words[0].isdigit()  # "at 0413 Kopfhölzistrasse 95": a number on either side
        words = words[1:-1] if led else words[:-1]
        if not words or (led and any(w.lower() in _UNITS for w in words)):
            return True
        last = words[-1].strip(".")
        return bool(last.lower() in BRANDS or is_dictionary_word(last) or is_dictionary_word(last.rstrip("s"))
                    or (not led and not any(c.isupper() for c in last[:1]) and len(words) == 1))


#: In a text written wholly in lower case: one word and a house number ending the clause ("on floridusgasse 49").
_LOWER_STREET = regex.compile(
    _PLACE + r"(\p{Ll}[\p{L}\p{M}'’\-]{5,})" + _SP + r"+\d{1,5}(?![\p{L}\d.,]\d)(?![\p{L}\d])" + _CLAUSE_END
)


#: Devices named with a number, which the brand list does not hold ("on iphone 12", "on macbook 2019").
_DEVICES = frozenset("iphone ipad ipod macbook imac airpods thinkpad chromebook pixel surface galaxy".split())


def _unknown_lower_street(word: str) -> bool:
    """A word the dictionary does not know, nor its plural, and no brand, device or modern word ("on ubuntu 22")."""
    return not (word in BRANDS or word in _DEVICES or word in MODERN_WORDS or is_dictionary_word(word)
                or is_dictionary_word(word.removesuffix("s")))


_AND = regex.compile(r"[ \t]+(?:and|&)[ \t]+")
#: The left side of a corner, ending right before "and", opening a line or after "is/in/at/to" or a colon.
_LEFT = regex.compile(
    r"(?:(?<=(?:\A|\n)" + LINE_PREFIX + r")|(?<=(?<![\p{L}])(?i:is|in|at|to|with)[ \t]+)|(?<=[:?][ \t]+))"
    + CORNER_SIDE + r"\Z"
)
#: The right side, ending the line or the sentence (or before "for", "last night", "after" and such
#: that go on with it); a year there makes it a title ("Terms and Conditions 2024").
_RIGHT = regex.compile(
    CORNER_SIDE + r"(?=[ \t]*[.?!]?[ \t]*(?:\r?\n|\Z)"
    r"|[ \t]+(?:for|last|after|before|in|on|please|today|tomorrow)(?![\p{L}]))"
)
_YEAR_END = regex.compile(r"(?<!\d)(?:19|20)\d\d\Z")
_STREET_WORD_ALONE = regex.compile(STREET_WORD)
_LETTERS = regex.compile(r"[\p{L}\p{M}'’\-]{3,}")


class CornerWithoutCornerWordRecognizer(AduanaLocalRecognizer):
    """LOCATION: two streets joined by "and" without "the corner of" ("Orvane and Postbox 297").

    Alone on a line of an address block, or after "is", "in", "at", "to", "with", a colon or a
    question mark, ending the sentence or followed by "for …", "last …", "after …". Read from each
    "and" outwards, so most text costs one scan for " and ". The pair needs a digit, and a street
    word or a word the dictionary does not know: "Section 3 and Section 4", "Model 3 and Model 5"
    are not streets.
    """

    ENTITY = "LOCATION"
    SCORE = 0.6

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the corners of ``text``."""
        if self.ENTITY not in entities or ("and" not in text and "&" not in text):
            return []
        results = []
        for joint in _AND.finditer(text):
            right = _RIGHT.match(text, joint.end())
            left = _LEFT.search(text, max(0, joint.start() - 80), joint.start()) if right else None
            if left is None or right is None:
                continue
            value = text[left.start():right.end()]
            if not any(c.isdigit() for c in value) or _YEAR_END.search(value.rstrip()):
                continue
            words = [w for w in _LETTERS.findall(value) if w.lower() != "and"]
            if not any(_STREET_WORD_ALONE.fullmatch(w) or not is_dictionary_word(w) for w in words):
                continue
            results.append(self.result(left.start(), right.end(), self.SCORE))
        return results


#: A word inside a street's name: capitalised, an abbreviation ("u."), a lower-case street word ("Berings
#: gate"), a code ("WE-07-A").
_NAME_PART = (
    r"(?:(?-i:" + UPPER + r"[\p{L}\p{M}'’\-]*)(?![\p{L}\d])|(?-i:\p{Ll}{1,3}\.)"
    r"|(?-i:vei|veien|vej|gate|gata|gatan|väg|vägen|út|útja|utca|ulica|straße|strasse)(?![\p{L}\d])"
    r"|(?-i:[A-Z\d]+(?:-[A-Z\d]+)+)(?![\p{L}\d]))"
)
#: A street word of English prose written after a street's name ("on Talbot Vista Street").
_STREET_NOUN = r"(?i:street|st\.|road|avenue)(?![\p{L}])"
_NOT_NAMES = frozenset("the a an my our your this that its their main high same other next one".split())


class StreetNameBeforeStreetWordRecognizer(AduanaPatternRecognizer):
    """LOCATION: a street's name between "on" and an English street word ("the shows on Maslow View Street").

    The name is what is personal; the street word English adds stays visible. Capitalised names of
    one to four words, abbreviations and codes inside, maybe a house number ("enter on Graben 13
    St.", "on Kossuth Lajos u. 52. St."); in lower case only a name whose last word is itself a street word and whose
    first word the dictionary does not know ("on vik way street"). Brands and the words of "on the
    same street", "on Main Street", "on Google Street View" are refused.
    """

    ENTITY = "LOCATION"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "street name between 'on' and a street word",
            r"(?=\p{L})(?<=(?<![\p{L}])(?i:on|along|down|up)" + _SP + r"+)(?:(?-i:van|von|de|del|la|le)" + _SP + r"+)?"
            + r"(?:(?-i:" + UPPER + r"[\p{L}\p{M}'’\-]*)(?:" + _SP + r"+" + _NAME_PART + r"){0,3}(?:" + _SP
            + r"+\d{1,5}\.?)?|(?-i:\p{Ll}[\p{L}\p{M}'’\-]*)" + _SP + r"+(?:" + STREET_WORD + r"|(?i:streets|roads))"
            + r")"
            + r"(?=" + _SP + r"+" + _STREET_NOUN + r")",
            0.55,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["street", "lives", "address"]

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """Refuse brands, "the same", "Main", and a lower-case name the dictionary knows ("on one way street")."""
        words = [w for w in pattern_text.split() if not w.rstrip(".").isdigit()]
        if not words or any(w.lower() in BRANDS or w.lower() in _NOT_NAMES for w in words):
            return True
        if words[-1][:1].islower() and not words[0][:1].isupper():
            return is_dictionary_word(words[0])
        return len(words) == 1 and regex.fullmatch(STREET_WORD, words[-1]) is not None
