"""PERSON in lower-cased English text: names the words around them announce, and no dictionary knows.

Lower-cased text ("hi beaufort, said mikayla to nicholas") loses the capital that marks a name, so
:mod:`recognizers_en_person` and :mod:`recognizers_en_proper_noun` see nothing. A lower-case word is
taken for a name only when two things hold together:

- a cue around it that announces a person: reported speech ("said x to y"), a title ("mr. x"), a
  relative ("my kid x"), a possessive before a person's things ("x's address"), a greeting opening
  the message ("hi x,"), a name label ("name: x y", "last name? x"), a credit or a role ("sung by x",
  "tennis player x y", "add x as"), a verb of residence after it ("x y lives at"), or the speaker
  labels of a written dialogue (two lines or more of ``x: sentence``);
- the word is not an English word: not in the dictionary (Webster's list), not a stop word, not one
  of the brands and modern words the proper-noun rule knows. "said hello to", "my kid brother",
  "name: required" stay visible.

The same holds for a town after a verb of living or moving ("arrived at wrocław", "grew up in x",
"university of x"), reported as LOCATION. Two cues need no word: a vocative closing a question
("remember me, derek?") and a text's first line that reads as a name above more lines, lower-case
("leigha mackay") or capitalised ("Wade Booker", "Savannah S. Beet"): name words only (unknown,
census names, initials, particles), one of them surely a name. In a text written wholly in lower
case a census given name the dictionary does not know is a name without a cue ("you can tell
nicole was"). After a cue, a census given name is taken even when it is also a word ("my kid
benjamin"), unless it is an everyday word ("will", "rose"). Once found, the words of a name are found again
wherever they recur in the same text. The words of a name are read outwards from the cue and stop
at the first ordinary word, so
"remove my kid layla from the will" hides "layla" only. A single-letter initial inside a name
("hrvatin j babić") is kept. Registered for both languages, as the address rules are: a
lower-cased English ticket often reads as Spanish to the language vote; the dialogue rule runs on
English text only (a Spanish form label is not an English word either).

Fifth round: more cues (an appositive before speech, "x, the claims adjuster, said"; "x shouted at";
"assistant to x"; "directed by: x"; "gender of x"; "the x novel"; what only a person does, "x began
writing"; "had given x his address"), a census surname after a name word ("letícia martins"), two
words around a middle initial ("sadayo n nakahara", English only), a list of given names, a pair said
to be people ("x and y were engineers"), and a text's head line below empty quoted lines or repeated
under a company line (a letter's recipient block: "Rive Lépicier\nAcme SA\nRive Lépicier\n9 …"),
recurring whole with its initials.
"""

from __future__ import annotations

import unicodedata

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.lang.en.stop_words import STOP_WORDS

from gateway.inspect.lexicon import (
    common_surnames,
    countries,
    given_names,
    is_dictionary_word,
    surnames,
    town_key,
)

from .recognizers_common import AduanaLocalRecognizer
from .recognizers_en_person import _CONTACT_THINGS, _NOT_SPEAKERS, _ORG_WORDS, _PERSON_VERBS
from .recognizers_en_proper_noun import _PARTICLES, BRANDS, MODERN_WORDS, _known_word, plain_given_name

