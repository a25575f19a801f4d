"""PERSON in English text: capitalised words no dictionary knows, where a name can stand.

The context rules of :mod:`recognizers_en_person` need a cue ("said", "directed by", "lives at");
the small spaCy model finds the names it has seen. A name with neither ("Why is Maj so impulsive?",
"Unlike the Antall novel", "Caird and Jones were engineers") is still a word the English dictionary
does not know, written with a capital inside a sentence, that the tagger calls a proper noun. That
is this recognizer's whole rule, with what keeps it from hiding ordinary words:

- the word and its lemma are not in the dictionary (Webster's list in ``english-words``:
  "Battery", "Helped", "Users" are words; "Antall" is not), nor a stop word;
- the word is capitalised with lower-case letters after the first (``SKU``, ``iPhone``,
  ``PayPal`` are codes and brands, not names) and has no digit;
- spaCy does not put it in an entity that is never a person: a date, a nationality (NORP), an
  amount, a law, an event;
- it is not a country (countries are not personal data and are not hidden);
- it is not a product or company name the dictionary misses (``BRANDS``: the software, devices
  and services support tickets name all the time);
- it is not glued to a digit or a version ("Xbox 360" is left to the address rules' negatives).

A capitalised word joined by "and" to such a name, the pair followed by a verb, is a name too,
dictionary word or not ("Barber and Hayes were engineers"). Adjacent capitalised proper nouns join
the span ("Marcel Dreher"), so a first name that is also a word ("Daisy", "Rose") is taken with the
unknown surname next to it. The score is the policy's default floor (0.5): a pack that raises
PERSON's ``min_score`` turns this guess off.

A census name (the 1990 US census lists of the ``names`` wheel, :mod:`gateway.inspect.lexicon`)
that the tagger calls a proper noun counts too, with a second signal wherever it is also a word:
see :func:`_census_name` ("Heather is", "Sean", "Zak Sanders"; not "Rose Gold", "Border Force").

Names beside names (fifth round): a census given name joins the name found right after it even when
it is a word ("Amber Chouno", "Marina L Araujo"), a census surname joins the given name before it
("Miguel Costa"); the other members of a comma list with a found name are names when each could be one
("founders: Kowalczyk, Walker and Reeves"); two census surnames joined by "and" before a verb are
names when one is not a common word ("Shaw and Costa were"). An unknown word the tagger misreads as
an adverb at a sentence start counts before a verb ("Natasja is"); Dutch ``IJ`` is one capital.

Registered for English only, by :mod:`recognizers_en_place`'s hook; Spanish text has its own rules.
"""

from __future__ import annotations

import unicodedata
from typing import Any

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.lang.en.stop_words import STOP_WORDS as _STOP

from gateway.inspect.lexicon import (
    countries,
    given_names,
    is_common_not_proper,
    is_dictionary_word,
    is_known_proper,
    surnames,
    town_key,
)

from .recognizers_common import AduanaLocalRecognizer

#: spaCy entity labels a person's name is never part of.
_NOT_PERSON_ENTITIES = frozenset(
    "DATE TIME NORP MONEY QUANTITY ORDINAL CARDINAL PERCENT LAW EVENT LANGUAGE".split()
)
#: Products, platforms and companies support tickets name, that the 1934 dictionary does not know.
BRANDS = frozenset(
    """xbox playstation nintendo netflix spotify hulu youtube google gmail facebook instagram
    whatsapp telegram signal twitter tiktok snapchat linkedin pinterest reddit amazon alexa kindle
    microsoft outlook hotmail skype teams onedrive sharepoint azure excel powerpoint windows
    android ios macos linux ubuntu debian fedora chrome chromium firefox safari edge opera
    samsung galaxy huawei xiaomi motorola nokia lenovo asus acer dell toshiba sony panasonic
    logitech intel nvidia qualcomm broadcom cisco netgear tplink zoom webex slack trello jira
    confluence zendesk salesforce hubspot shopify stripe paypal venmo zelle visa mastercard amex
    maestro uber lyft airbnb ebay etsy walmart costco ikea adobe photoshop acrobat dropbox github
    gitlab bitbucket docker kubernetes oracle mysql postgres postgresql mongodb redis python java
    javascript typescript wordpress drupal joomla magento bluetooth wifi ethernet usb hdmi siri
    cortana fitbit garmin tesla verizon vodafone comcast xfinity tmobile sprint telefonica orange
    movistar claro dhl fedex ups usps wix squarespace mailchimp twilio okta duo lastpass
    bitwarden norton mcafee kaspersky avast""".split()
)


