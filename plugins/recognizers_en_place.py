"""LOCATION in English text: towns found by name, from an offline gazetteer, and the hook.

:mod:`recognizers_en_address` finds a town by its place in an address or after a verb of living or
moving; a town named anywhere else ("we returned to Grange by helicopter", "at Seven Oaks Corp. in
Brive-la-Gaillarde", a ``HELSINKI`` line above ``Finland``) has no shape to find it by. The gazetteer
(GeoNames towns of 5,000 inhabitants or more, :mod:`gateway.inspect.lexicon`) is looked up one word
n-gram at a time in a set, so the cost is one pass over the words whatever the list's size.

What keeps a gazetteer from hiding ordinary words:

- a town's words must be capitalised (or all capitals), as a place name is in English text;
- a town whose words are all dictionary words ("Nice", "Reading", "Grange", "Country Club") only
  counts after a preposition of place ("in", "from", "to", "near", "of") inside a sentence;
- a line above a country line is a town only if it is in the gazetteer or not made of dictionary
  words ("Total" above "Germany" is a label);
- a town right after a capitalised word inside a sentence is a surname ("Ana Ruiz");
- a span spaCy tags as an organization or a person is left to those ("Nokia phones") unless a
  preposition of place comes before it;
- countries and US states are not in the list: they are not personal data.

Registered for English only: Spanish addresses are found by their shape in :mod:`recognizers_es_text`.
"""

from __future__ import annotations

import itertools
from typing import ClassVar

import regex
from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from gateway.hookspecs import hookimpl
from gateway.inspect.lexicon import (
    MAX_TOWN_WORDS,
    countries,
    is_common_not_proper,
    is_dictionary_word,
    town_key,
    towns,
)

from .recognizers_common import AduanaLocalRecognizer, per_language
from .recognizers_en_address import LINE_PREFIX, PrefixedTownRecognizer
from .recognizers_en_address_block import AddressBlockRecognizer
from .recognizers_en_address_run import StreetCornerRecognizer, UnitAddressRecognizer
from .recognizers_en_lower_name import LowerCaseNameRecognizer
from .recognizers_en_phone import GluedPhoneLabelRecognizer
from .recognizers_en_proper_noun import BRANDS, MODERN_WORDS, UnknownProperNounRecognizer
from .recognizers_en_street import (
    CornerWithoutCornerWordRecognizer,
    StreetNameBeforeStreetWordRecognizer,
    StreetWithoutStreetWordRecognizer,
)

_WORDS = regex.compile(r"[\p{L}\p{M}]+(?:['’][\p{L}\p{M}]+)*")
#: Lower-case words inside a town's name ("Olešnice na Moravě", "Feira de Santana").
_PARTICLES = frozenset("de del della di da das do dos du des la le les el en na nad pod am an im upon on".split())
#: Words before an ambiguous town that make it a place ("in Reading", "from Nice", "of Mobile").
_PLACE_PREPOSITIONS = frozenset("in from to near at of via outside around".split())
_SENTENCE_END = regex.compile(r"(?:\A|[.!?:;\n][\s\"“'(]*)\Z")
_IN_BEFORE = regex.compile(r"(?<![\p{L}])(?:in|from|near)[ \t]+\Z")


def _after_in(text: str, start: int) -> bool:
    """Whether "in", "from" or "near" comes right before ``start``: the cue a lower-case town needs."""
    return _IN_BEFORE.search(text, max(0, start - 8), start) is not None


#: A postal district's letter after a town, before a comma or the end of the sentence ("København K,").
_DISTRICT = regex.compile(r"[ \t](?-i:[A-Z])(?=[ \t]*[,.;]|[ \t]*\Z)")
_COUNTRY_LINE = regex.compile(
    r"(?m)^" + LINE_PREFIX + r"(?P<country>\p{L}[\p{L}\p{M} .'’\-]{1,40}?)(?:[ \t]*\([^)\n]{1,20}\))?"
    r"(?:[ \t]+[\dA-Z][\dA-Z \-]{2,9})?[ \t]*,?[ \t]*$"
)
_TOWN_LINE = regex.compile(
    r"(?m)^" + LINE_PREFIX + r"(?P<town>\p{L}[\p{L}\p{M}'’\-]*(?:[ \t]+[\p{L}\p{M}'’\-]+){0,3})[ \t]*,?[ \t]*$"
)