_SP = r"[ \t]+"
_NB = r"(?<![\p{L}\p{M}\d'’\-])"
#: One to three lower-case words (a one-letter initial may sit between two), as a candidate name.
_WORDS = r"\p{Ll}[\p{Ll}\p{M}'’\-]*(?:[ \t]+\p{Ll}[\p{Ll}\p{M}'’\-]*){0,3}"
#: A person's relatives and things: "my kid x", "x's address".
_RELATIVES = (
    r"kid|kids|son|daughter|wife|husband|child|brother|sister|mother|father|mom|mum|dad|partner|"
    r"friend|boyfriend|girlfriend|baby|nephew|niece|cousin|grandson|granddaughter|fiancée?|spouse"
)
_THINGS = (
    _RELATIVES + r"|address|phone|number|e-?mail|account|card|birthday|family|house|home|flat|"
    r"apartment|car|doctor|lawyer|passport|licen[cs]e|signature|parents?|song|novel|book|album|band|music"
)
_ROLES = (
    r"player|singer|actor|actress|author|writer|artist|teacher|patient|client|customer|colleague|"
    r"employee|manager|doctor|nurse|lawyer|agent|driver|neighbou?r|tenant|landlord|student|coach|"
    r"commenter|reader|viewer|subscriber"
)
_SPEECH = r"(?:said|says|shouted|yelled|asked|replied|told|whispered|cried|answered|screamed)"
#: Cues before a name (any case): the name is read forwards from the cue.
_CUES_BEFORE = (
    _SPEECH + r"(?:" + _SP + r"(?:to|at))?",
    _SPEECH + _SP + r"\p{L}+" + _SP + r"(?:to|at)",                  # "said mikayla to nicholas"
    r"(?:mr|mrs|ms|mx|dr|miss|prof)\.?",
    r"(?:my|our|his|her|their|your)" + _SP + r"(?:" + _RELATIVES + r")",
    r"(?<=\A[ \t]*)(?:hi|hello|hey|dear)",
    r"(?<=(?:\A|\n)[ \t]*)(?:full" + _SP + r")?name[ \t]*:",
    r"(?:last|first|full|middle|maiden|sur|given|family)[ \t]?name[ \t]*(?:\?|:|is|was)",
    r"my" + _SP + r"name" + _SP + r"is|(?:call|calls|called)" + _SP + r"me",
    r"(?:sung|written|directed|composed|performed|produced|painted|narrated|arranged)" + _SP + r"by(?:[ \t]*:)?",
    r"(?:assistant|secretary|deputy|successor|heir)" + _SP + r"to|gender" + _SP + r"of|\(also" + _SP + r"features",
    r"(?:" + _ROLES + r")",
    r"(?:add|added|adding)",
    r"follow(?:s|ed|ing)?" + _SP + r"up" + _SP + r"with|(?:speak|spoke|talk|talked)" + _SP + r"(?:to|with)|"
    r"(?:it['’]s|it" + _SP + r"is|it" + _SP + r"was)" + _SP + r"under",
    r"named" + _SP + r"(?:him|her|them)|(?:was|were|is)" + _SP + r"called|tribute" + _SP + r"to|"
    r"(?:have|has|had)" + _SP + r"(?:you" + _SP + r")?heard|\(not" + _SP + r"by|what['’]?s" + _SP + r"your"
    + _SP + r"name\??|name" + _SP + r"on" + _SP + r"the" + _SP + r"account\??(?:[ \t]*\p{L}+:)?|"
    r"(?:change|changed|correct|update)(?<=name[^.!?\n]{0,70})(?:" + _SP + r"it)?" + _SP + r"to",
)
#: "had given x his address": the name between the verb and the details (read forwards).
_GIVEN = regex.compile(
    _NB + r"(?i:had" + _SP + r"given|has" + _SP + r"given|gave|sent|passed)[ \t]+(?P<name>" + _WORDS + r")(?="
    + _SP + r"(?i:his|her|their|my|your|our)" + _SP + r"(?i:" + _CONTACT_THINGS + r")(?![\p{L}]))"
)
# One scan for every cue but "said x to y" (its second name would be inside the first's match).
_BEFORE = (
    regex.compile(_NB + r"(?i:" + "|".join(c for i, c in enumerate(_CUES_BEFORE) if i != 1)
                  + r")(?![\p{L}\p{M}])[ \t]*(?P<name>" + _WORDS + r")"),
    regex.compile(_NB + r"(?i:" + _CUES_BEFORE[1] + r")(?![\p{L}\p{M}])[ \t]*(?P<name>" + _WORDS + r")"),
)
#: A vocative closing a question or exclamation ("remember me, derek?").
_VOCATIVE = regex.compile(r"(?<=,[ \t])\p{Ll}[\p{Ll}\p{M}'’\-]+(?=[ \t]*[!?])")
#: A quoting prefix ("> ", "}} ", "| ") and the empty quoted lines above a text's first line.
_HEAD_PREFIX = r"\A(?:[ \t?>}|]*\r?\n)*[ \t?>}|]*"
#: A contact card's first line: two or three lower-case words (a one-letter initial between two),
#: then more lines ("leigha mackay\n\n…", "fortun o querry\n…").
_CARD_HEAD = regex.compile(
    _HEAD_PREFIX + r"(\p{Ll}[\p{Ll}\p{M}'’\-]+(?:[ ]\p{Ll}\.?)?(?:[ ]\p{Ll}[\p{Ll}\p{M}'’\-]+){1,2})[ \t]*\r?\n"
)
#: One capitalised name word: "Ruiz", "McCray", "O'Neill", "Jean-Luc".
_CAP_WORD = r"\p{Lu}(?:['’]\p{Lu})?[\p{Ll}\p{M}'’\-]+(?:\p{Lu}[\p{Ll}\p{M}]+)?"
#: A text's first line of two to four capitalised words (initials inside), more lines after it: the
#: name heading a signature, a contact card or a recipient block ("Ana K. Ruiz\nAcme Ltd\n…").
_NAME_HEAD = regex.compile(
    _HEAD_PREFIX + r"(" + _CAP_WORD + r"(?:[ ](?:\p{Lu}\.?|\p{Ll}{1,3}|" + _CAP_WORD + r")){1,3})"
    r"[ \t]*\r?\n\s*\S"
)
#: Verbs of living and moving before a town: "arrived at wrocław", "grew up in x", "university of x".
_TOWN = regex.compile(
    _NB + r"(?i:arrived" + _SP + r"(?:at|in)|flew" + _SP + r"to|flying" + _SP + r"to|grew" + _SP + r"up" + _SP
    + r"in|moved" + _SP + r"(?:here" + _SP + r")?(?:from|to)|born" + _SP + r"in|(?:lives|lived|living)" + _SP
    + r"in|university" + _SP + r"of|travel(?:l)?ed" + _SP + r"to|returned" + _SP + r"to|based" + _SP
    + r"in)[ \t]+(?P<name>"
    + _WORDS + r")"
)
#: Cues after a name: found first, then the name is read backwards from the cue.
_AFTER_CUE = regex.compile(
    r"(?i:" + _SP + r"(?:lives|lived|resides|resided|was" + _SP + r"born|is" + _SP + r"from|comes" + _SP
    + r"from|grew" + _SP + r"up|moved" + _SP + r"to|had" + _SP + r"given|gave)|['’]s" + _SP + r"(?:" + _THINGS
    + r")|" + _SP + r"(?:novel|novels|song|songs|album|albums|biography|memoir)(?<=\bthe[ \t]+\p{L}+[ \t]+\p{L}+)"
    + r"|" + _SP + r"(?:" + _PERSON_VERBS + r")"
    + r"|" + _SP + _SPEECH + r"|,[ \t]+the[ \t]+[\p{Ll}\-]+(?:[ \t]+[\p{Ll}\-]+){0,4},[ \t]+" + _SPEECH
    + r")(?![\p{L}])"
)
_BEFORE_CUE = regex.compile(_NB + r"(?:" + _WORDS + r")\Z")
_SPEAKER = regex.compile(
    r"(?m)^[ \t]*(?P<name>\p{Ll}[\p{Ll}\p{M}'’\-]{1,30}):(?:[ \t]+[\"“]?|[\"“])\p{L}[^\n]*\p{L}"
)