#: spaCy entity labels that make an unknown word a place rather than a person.
_PLACE_ENTITIES = frozenset({"GPE", "LOC", "FAC"})
#: Parts of speech an unknown capitalised word may carry and still be a name (the small model often
#: calls a foreign name a noun or an adjective: "Stacy is", "the Lyberth novel").
_NAME_POS = frozenset({"PROPN", "NOUN", "ADJ", "X"})
#: Titles and particles a name extends over ("Mrs. Ana Ruiz", "Willemine W ten Pas").
_TITLES = frozenset("mr mrs ms mx dr prof miss sir dame".split())
_PARTICLES = frozenset("van von der den de del della di da du le la ten ter bin ibn al el".split())


#: Common words younger than the 1934 dictionary, capitalised in labels and headings ("-Fax", "Email:").
MODERN_WORDS = frozenset(
    """fax email emails website websites online offline internet app apps blog wifi smartphone laptop
    login logout signup username inbox spam chatbot info ok okay webinar podcast hashtag emoji
    selfie download upload firmware software hardware checkout""".split()
)


class UnknownProperNounRecognizer(AduanaLocalRecognizer):
    """PERSON (LOCATION when spaCy says place): a capitalised word no dictionary knows, in English text.

    A word written in another script than Latin ("ΠΑΦΟΣ bridge") is taken the same way.
    """

    ENTITY = "PERSON"
    ALSO = ("LOCATION",)
    SCORE = 0.5

    def load(self) -> None:
        """Read the dictionary once per process."""
        is_dictionary_word("word")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the unknown proper nouns of ``text``, with the name words around them."""
        doc: Any = getattr(nlp_artifacts, "tokens", None)
        if doc is None or not hasattr(doc, "ents"):
            return []
        spans: list[tuple[int, int, str]] = []
        for tok in doc:
            if _foreign_script(tok.text):
                start, end = tok.i, tok.i + 1
            elif _unknown_proper_noun(tok) or _census_name(doc, tok.i):
                start, end = _extend(doc, tok.i)
            elif _coordinated_name(doc, tok.i):
                start, end = tok.i, tok.i + 1
            else:
                continue
            entity = "LOCATION" if tok.ent_type_ in _PLACE_ENTITIES else self.ENTITY
            span = (doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text), entity)
            if spans and span[0] <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], span[1]), spans[-1][2])
            else:
                spans.append(span)
        if "," in text and " and " in text:
            seeds = {start for start, _, entity in spans if entity == self.ENTITY}
            seeds |= {tok.idx for tok in doc if tok.ent_type_ == "PERSON" and _named(tok)}
            if seeds:
                spans += _listed_with(text, spans, seeds)
        return [
            self.result(start, end, self.SCORE, entity)
            for start, end, entity in spans if entity in entities
        ]


#: A comma list of three or more capitalised words ending in "and": "Kowalczyk, Walker and Reeves".
_LIST = regex.compile(
    r"(?<![\p{L}\p{M}\-])\p{Lu}[\p{L}\p{M}'’\-]+(?:,[ \t]*\p{Lu}[\p{L}\p{M}'’\-]+)+,?[ \t]+(?:and|&)[ \t]+"
    r"\p{Lu}[\p{L}\p{M}'’\-]+(?![\p{L}\p{M}])"
)
_LIST_ITEM = regex.compile(r"\p{Lu}[\p{L}\p{M}'’\-]+")


def _listed_with(text: str, spans: list[tuple[int, int, str]], starts: set[int]) -> list[tuple[int, int, str]]:
    """The other members of a list one of whose members is a name (found here, or spaCy's PERSON that
    is not a common word: ``starts``): "our founders: Kowalczyk, Walker and Reeves".

    Every other member must be able to be a name on its own: a census name (not an everyday word such
    as "Rose") or a word the dictionary does not know; "Bluetooth, Wifi and Alexa" has no found name,
    "Kowalczyk, Sales and Support" has a member that is only a word.
    """
    extra: list[tuple[int, int, str]] = []
    for m in _LIST.finditer(text):
        items = [(i.start() + m.start(), i.end() + m.start()) for i in _LIST_ITEM.finditer(m.group())]
        if not any(start in starts for start, _ in items):
            continue
        others = [(s, e) for s, e in items if s not in starts and not any(a <= s < b for a, b, _ in spans)]
        if others and all(_could_be_a_name(text[s:e]) for s, e in others):
            extra += [(s, e, "PERSON") for s, e in others]
    return extra


def _could_be_a_name(word: str) -> bool:
    key = word.lower()
    if not _cased_like_a_name(word) or key in BRANDS or key in MODERN_WORDS or key in EVERYDAY_NAMES \
            or town_key(word) in countries() or key in _STOP:
        return False
    return key in given_names() or key in surnames() or not _known_word(word, word)


def _foreign_script(word: str) -> bool:
    """A word in another script than Latin ("ΠΑΦΟΣ", "Κασνέτη"): in English text, a name or a place.

    Detection reads the text after look-alike letters were folded to Latin ("ΠΑΦΟΣ" arrives as
    "ΠAΦOΣ"), so one letter of another script among letters is enough.
    """
    if len(word) < 3 or any(c.isdigit() for c in word):
        return False
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 3 and any(ord(c) > 0x24F and not unicodedata.name(c, "").startswith("LATIN")
                                     for c in letters)


def _cased_like_a_name(word: str) -> bool:
    """``Antall``, ``O'Brien``, ``Jean-Luc``, ``McCoy``, Dutch ``IJsselmeer``: a capital, then lower case."""
    if word.startswith("IJ") and word[2:3].islower():  # Dutch writes the digraph IJ as one capital
        word = word[1:]
    if len(word) < 2 or not word[0].isupper() or not word[1:2].islower():
        return False
    return all(c.isalpha() or c in "'’-" for c in word)


