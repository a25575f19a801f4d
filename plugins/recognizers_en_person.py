"""PERSON in English text: names announced by the words around them, beyond greetings and signatures.

Registered by :mod:`recognizers_hipaa` (Safe Harbor identifier A: names).
:class:`~recognizers_es_text.PersonContextRecognizer` covers introductions, titles, form labels,
greetings and signatures in both languages; the small English spaCy model adds names it knows. What
both miss are names marked by a verb or a role rather than by a title: reported speech ("said Ana to
Luis"), credits ("directed by"), residence ("Ana Ruiz lives at"), follow-ups ("follow up with Ana
Ruiz"), possessives before a person's things ("Ana's address"), vocatives opening a message, speaker
labels of a dialogue, and names typed in lower case after "my name is". The surrounding words are in
each regex (a look-behind or look-ahead), so the span is the bare name and nothing depends on the NLP
engine's lemmas. Names must be capitalised except right after "my name is" / "call me".

Fifth round: a name before what only a person does ("began writing", "will be talking", "is very
reliable"), given someone's contact details ("had given X his address"), after a title typed in lower
case ("ms. Florence"), before a credited work ("Hall's song",
"the Sanders novel") and after "gender of"; a bracketed credit "(also features X".
"""

from __future__ import annotations

from typing import ClassVar

import regex
from presidio_analyzer import Pattern, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts
from spacy.lang.en.stop_words import STOP_WORDS

from gateway.inspect.lexicon import (
    given_names,
    is_common_not_proper,
    is_dictionary_word,
    is_known_proper,
    name_start,
    surnames,
)

from .recognizers_common import AduanaLocalRecognizer, AduanaPatternRecognizer
from .recognizers_en_address import LINE_PREFIX
from .recognizers_en_proper_noun import BRANDS, _known_word, plain_given_name
from .recognizers_es_text import _INITIAL, _PARTICLE, _WORD, NAME

_SP = r"[ \t]"
_NB = r"(?<![\p{L}])"
# A name that is not announced by a look-behind starts a word: this keeps the regex from retrying at
# every letter of a long capitalised run.
_WORD_START = r"(?<![\p{L}\p{M}\d'’\-])"
#: Two to five words: a lone capitalised word after "follow up with" is as often a team as a person.
_FULL_NAME = rf"{_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+|{_INITIAL}|(?-i:d)['’])?{_WORD}){{1,4}}"
#: Words that make a capitalised run a company or a team, not a person ("Acme Ltd's address").
_ORG_WORDS = frozenset(
    "inc ltd llc llp plc corp co gmbh ag sa bank group team support service services department "
    "company holdings trust fund foods pharma products systems solutions premium plan".split()
)
#: Lower-case words after "my name is" that are not a name ("my name is not on the list").
_NOT_LOWER_NAMES = (
    r"not|on|in|the|a|an|wrong|missing|spelled|spelt|misspelled|incorrect|listed|still|also|"
    r"different|and|is|was|but|under|as|written|correct|shown|changed|now|already|there|here|"
    r"just|only|from|at|for|with|to|of|my|your|our|same"
)
_LOWER_NAME = (
    rf"(?!(?:{_NOT_LOWER_NAMES})(?![\p{{L}}]))(?-i:\p{{Ll}}[\p{{Ll}}'’\-]+)"
    rf"(?:{_SP}+(?!(?:{_NOT_LOWER_NAMES})(?![\p{{L}}]))(?-i:\p{{Ll}}[\p{{Ll}}'’\-]+))?"
    rf"(?=[ \t]*(?:[.,;:!?)]|\r?\n|\Z|{_SP}(?i:and|but|i|from)(?![\p{{L}}])))"
)
_TITLE = r"(?-i:Mr|Mrs|Ms|Mx|Dr|Prof|Sr|Sra)\."
_SINGLE = rf"(?!(?:{_NOT_LOWER_NAMES})(?![\p{{L}}]))(?-i:\p{{Lu}}\p{{Ll}}+)(?![\p{{L}}\-])"
#: A lower-case first and last name alone on a line (lower-cased text): exactly two or three words.
_LOWER_FULL = r"(?-i:\p{Ll}{2,}(?:[ ]\p{Ll}{2,}){1,2})(?=[ \t]*\r?\n)"
_PERSONAL_THINGS = (
    r"address|phone|number|e-?mail|account|card|birthday|wife|husband|son|daughter|mother|father|"
    r"mom|mum|dad|kids?|child|children|baby|brother|sister|family|partner|boyfriend|girlfriend|"
    r"friend|house|home|flat|apartment|car|doctor|lawyer|passport|licen[cs]e|signature|parents?|"
    r"song|songs|novel|novels|poem|poems|memoir|biography"
)