def _ordinary(word: str) -> bool:
    """Whether ``word`` is an English word, a stop word, a brand or a modern word: not a name."""
    low = word.lower().strip(".,;:!?\"”'’-")
    low = regex.sub(r"['’](?:s|re|ll|ve|d|m|t)\Z", "", low)
    return (
        len(low) < 2 or any(c.isupper() or c.isdigit() for c in word) or _known(low)
        or ("-" in low and all(_known(p) for p in low.split("-") if p))
    )


_LOWER_WORD = regex.compile(r"(?<![\p{L}\p{M}\d'’\-])\p{Ll}[\p{Ll}\p{M}'’\-]+(?![\p{L}\p{M}\d])")
#: Month, day and continent names some census given names share ("april", "america").
_CALENDAR = frozenset("january february march april may june july august september october november december "
                      "monday tuesday wednesday thursday friday saturday sunday america asia africa europe "
                      "oceania antarctica".split())


def _lower_case_given_names(text: str) -> list[tuple[int, int]]:
    """Given names of the census lists in a text written wholly in lower case ("you can tell nicole was").

    Only a given name the dictionary does not know counts ("nicole", not "will" or "brad"), never a
    country, a continent, a month or a brand; an unknown word or a census surname right after it joins it
    ("nicole mahler").
    """
    spans: list[tuple[int, int]] = []
    words = list(_LOWER_WORD.finditer(text))
    for i, m in enumerate(words):
        word = m.group()
        if word not in given_names() or word in STOP_WORDS or word in _CALENDAR or town_key(word) in countries():
            continue
        end = m.end()
        if i + 1 < len(words):
            nxt = words[i + 1]
            if text[end:nxt.start()] == " " and not _ordinary(nxt.group()) and nxt.group() not in _CALENDAR:
                end = nxt.end()
        # a given name that is also a word ("laura", "jasmine") only before an unknown word ("laura uenk")
        if _ordinary(word) and (end == m.end() or not plain_given_name(word)):
            continue
        spans.append((m.start(), end))
    return spans