def _known_word(word: str, lemma: str) -> bool:
    """Whether the dictionary knows ``word`` or a plain inflection of it ("Users", "Helped", "Stripes")."""
    low = word.lower()
    forms = {low, lemma.lower()}
    for suffix, replacement in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
                                ("ing", "e"), ("'s", ""), ("’s", "")):
        if low.endswith(suffix) and len(low) > len(suffix) + 2:
            stem = low[: -len(suffix)]
            # "-es" makes a plural only after a hiss or an "o" ("boxes", "heroes"): "Boyes" is not "boys"
            if suffix == "es" and not stem.endswith(_ES_STEMS):
                continue
            forms.add(stem + replacement)
    return any(is_dictionary_word(f) for f in forms)


#: Endings after which English writes a plural or a third person in "-es" ("boxes", "wishes", "goes").
_ES_STEMS = ("s", "x", "z", "ch", "sh", "o")


def _unknown_proper_noun(tok: Any) -> bool:
    word = tok.text
    if not _cased_like_a_name(word) or tok.is_stop:
        return False
    if tok.pos_ not in _NAME_POS and not _subject_of_next_verb(tok):
        return False
    if tok.ent_type_ in _NOT_PERSON_ENTITIES and (tok.ent_type_ != "NORP" or is_known_proper(word)):
        return False
    if word.lower() in BRANDS or word.lower() in MODERN_WORDS or _known_word(word, tok.lemma_) \
            or town_key(word) in countries():
        return False
    doc = tok.doc
    if tok.i + 1 < len(doc) and doc[tok.i + 1].like_num:  # "Xbox 360", "Zenfone 9"
        return False
    # A form label ending its line ("Website:", "Personal Info:") is not a name.
    return not (tok.i + 1 < len(doc) and doc[tok.i + 1].text == ":" and _line_end(doc[tok.i + 1]))