#: What one gives a person: "had given Aa+ his address".
_CONTACT_THINGS = r"address|phone|number|e-?mail|details|contact|card"
#: What a sentence's subject does when it is a person: "Aa+ began writing", "Aa+ will be talking".
_PERSON_VERBS = (
    r"began{_SP}+writing|started{_SP}+writing|will{_SP}+be{_SP}+(?:talking|speaking|presenting)|"
    r"is{_SP}+the{_SP}+keynote{_SP}+speaker|spent{_SP}+(?:a|one|two|three|several){_SP}+years?{_SP}+(?:at|as|in|with)|"
    r"was{_SP}+influenced{_SP}+by|listed{_SP}+(?:his|her|their){_SP}+(?:top|favou?rite)|"
    r"is{_SP}+(?:a{_SP}+)?very{_SP}+(?:reliable|kind|patient|friendly|honest|nice|"
    r"helpful|polite|rude|impulsive|talented)(?:{_SP}+(?:person|man|woman|guy|girl|boy))?"
).replace("{_SP}", _SP)
#: Cues that announce a name less surely than "said" or "directed by": "it's under X", "my son X".
_WEAK_CUES = "a name given, asked for or credited"


def _surely_a_name(span: str) -> bool:
    """After a weak cue: a word the dictionary does not know, or a given name that is not everyday.

    A surname that is also a word ("Review", "Price") is not enough there: "it's under Review".
    """
    words = [w.strip(".,").lower() for w in span.split()]
    return any(len(w) > 1 and (plain_given_name(w) or not is_dictionary_word(w))
               for w in words)