#: Words opening a letter's first line that are not a name, in the languages the rule runs for.
_GREETINGS = frozenset("dear hi hello hey estimado estimada estimados querido querida hola buenos buenas".split())


def _repeated_below(text: str, head: regex.Match[str]) -> bool:
    """Whether the head line comes again, alone on a line, within the next three lines.

    A letter's recipient block repeats the addressee under the company ("Ana Ruiz\nAcme Ltd\nAna Ruiz\n9 …").
    """
    below = text[head.end(1):].split("\n", 4)[1:4]
    name = head.group(1)
    return any(line.strip(" \t?>}|\r") == name for line in below)


def _head_is_a_name(words: list[str], repeated: bool = False, spanish: bool = False) -> bool:
    """Whether a text's first line reads as a name: name words only, and one that is surely a name.

    Each word is unknown to the dictionary, a census name, an initial or a particle; and at least one
    is unknown, or the line is a given name and a surname ("Wade Booker", "coral barajas"; not
    "Order Confirmation", "Rose Gold", "Best Regards"). A middle initial after a given name is
    enough whatever the surname ("Savannah S. Beet"; not "Section A Overview"). A line the block
    repeats below (``repeated``) needs only one word that is surely a name ("Rive Lépicier"), no stop word.
    In Spanish text (``spanish``) a word the English dictionary lacks says nothing ("Pedido Urgente",
    "Factura Pendiente" are subject lines): unless the line repeats below, every word must then be a
    census name.
    """
    keys = [w.lower().rstrip(".") for w in words]
    if spanish:  # the census lists are written without accents ("María José García")
        keys = [unicodedata.normalize("NFKD", k).encode("ascii", "ignore").decode() for k in keys]
    names = [k for k in keys if len(k) > 1 and k not in _PARTICLES]
    if len(names) < 2 or any(k in _ORG_WORDS for k in keys) or keys[0] in _GREETINGS:
        return False
    unknown = [not (spanish and not repeated) and not _ordinary(k) for k in names]
    if repeated and not any(k in STOP_WORDS for k in names) and any(
            u or plain_given_name(k) for u, k in zip(unknown, names, strict=True)):
        return True
    if len(names) < len(keys) and any(len(k) == 1 for k in keys[1:-1]) and (
            unknown[0] or (plain_given_name(names[0]))) \
            and not any(k in STOP_WORDS for k in names):
        return True  # a given name, a middle initial, a surname: "Savannah S. Beet"
    census = [k in given_names() or k in surnames() for k in names]
    if not all(u or c for u, c in zip(unknown, census, strict=True)):
        return False
    return any(unknown) or (plain_given_name(names[0])
                            and names[-1] in surnames())


def _known(low: str) -> bool:
    return low in STOP_WORDS or low in BRANDS or low in MODERN_WORDS or _known_word(low, low)