def _subject_of_next_verb(tok: Any) -> bool:
    """A sentence's first word the tagger misread (an adverb, a verb) before a verb: "Natasja is very …"."""
    doc = tok.doc
    return (tok.pos_ in ("ADV", "VERB") and (tok.is_sent_start or tok.i == 0)
            and tok.i + 1 < len(doc) and doc[tok.i + 1].pos_ in ("AUX", "VERB"))


#: Given names that are everyday words first ("Rose Gold", "Grant Access", "May Day"): the census
#: lists are never the signal for these.
EVERYDAY_NAMES = frozenset(
    """will may june april august grace faith hope joy rose iris mark bill pat art frank grant
    chase lance guy rich sue don ray gay sunny summer autumn winter spring star golden ruby
    amber crystal pearl jewel penny sterling major noble king royal prince princess queen lady
    baby honey sugar candy cookie angel precious love sage sky river ocean forest coral ivory
    jade violet lily holly hazel olive ginger rusty dusty sandy stormy misty windy""".split()
)


def plain_given_name(key: str) -> bool:
    """Whether lower-cased ``key`` is a census given name that is not an everyday word first."""
    return key in given_names() and key not in EVERYDAY_NAMES


def _census_word(tok: Any) -> bool:
    """A capitalised proper noun that is a census given name or surname, not an everyday word."""
    key = tok.text.lower()
    return (
        tok.pos_ == "PROPN" and _cased_like_a_name(tok.text) and not tok.is_stop
        and (key in given_names() or key in surnames()) and key not in EVERYDAY_NAMES
        and key not in BRANDS and key not in MODERN_WORDS and town_key(tok.text) not in countries()
        and (tok.ent_type_ not in _NOT_PERSON_ENTITIES or (tok.ent_type_ == "NORP" and key in given_names()))
    )


def _census_name(doc: Any, i: int) -> bool:
    """A census name the tagger calls a proper noun, with a second signal when it is also a word.

    "Sean" (which the tagger may call a nationality) and given names the dictionary lists as proper
    nouns ("Heather", "Benjamin") need only the tagger's PROPN, and a verb after them at a sentence
    start ("Heather is"). A name that is also a word ("Sanders", "Booker", "Pinto", "Gold") counts
    only as a given name before a surname or an unknown proper noun, or as the surname after a
    given name ("Zak Sanders", "Wade Booker"; not "Border Force"), outside organisations.
    """
    tok = doc[i]
    if not _census_word(tok):
        return False
    n = len(doc)
    if i + 1 < n and (doc[i + 1].like_num or (doc[i + 1].text == ":" and _line_end(doc[i + 1]))):
        return False
    key = tok.text.lower()
    if not _known_word(tok.text, tok.lemma_) or (key in given_names() and is_known_proper(key)):
        if tok.is_sent_start or i == 0:
            return i + 1 < n and doc[i + 1].pos_ in ("VERB", "AUX")
        return True
    if tok.ent_type_ in ("ORG", "NORP"):
        return False
    # a given name, then a surname: "Zak Sanders", not "Border Force"
    if i + 1 < n and key in given_names() and (_census_word(doc[i + 1]) or _unknown_proper_noun(doc[i + 1])):
        return True
    return i > 0 and doc[i - 1].text.lower() in given_names() and _census_word(doc[i - 1])


def _named(tok: Any) -> bool:
    """A name beyond doubt: an unknown proper noun, or a PERSON of spaCy's that is not a common word."""
    return _unknown_proper_noun(tok) or (tok.ent_type_ == "PERSON" and _cased_like_a_name(tok.text)
                                         and not is_common_not_proper(tok.text))