class EnglishPersonContextRecognizer(AduanaPatternRecognizer):
    """PERSON: names marked by reported speech, credits, residence, follow-ups and possessives."""

    ENTITY = "PERSON"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "credits (directed by, starring)",
            rf"(?<={_NB}(?i:(?:directed|written|produced|composed|performed|sung|painted|narrated|"
            rf"illustrated|created|hosted)\s+by|starring|featuring)[ \t]*:?[ \t]*)" + NAME,
            0.6,
        ),
        Pattern(
            "reported speech (said X, shouted at X)",
            rf"(?<={_NB}(?i:said|says|shouted|yelled|asked|replied|told|whispered|cried|answered|"
            rf"screamed|wrote)(?:{_SP}+(?i:at|to))?{_SP}+(?:{NAME}{_SP}+(?i:to|at){_SP}+)?)"
            + NAME + r"(?=[ \t]*(?:[.,:;!?\"”]|\r?\n|\Z)|\s+(?i:and|to)\b)",
            0.55,
        ),
        Pattern(
            "speaker before reported speech",
            r"(?:(?<=\A|\n|[.!?\"”][ \t]|,[ \t]))" + NAME
            + rf"(?={_SP}+(?i:said|shouted|yelled|asked|replied|whispered|cried|answered|screamed)"
            rf"(?![\p{{L}}]))",
            0.55,
        ),
        Pattern(
            "what someone is called",
            rf"(?<={_NB}(?i:call(?:s|ed)?{_SP}+me|known{_SP}+as|goes{_SP}+by)[ \t]+)" + NAME,
            0.6,
        ),
        Pattern(
            "lower-case name after 'my name is'",
            rf"(?<={_NB}(?i:my{_SP}+name{_SP}+is|my{_SP}+name's|call{_SP}+me)[ \t]+)"
            + _LOWER_NAME,
            0.55,
        ),
        Pattern(
            "name asked for",
            rf"(?<={_NB}(?i:(?:last|first|full|middle|maiden|sur|given|family)[ \t]?name)"
            rf"[ \t]*(?:\?|:|is|was)?[ \t]*)" + NAME,
            0.6,
        ),
        Pattern(
            "full name after follow up with, speak to, add",
            rf"(?<={_NB}(?i:follow(?:s|ed|ing)?{_SP}+up{_SP}+with|speak(?:ing)?{_SP}+(?:to|with)|"
            rf"spoke{_SP}+(?:to|with)|talk(?:ed|ing)?{_SP}+(?:to|with)|ask(?:ed)?{_SP}+for|"
            rf"reach(?:ed)?{_SP}+out{_SP}+to|meet(?:ing)?{_SP}+with|met{_SP}+with|add|added|"
            rf"player|singer|actor|actress|author|writer|artist|patient|client|customer|member|"
            rf"colleague|employee|user|detained|arrested|hired|introducing|meet)[ \t]+)" + _FULL_NAME,
            0.55,
        ),
        Pattern(
            _WEAK_CUES,
            r"(?-i:(?=\p{Lu}))" + rf"(?<={_NB}(?i:named{_SP}+(?:him|her|them|it)|(?:was|were|is|be|being){_SP}+called|"
            rf"tribute{_SP}+to|(?:have|has|had){_SP}+(?:you{_SP}+)?heard|\(not{_SP}+by|\(also{_SP}+features|"
            rf"what['’]?s{_SP}+your{_SP}+name\??|\p{{L}}+['’]s{_SP}+name|it(?:['’]s|{_SP}+is|{_SP}+was){_SP}+under|"
            rf"(?:my|our|his|her|their){_SP}+(?:kid|son|daughter|wife|husband|child|brother|sister|partner|"
            rf"nephew|niece|cousin|grandson|granddaughter)|name{_SP}+on{_SP}+the{_SP}+account\??(?:{_SP}*\p{{L}}+:)?|"
            rf"name[^.!?\n]{{0,60}}(?:change|changed|correct|update)(?:{_SP}+it)?{_SP}+to)[ \t]+)" + NAME
            + r"(?=[ \t]*(?:[.,;:!?)\"”]|\r?\n|\Z)|[ \t]+(?-i:\p{Ll}))",
            0.55,
        ),
        Pattern(
            "added as a beneficiary or user",
            rf"(?<={_NB}(?i:add|added|adding|include|list)[ \t]+)" + NAME
            + rf"(?={_SP}+(?i:as|to){_SP}+(?i:a|an|my|the|joint)(?![\p{{L}}]))",
            0.6,
        ),
        Pattern(
            "name before a verb of residence",
            _WORD_START + NAME + rf"(?={_SP}+(?i:lives|lived|resides|resided|was{_SP}+born|is{_SP}+from|comes{_SP}+"
            rf"from|grew{_SP}+up|moved{_SP}+to|had{_SP}+given|gave)(?![\p{{L}}]))",
            0.55,
        ),
        Pattern(
            "name before what only a person does",
            _WORD_START + NAME + rf"(?={_SP}+(?i:{_PERSON_VERBS})(?![\p{{L}}]))",
            0.55,
        ),
        Pattern(
            "name given someone's contact details",
            rf"(?<={_NB}(?i:had{_SP}+given|has{_SP}+given|gave|sent|passed)[ \t]+)" + NAME
            + rf"(?={_SP}+(?i:his|her|their|my|your|our){_SP}+(?i:{_CONTACT_THINGS})(?![\p{{L}}]))",
            0.55,
        ),
        Pattern(
            "possessive before a person's things",
            _WORD_START + NAME + rf"(?=['’]s{_SP}+(?i:{_PERSONAL_THINGS})(?![\p{{L}}]))",
            0.55,
        ),
        Pattern(
            "vocative opening a message",
            r"(?<=\A[ \t]*)" + NAME
            + rf"(?=,{_SP}+(?i:can|could|would|will|please|are|do|did|have|is|i|we)(?![\p{{L}}]))",
            0.55,
        ),
        Pattern(
            "vocative closing an exclamation or question",
            r"(?<=,[ \t])" + _SINGLE + r"(?=[ \t]*[!?])",
            0.55,
        ),
        Pattern(
            "recipient line above a postal address",
            r"(?<=(?:\A|\n)" + LINE_PREFIX + r"(?:(?i:[\p{L} ]{0,20}address)[ \t]*:[ \t]*)?)"
            + rf"(?:{NAME}|{_LOWER_FULL})"
            + r"(?=[ \t]*\r?\n(?:" + LINE_PREFIX + r"[^\d\n]{2,60}\r?\n){0,2}(?:" + LINE_PREFIX + r"\r?\n)?"
            + LINE_PREFIX + r"\d{1,6}[ \t]+\p{L})",
            0.6,
        ),
        Pattern("a title repeated", rf"(?<={_NB}{_TITLE}[ \t]+){_TITLE}[ \t]+" + NAME, 0.6),
        Pattern(
            "a capitalised name after a title typed in lower case",
            rf"(?<={_NB}(?-i:mr|mrs|ms|mx|dr|miss)\.?[ \t]+)" + NAME,
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["name", "said", "called", "directed"]

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """Drop runs naming a company or team ("Acme Ltd", "Premium Support") or made of plain words.

        A run of common words none of which is a census name ("Express Shipping") is a product or a
        heading, whatever cue stands before it; so is a brand, alone or with plain words ("Zendesk is very helpful").
        """
        words = [w.strip(".,") for w in pattern_text.split()]
        if any(w.lower() in _ORG_WORDS for w in words):
            return True
        # a product or service, alone or with plain words: "Zendesk is very helpful"
        return all(w.lower() in BRANDS or (is_common_not_proper(w) and w.lower() not in given_names()
                                           and w.lower() not in surnames())
                   for w in words if w)

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Match, then drop a sentence's first word that is capitalised only because it starts it.

        Every pattern here is a cue, so a given name opening the sentence ("Jasmine shouted at …")
        is kept although the dictionary knows it in lower case.
        """
        kept = self._capitalised_after_cue(text) if "PERSON" in entities else []
        for result in super().analyze(text, entities, nlp_artifacts, regex_flags):
            explanation = result.analysis_explanation
            if explanation is not None and explanation.pattern_name == _WEAK_CUES \
                    and not _surely_a_name(text[result.start:result.end]):
                continue
            start = name_start(text, result.start, result.end, announced=True)
            if start is not None:
                result.start = start
                kept.append(result)
        return kept


    def _capitalised_after_cue(self, text: str) -> list[RecognizerResult]:
        """A capitalised word inside a sentence where only a name is capitalised: before a work credited
        to someone ("the Sanders novel") or after "gender of" ("the true gender of Miro").

        Never a stop word, a company word or a brand. Before a work the word must be a census name or
        unknown to the dictionary, and not a proper noun it lists ("the Christmas album", "the Victorian
        novel" stay visible); after "gender of", any but a plain word ("Things").
        """
        found = []
        for pattern, work in ((_BEFORE_WORK, True), (_AFTER_GENDER, False)):
            for m in pattern.finditer(text):
                key = m.group().lower()
                if key in _STOP or key in _ORG_WORDS or key in BRANDS:
                    continue
                name = key in surnames() or plain_given_name(key) or not _known_word(key, key)
                if (work and (is_known_proper(key) or not name)) or not (name or is_known_proper(key)):
                    continue
                found.append(RecognizerResult(
                    self.ENTITY, m.start(), m.end(), 0.55,
                    recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return found


_CAPITALISED = r"(?-i:\p{Lu}\p{Ll}+)(?![\p{L}\p{M}\-'’])"
_BEFORE_WORK = regex.compile(
    rf"(?<={_NB}(?i:the|an?){_SP}+)" + _CAPITALISED
    + rf"(?={_SP}+(?i:novel|novels|song|songs|album|albums|biography|memoir|concert|poem|poems)(?![\p{{L}}]))"
)
_AFTER_GENDER = regex.compile(rf"(?<={_NB}(?i:gender){_SP}+of{_SP}+)" + _CAPITALISED)
_STOP = frozenset(STOP_WORDS)


#: Line labels that are not people: form fields, mail headers, chat roles.
_NOT_SPEAKERS = frozenset(
    """name address phone email e-mail website subject date time to from cc bcc re fwd note notes
    summary description status priority order total amount reference ref question answer q a user
    agent customer support bot assistant system error warning info update comment comments reply
    response issue problem solution step steps result details title company department mobile fax
    office tel account card zip city country state location tags category type id ticket case
    product price quantity genre rating runtime studio released starring cast plot review source
    example tip ps nb hint attention attn important urgent dear hi hello thanks thank edit edited
    update output input caller operator host guest moderator interviewer narrator everyone all
    me you him her them us""".split()
)
_SPEAKER_LINE = regex.compile(
    r"(?m)^[ \t]*(?P<name>(?:\p{Lu}[\p{L}\p{M}'’\-]+)(?:[ \t]\p{Lu}[\p{L}\p{M}'’\-]+)?)[ \t]*:[ \t]*"
    r"(?P<speech>[\"“]?\p{Lu}[^\n]*?[.!?\"”])[ \t]*$"
)


class DialogueSpeakerRecognizer(AduanaLocalRecognizer):
    """PERSON: the speakers of a written dialogue ("Ana: Where were you?\\nLuis: At home.").

    A line ``Word: Sentence.`` is a form field as often as a speaker; it counts as a speaker only when
    the text has at least two such lines, the label is not a known field or role name, and what
    follows the colon is a sentence of two words or more ending in punctuation.
    """

    ENTITY = "PERSON"
    SCORE = 0.55

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Return the speaker labels of ``text`` when it reads as a dialogue."""
        if ":" not in text:
            return []
        lines = [
            m for m in _SPEAKER_LINE.finditer(text)
            if m.group("name").lower() not in _NOT_SPEAKERS and " " in m.group("speech").strip()
        ]
        if len(lines) < 2:
            return []
        return [
            RecognizerResult(
                self.ENTITY, m.start("name"), m.end("name"), self.SCORE,
                recognition_metadata={
                    RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                    RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                },
            )
            for m in lines
        ]