def _name_words(text: str, start: int, end: int, forwards: bool) -> tuple[int, int] | None:
    """The span of the name in ``text[start:end]``, read from the cue's side; None when there is none."""
    words = [(m.start() + start, m.end() + start) for m in regex.finditer(r"\S+", text[start:end])]
    if not forwards:
        words.reverse()
    kept: list[tuple[int, int]] = []
    for i, (s, e) in enumerate(words):
        word = text[s:e]
        initial = len(word.rstrip(".")) == 1 and kept and i + 1 < len(words)
        # the cue is the second signal a given name that is also a word needs ("my kid benjamin")
        given = (forwards and not kept and plain_given_name(word)
                 and word not in STOP_WORDS and len(word) > 2)
        # after a given name or an unknown word, a surname that is also a word ("letícia martins")
        last = text[kept[-1][0]:kept[-1][1]] if kept else ""
        surname = (forwards and bool(kept) and word in common_surnames() and word not in STOP_WORDS
                   and word not in _CALENDAR and (not _ordinary(last) or plain_given_name(last)))
        if initial or given or surname or not _ordinary(word):
            kept.append((s, e))
        else:
            break
    while kept and len(text[kept[-1][0]:kept[-1][1]].rstrip(".")) == 1:
        kept.pop()
    if not kept:
        return None
    return min(s for s, _ in kept), max(e for _, e in kept)


#: Two lower-case words joined by "and" opening a sentence, then a verb: "eriksson and waller were".
_PAIR = regex.compile(
    r"(?:(?<=\A)|(?<=[.!?][ \t]+))(\p{Ll}[\p{Ll}\p{M}'’\-]+)[ \t]+and[ \t]+(\p{Ll}[\p{Ll}\p{M}'’\-]+)"
    r"(?=[ \t]+(?:were|are)(?:[ \t]+\p{Ll}+){0,2}?[ \t]+(?:\p{Ll}+(?:ers|ors|ists|ians|ants|ents)|friends|"
    r"partners|brothers|sisters|colleagues|cousins|twins|neighbou?rs|people|men|women|married)(?![\p{L}]))"
)


#: Two lower-case words around a one-letter initial that is not an English word or sign ("a", "i", "x"),
#: all on one line: "sadayo n nakahara from …", "hrvatin j babić".
_AROUND_INITIAL = regex.compile(
    r"(?<![\p{L}\p{M}\d'’\-])(\p{Ll}[\p{Ll}\p{M}'’\-]+)[ \t]+[b-hj-wyz]\.?[ \t]+(\p{Ll}[\p{Ll}\p{M}'’\-]+)"
    r"(?![\p{L}\p{M}\d])"
)


def _around_an_initial(text: str) -> list[tuple[int, int]]:
    """A lower-case given name, middle initial and surname: both words unknown, or one unknown and the
    other a census name ("sadayo n nakahara"; not "plan b option", "vitamin c tablets", "type c cable")."""
    spans: list[tuple[int, int]] = []
    for m in _AROUND_INITIAL.finditer(text):
        first, last = m.group(1), m.group(2)
        unknown = [not _ordinary(first), not _ordinary(last)]
        census = [first in given_names(), last in surnames()]
        if any(unknown) and all(u or c for u, c in zip(unknown, census, strict=True)) \
                and first not in STOP_WORDS and last not in STOP_WORDS:
            spans.append(m.span())
    return spans


#: A comma list of three or more lower-case words ending in "and": "nikolaj, angela, bobby and amy".
_LOWER_LIST = regex.compile(
    r"(?<![\p{L}\p{M}\-])\p{Ll}[\p{Ll}\p{M}'’\-]+(?:,[ \t]*\p{Ll}[\p{Ll}\p{M}'’\-]+)+,?[ \t]+and[ \t]+"
    r"\p{Ll}[\p{Ll}\p{M}'’\-]+(?![\p{L}\p{M}])"
)


def _listed_names(text: str) -> list[tuple[int, int]]:
    """A list of given names ("they had 6: nikolaj, angela, bobby, mario and amy"): every member a census
    given name that is not an everyday word, or a word the dictionary does not know, and two at least
    given names ("amber, ruby and jade", "python, java and rust" are not people)."""
    spans: list[tuple[int, int]] = []
    for m in _LOWER_LIST.finditer(text):
        items = [(i.start() + m.start(), i.end() + m.start())
                 for i in regex.finditer(r"\p{Ll}[\p{Ll}\p{M}'’\-]+", m.group()) if i.group() != "and"]
        words = [text[s:e] for s, e in items]
        given = [plain_given_name(w) and w not in STOP_WORDS for w in words]
        if sum(given) >= 2 and all(g or not _ordinary(w) for g, w in zip(given, words, strict=True)):
            spans += items
    return spans