def _coordinated_name(doc: Any, i: int) -> bool:
    """A capitalised word joined by "and" to a name, the two the subject of a verb ("Caird and Jones were").

    The other word is a name (spaCy's PERSON or an unknown proper noun); this one may be a dictionary
    word ("Barber", "Mason"), even at a sentence start, because a verb after the pair makes both
    people. Not a stop word, a brand, a country, a title or a form label.
    """
    tok = doc[i]
    if not _cased_like_a_name(tok.text) or tok.is_stop or tok.pos_ not in _NAME_POS \
            or tok.text.lower() in BRANDS or tok.text.lower() in MODERN_WORDS or town_key(tok.text) in countries():
        return False
    n = len(doc)
    if i + 3 < n and doc[i + 1].lower_ in ("and", "&") and doc[i + 3].pos_ in ("VERB", "AUX") \
            and (_named(doc[i + 2]) or _census_pair(tok, doc[i + 2])):
        return True
    return (i >= 2 and i + 1 < n and doc[i - 1].lower_ in ("and", "&") and doc[i + 1].pos_ in ("VERB", "AUX")
            and (_named(doc[i - 2]) or _census_pair(doc[i - 2], tok)))


def _census_pair(first: Any, second: Any) -> bool:
    """Two census surnames joined by "and", one of them not an everyday word ("Shaw and Costa were").

    "Black and White were", "Brown and Green were" are colours: each is a word first.
    """
    keys = (first.text.lower(), second.text.lower())
    return (all(_cased_like_a_name(t.text) and t.pos_ == "PROPN" and k in surnames() and k not in EVERYDAY_NAMES
                for t, k in zip((first, second), keys, strict=True))
            and any(not is_common_not_proper(k) for k in keys))


def _line_end(tok: Any) -> bool:
    text = tok.doc.text
    end = text.find("\n", tok.idx)
    return not text[tok.idx + 1:end if end != -1 else len(text)].strip()


def _name_part(tok: Any) -> bool:
    """A word that can be part of a name next to an unknown one ("Daisy", "Ana", but not "Producer")."""
    return (_cased_like_a_name(tok.text) and not tok.is_stop and tok.pos_ in _NAME_POS
            and not is_common_not_proper(tok.text) and tok.ent_type_ not in _NOT_PERSON_ENTITIES
            and tok.text.lower() not in BRANDS and town_key(tok.text) not in countries())


def _initial(tok: Any) -> bool:
    word = tok.text.rstrip(".")
    return len(word) == 1 and word.isupper()


def _extend(doc: Any, i: int) -> tuple[int, int]:
    """The token range of the whole name around token ``i``: titles, initials, particles, other parts."""
    start, end = i, i + 1
    while start > 0:
        prev = doc[start - 1]
        if _name_part(prev) or (start == i and _given_name_word(prev)):
            start -= 1
        elif start > 1 and (_initial(prev) or prev.text in _PARTICLES) and (
                _name_part(doc[start - 2]) or _given_name_word(doc[start - 2])):
            start -= 2
        elif prev.text.lower().rstrip(".") in _TITLES and prev.text[:1].isupper():
            start -= 1
            break
        else:
            break
    while end < len(doc):
        nxt = doc[end]
        if _name_part(nxt) or (_joined(doc[end - 1]) and _cased_like_a_name(nxt.text) and nxt.pos_ == "PROPN"):
            end += 1  # after an initial or a particle any capitalised word is the surname ("W ten Brook")
        elif end - 1 == i and _given_name_word(doc[i]) and _census_word(nxt) and nxt.text.lower() in surnames():
            end += 1  # a given name, then a surname that is also a word: "Miguel Costa"
        elif _joined(nxt) and end + 1 < len(doc) and (
                _cased_like_a_name(doc[end + 1].text) or doc[end + 1].text in _PARTICLES):
            end += 1
        else:
            break
    return start, end


def _given_name_word(tok: Any) -> bool:
    """A capitalised census given name beside a name, even one that is a word ("Amber", "Marina", "Hanna").

    Next to a name found on its own ("Amber Chouno", "Marina L Araujo") the word is the given name;
    stop words ("Will", "May") and brands never are.
    """
    key = tok.text.lower()
    return (_cased_like_a_name(tok.text) and not tok.is_stop and key in given_names() and key not in BRANDS
            and tok.pos_ in _NAME_POS and (tok.ent_type_ not in _NOT_PERSON_ENTITIES or tok.ent_type_ == "NORP"))


def _joined(tok: Any) -> bool:
    return _initial(tok) or tok.text in _PARTICLES