class TownGazetteerRecognizer(AduanaLocalRecognizer):
    """LOCATION: a town named in English text, from the GeoNames gazetteer, and the town above a country."""

    ENTITY = "LOCATION"
    #: A town that is no dictionary word ("Helsinki", "Brive-la-Gaillarde").
    SCORE = 0.6
    #: A town after a preposition of place ("returned to Grange"), even one that is also a word.
    SCORE_AMBIGUOUS = 0.55
    CONTEXT: ClassVar[list[str]] = ["city", "town", "live", "moved"]

    def load(self) -> None:
        """Read the gazetteer and the dictionary once per process (about a second)."""
        towns()
        is_dictionary_word("town")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the towns named in ``text``."""
        taken = [(e.start_char, e.end_char) for e in getattr(nlp_artifacts, "entities", None) or ()
                 if e.label_ in ("ORGANIZATION", "PERSON")]
        # A line above a country line is a town whatever spaCy calls it ("Pedraza de Alba" is no person).
        spans = [(*span, True) for span in self._named_towns(text)]
        spans += [(*span, False) for span in self._towns_above_a_country(text)]
        results: list[RecognizerResult] = []
        seen: set[tuple[int, int]] = set()
        for start, end, score, by_name in spans:
            if (start, end) in seen or (
                by_name and score == self.SCORE and any(s < end and start < e for s, e in taken)
            ):
                continue
            seen.add((start, end))
            results.append(self.result(start, end, score))
        return results

    def _named_towns(self, text: str) -> list[tuple[int, int, float]]:
        words = [(m.start(), m.end()) for m in _WORDS.finditer(text)]
        gazetteer = towns()
        found: list[tuple[int, int, float]] = []
        # In a text written wholly in lower case a town is read after a preposition of place only.
        lower_text = not any(c.isupper() for c in text)
        i = 0
        while i < len(words):
            if not (text[words[i][0]].isupper() or lower_text):
                i += 1
                continue
            for n in range(min(MAX_TOWN_WORDS, len(words) - i), 0, -1):
                run = words[i:i + n]
                if any(text[a_end:b_start] not in (" ", "-") for (_, a_end), (b_start, _) in itertools.pairwise(run)):
                    continue
                parts = [text[s:e] for s, e in run]
                key = tuple(p.lower() for p in parts)
                if key not in gazetteer or not (lower_text or _cased_like_a_place(parts)):
                    continue
                score = self._score(text, run[0][0], parts)
                if score == self.SCORE and _inside_a_longer_name(text, words, i):
                    score = 0.0
                if lower_text and (not _after_in(text, run[0][0]) or all(map(is_dictionary_word, parts))):
                    score = 0.0  # "in kuopio" is a town; "in reading", "in turn", "went to helsinki" not
                if score:
                    district = _DISTRICT.match(text, run[-1][1])  # "København K", "Frederiksberg C"
                    found.append((run[0][0], district.end() if district else run[-1][1], score))
                    i += n - 1
                break  # the longest name in the gazetteer decides
            i += 1
        return found

    def _score(self, text: str, start: int, parts: list[str]) -> float:
        """The score of a gazetteer hit, or 0 when the words are more likely ordinary words."""
        before = text[max(0, start - 40):start]
        previous = _WORDS.findall(before)
        cued = bool(previous) and previous[-1].lower() in _PLACE_PREPOSITIONS and not _SENTENCE_END.search(
            before[:before.rfind(previous[-1])]
        )
        if cued:
            return self.SCORE_AMBIGUOUS
        named = [p for p in parts if p.lower() not in _PARTICLES]
        if all(is_dictionary_word(p) or len(p) < 4 for p in named):  # "Reading", "Country Club"
            return 0.0
        return self.SCORE

    def _towns_above_a_country(self, text: str) -> list[tuple[int, int, float]]:
        """The line above a country line in an address block ("HELSINKI\\nFinland", "Fließem\\nGermany 44943")."""
        if "\n" not in text:
            return []
        found = []
        for m in _COUNTRY_LINE.finditer(text):
            if town_key(m.group("country").strip(" .")) not in countries():
                continue
            line_start = m.start()
            above = text.rfind("\n", 0, max(0, line_start - 1))
            town = _TOWN_LINE.fullmatch(text, above + 1, line_start - 1) if line_start else None
            words = town.group("town").split() if town else []
            # "El Argoub" opens with a particle; "de la Cruz" alone is no town.
            if words and (words[0].lower() not in _PARTICLES or (len(words) > 1 and (
                words[-1][0].isupper() or text.islower()
            ))) and (
                town_key(town.group("town")) in towns() or not all(map(is_dictionary_word, words))
            ):
                found.append((town.start("town"), town.end("town"), self.SCORE))
        return found


#: Landmarks a town gives its name to ("Ylivieska bridge", "Aasiaat airport").
_LANDMARK = regex.compile(r"(?<=[\p{L}\p{M}][ \t]+)(?i:bridge|airport|harbour|harbor|castle|cathedral)(?![\p{L}])")
_QUICK_LANDMARK = regex.compile(r"(?i:bridge|airport|harbo|castle|cathedral)")
_MAX_LANDMARK_WORDS = 3


class TownBeforeLandmarkRecognizer(AduanaLocalRecognizer):
    """LOCATION: the town a bridge, an airport, a harbour, a castle or a cathedral is named after.

    "YLIVIESKA bridge is falling down", "we land at Narsarsuaq airport". The words before the
    landmark are read back to a sentence word; they are a town when they are capitalised (any case
    in a text written wholly in lower case), one of them is a word the dictionary does not know,
    and none is a brand or a modern word ("Zigbee bridge", "Hue bridge", "Docker bridge network",
    "Golden Gate bridge" stay visible; "UPPER STONE bridge" is missed).
    """

    ENTITY = "LOCATION"
    SCORE = 0.55

    def load(self) -> None:
        """Read the dictionary once per process."""
        is_dictionary_word("town")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the towns named before a landmark in ``text``."""
        if not _QUICK_LANDMARK.search(text):
            return []
        lower_text = not any(c.isupper() for c in text)
        results = []
        for landmark in _LANDMARK.finditer(text):
            words = _WORDS_BEFORE.findall(text, max(0, landmark.start() - 80), landmark.start())
            run: list[str] = []
            for word in reversed(words[-_MAX_LANDMARK_WORDS:]):
                if not (word[0].isupper() or lower_text) or word.lower() in _LANDMARK_STOPS:
                    break
                run.insert(0, word)
            if not run or any(w.lower() in BRANDS or w.lower() in MODERN_WORDS for w in run):
                continue
            if all(is_dictionary_word(w) or len(w) < 4 for w in run):
                continue
            start = text.rfind(run[0], 0, landmark.start())
            end = landmark.start() - len(text[:landmark.start()]) + len(text[:landmark.start()].rstrip())
            if text[start:end].split() != run:
                continue  # words joined by something else than spaces
            results.append(self.result(start, end, self.SCORE))
        return results