def _subject_pairs(text: str) -> list[tuple[int, int]]:
    """Both words of a pair opening a sentence, said to be people, one unknown and the other unknown or a
    surname ("eriksson and waller were precision engineers"; not "sales and marketing were merged",
    "kubectl and helm were updated")."""
    spans: list[tuple[int, int]] = []
    for m in _PAIR.finditer(text):
        first, second = m.group(1), m.group(2)
        unknown = [not _ordinary(first), not _ordinary(second)]
        surname = [first in surnames() and first not in STOP_WORDS, second in surnames() and second not in STOP_WORDS]
        if any(unknown) and all(u or n for u, n in zip(unknown, surname, strict=True)):
            spans += [m.span(1), m.span(2)]
    return spans


def _recurrences(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Where the words of the names found recur in ``text`` ("sung by hiroto nakamiya … that nakamiya was")."""
    words = {w for s, e in spans for w in text[s:e].split() if len(w.rstrip(".")) > 2}
    # a whole name recurs with its initials ("jarmila m chloupková" twice in a recipient block)
    words |= {text[s:e] for s, e in spans if regex.search(r"[ \t]\p{L}\.?[ \t]", text[s:e])}
    if not words:
        return []
    alternatives = "|".join(regex.escape(w) for w in sorted(words, key=len, reverse=True))
    return [(m.start(), m.end()) for m in regex.finditer(
        r"(?<![\p{L}\p{M}\d'’\-])(?:" + alternatives + r")(?![\p{L}\p{M}\d\-])", text)
        if not any(s <= m.start() and m.end() <= e for s, e in spans)]


class LowerCaseNameRecognizer(AduanaLocalRecognizer):
    """PERSON: a lower-case word no dictionary knows, where a cue announces a person (LOCATION: a town)."""

    ENTITY = "PERSON"
    ALSO = ("LOCATION",)
    SCORE = 0.55

    def load(self) -> None:
        """Read the dictionary once per process."""
        is_dictionary_word("word")

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the lower-case names of ``text`` that a cue announces."""
        spans: list[tuple[int, int]] = []
        for pattern in (*_BEFORE, _GIVEN):
            for m in pattern.finditer(text):
                span = _name_words(text, m.start("name"), m.end("name"), forwards=True)
                if span:
                    spans.append(span)
        for cue in _AFTER_CUE.finditer(text):
            m = _BEFORE_CUE.search(text, max(0, cue.start() - 80), cue.start())
            if m:
                span = _name_words(text, m.start(), m.end(), forwards=False)
                if span:
                    spans.append(span)
        if ":" in text and self.supported_language == "en":  # Spanish form labels are not English words
            speakers = [m for m in _SPEAKER.finditer(text)
                        if m.group("name") not in _NOT_SPEAKERS
                        and (not _ordinary(m.group("name")) or plain_given_name(m.group("name")))]
            if len(speakers) >= 2:
                spans += [(m.start("name"), m.end("name")) for m in speakers]
        if "?" in text or "!" in text:
            spans += [(m.start(), m.end()) for m in _VOCATIVE.finditer(text) if not _ordinary(m.group())]
        if " and " in text:
            spans += _subject_pairs(text)
            if "," in text:
                spans += _listed_names(text)
        head = _CARD_HEAD.match(text) or _NAME_HEAD.match(text)
        if head and _head_is_a_name(head.group(1).split(), _repeated_below(text, head),
                                    spanish=self.supported_language == "es"):
            spans.append(head.span(1))
        if self.supported_language == "en":
            if text.islower():
                spans += _lower_case_given_names(text)
            spans += _around_an_initial(text)
        # "vujčič's cautionary tales": the name, not its possessive ending, and found again without it
        spans = [(s, e - 2) if text.endswith(("'s", "’s"), s, e) and e - s > 4 else (s, e) for s, e in spans]
        spans += _recurrences(text, spans)
        found = [(start, end, self.ENTITY) for start, end in sorted(set(spans))]
        for m in _TOWN.finditer(text):
            span = _name_words(text, m.start("name"), m.end("name"), forwards=True)
            if span:
                found.append((*span, "LOCATION"))
        return [
            self.result(start, end, self.SCORE, entity)
            for start, end, entity in found if entity in entities
        ]