_WORDS_BEFORE = regex.compile(r"[\p{L}\p{M}][\p{L}\p{M}'’\-]*")
_LANDMARK_STOPS = frozenset(
    "the a an this that my our your his her their its and or of to from at in on by near new old main "
    "network wifi wireless usb ethernet zigbee z-wave bluetooth vlan lan pci hdmi mesh".split()
)

class TownAboveCountryRecognizer(TownGazetteerRecognizer):
    """LOCATION: the town line above a country line, in a text the language vote calls Spanish.

    An English contact block ("Olivia Pedersen\\n\\nPedraza de Alba\\nSpain") is often read as Spanish;
    the English gazetteer rule then never runs. Only the line above a country is read here: towns
    named in prose need English text.
    """

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the towns above a country line in ``text``."""
        return [self.result(start, end, score) for start, end, score in self._towns_above_a_country(text)]


def _inside_a_longer_name(text: str, words: list[tuple[int, int]], first: int) -> bool:
    """Whether a capitalised word comes right before the town: then it is a surname ("Ana Ruiz")."""
    if not first:
        return False
    start, end = words[first - 1]
    if text[end:words[first][0]] != " " or not text[start].isupper():
        return False
    # A sentence's first word is capitalised anyway: "Visit Helsinki" is a town, "Ana Ruiz" a name.
    return not _SENTENCE_END.search(text[:start]) or not is_common_not_proper(text[start:end])


def _cased_like_a_place(parts: list[str]) -> bool:
    """Capitalised or all capitals, lower-case particles inside ("Feira de Santana", "SAINT-MALO")."""
    if not (parts[0][0].isupper() and parts[-1][0].isupper()):
        return False
    return all(p[0].isupper() or p in _PARTICLES for p in parts)


@hookimpl(trylast=True)
def aduana_register_recognizers() -> list[EntityRecognizer]:
    """Register the gazetteer and unknown-proper-noun recognizers for English (the town above a country line for
    Spanish as well); address blocks, addresses around a
    unit, corners, streets without a street word or before one, towns after a place word or before a landmark,
    lower-case names and phones with a glued-on label for both languages."""
    return [TownGazetteerRecognizer(supported_language="en"), UnknownProperNounRecognizer(supported_language="en"),
            TownAboveCountryRecognizer(supported_language="es"),
            *per_language((AddressBlockRecognizer, UnitAddressRecognizer, StreetCornerRecognizer,
                           StreetWithoutStreetWordRecognizer, StreetNameBeforeStreetWordRecognizer,
                           CornerWithoutCornerWordRecognizer, PrefixedTownRecognizer, TownBeforeLandmarkRecognizer,
                           LowerCaseNameRecognizer, GluedPhoneLabelRecognizer))]
