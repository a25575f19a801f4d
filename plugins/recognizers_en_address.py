"""LOCATION in English text: postal addresses of any country, address blocks, and towns named in prose.

Registered by :mod:`recognizers_hipaa` (Safe Harbor identifier B: street address, city, ZIP code).
:class:`~recognizers_es_text.AddressRecognizer` knows the English/US shape ``123 Main Street, City,
ST 12345``; English tickets also quote addresses the way the customer's country writes them
(``Favoritenstrasse 36``, ``Via Carlo Cattaneo 88``, ``Rua Arapiraca 1943``), as blocks of lines
(street, ``Apt. 12``, town, ``Country 12345``), and US military addresses (``PSC 1234, Box 5678``
``APO AE 09012``). No list of streets or towns is used: what makes a run of words an address is its
shape (a house number, then words, then a number or a street word), what follows it (a unit, a town,
a postcode at the end of a line) or the words before it ("lives at", "my address is").

Every pattern is anchored on digits or on a cue phrase, and each repetition is bounded, so matching
stays linear in the text's length. Case is explicit in each regex (Presidio adds IGNORECASE).
"""

from __future__ import annotations

from typing import ClassVar

import regex
from presidio_analyzer import Pattern

from gateway.inspect.lexicon import given_names, is_dictionary_word

from .recognizers_common import UPPER, AduanaPatternRecognizer

_SP = r"[ \t]"
#: A capitalised (or all-capitals) word of any script, possibly abbreviated ("Str.", "R.").
_CAP = (
    rf"(?-i:(?:{UPPER}['’])?{UPPER}(?:[\p{{L}}\p{{M}}'’\-]{{0,3}}\.|[\p{{L}}\p{{M}}'’\-]*))(?![\p{{L}}\d])"
)
#: Any-case word, for lower-cased text after an explicit address cue.
_ANY = r"[\p{L}\p{M}](?:[\p{L}\p{M}'’\-]{0,3}\.|[\p{L}\p{M}'’\-]*)(?![\p{L}\d])"
#: Lower-case words that sit inside street and town names in many languages.
_PARTICLE = (
    r"(?-i:de|del|della|degli|di|da|das|do|dos|du|des|la|las|los|le|les|el|van|von|der|den|ter|ten|nad|pod|"
    r"u|y|i|e|et|and|of|am|an|im|na|pri|ul\.|al\.|út|útja|utca|vei|veien|vej|gate|gata|väg|vägen|straße|"
    r"strasse|str\.)(?![\p{L}\d])"
)
#: Words that end a run of place words: sentence words, labels, closings.
_STOP = (
    r"(?i:the|this|that|these|my|our|your|his|her|their|and|but|or|please|thanks|thank|phone|tel|"
    r"mobile|cell|email|e-mail|fax|office|website|web|it|i|we|you|he|she|they|is|was|are|if|when|"
    r"for|in|on|at|to|from|with|by|call|name|address|who|what|where|how|why|can|could|would|will|"
    r"also|best|regards|dear|hi|hello|mr|mrs|ms|dr|last|next|every|as|so|then|there|here|not|no|"
    r"yes|ok|sir|madam|order|invoice|ticket|total|amount|apt|apartment|suite|ste|unit|flat|floor|"
    r"room|piso|planta|puerta|pta|escalera|esc|bloque|portal|local)(?![\p{L}\d])"
)
_WORD = rf"(?!{_STOP}){_CAP}"
_WORD_ANY = rf"(?!{_STOP}){_ANY}"
#: 1–6 capitalised words joined by spaces and particles ("Via Carlo Cattaneo", "Rue du Niger").
_NAME = rf"{_WORD}(?:{_SP}+(?:{_PARTICLE}{_SP}+){{0,2}}{_WORD}){{0,5}}"
_NAME_ANY = rf"{_WORD_ANY}(?:{_SP}+{_WORD_ANY}){{0,6}}"
_STREET_TYPE = (
    r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|parkway|pkwy|highway|hwy|circle|cir|square|sq|trail|trl|alley|close|crescent|"
    r"cres|grove|gardens|mews|row|walk|hill|heights|radial|shoals|stream|viaduct|mission|greens|"
    r"str|strasse|straße|gasse|weg|platz|allee|chaussee|laan|straat|vej|vei|vägen|gatan|rue|via|"
    r"rua|avenida|avda|calle|ulica|utca|chemin|route|allée|allee|quai|impasse|piazza|corso|viale|"
    r"largo|travessa|estrada|ul|postbox|p\.?\s?o\.?\s+box)\.?(?![\p{L}\d])"
)
#: Street words some languages write in lower case after the name ("Wilhelmsens vei 83").
_LOWER_STREET_TYPE = r"(?-i:vei|veien|vej|gate|gata|gatan|väg|vägen|út|útja|utca|straße|strasse|str\.)"
#: A house number; Hungarian and some other addresses end it with a dot ("Nánási út 66.").
_HOUSE = r"\d{1,5}(?:-?(?-i:[A-Za-z]))?(?:\.(?=[ \t]*,))?(?![\p{L}\d])"
_NUMBER_START = r"(?<![\w.,/+\-])\d{1,6}(?:" + _SP + r"+\d{1,5})?" + _SP + r"+"
#: A unit inside a building: ``Apt. 559``, ``Suite 026``, ``Unit 4B``, ``#12``.
_UNIT = (
    r"(?i:apt|apartment|suite|ste|unit|flat|fl|floor|room|rm)\.?" + _SP + r"*#?\d{1,5}(?-i:[A-Z])?"
    r"(?![\p{L}\d])|#" + _SP + r"?\d{1,5}(?![\p{L}\d])"
)
_UK_POSTCODE = r"(?-i:[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2})(?![\p{L}\d])"
#: A postcode ends its line or clause: "Austria 73269", ", IL 62704-1234", "GRIGADALE PH36 9QH", "71-562".
_POSTCODE = (
    r"(?:(?<![\d\-])(?:\d{3,6}(?:-\d{3,4})?|\d{2}-\d{3})|" + _UK_POSTCODE + r")"
    r"(?=" + _SP + r"*(?:[,.;:?!)\]]|\r?\n|\Z))"
)
#: After a town or country a postcode may be followed by the rest of the sentence ("… 40330 in case").
_TOWN_POSTCODE = (
    r"(?:(?<![\d\-])(?:\d{3,6}(?:-\d{3,4})?|\d{2}-\d{3})|" + _UK_POSTCODE + r")"
    r"(?=" + _SP + r"*(?:[,.;:?!)\]]|\r?\n|\Z)|" + _SP + r"+(?-i:\p{Ll}))"
)
#: A state code, or the placeholder a spreadsheet or database export writes for an empty state field
#: ("…, nan 62654", "Jõgeva 4 nan"): the address around it is no less an address.
_STATE = r"(?-i:[A-Z]{2,3}|nan|NaN|NULL)(?![\p{L}\d])"
#: Postcodes written in two groups: Poland ``80-170``, Sweden and Czechia ``252 62``, ``830 51``.
_SPLIT_POSTCODE = r"(?<![\d\-])(?:\d{2}-\d{3}|\d{3}[ ]\d{2})(?![\d\-]|[ ]\d)"
#: What may open each line of a quoted or pasted block: indentation and quoting marks ("> ", "}} ").
LINE_PREFIX = r"[ \t?>}|]*"
_SEP = r"(?:" + _SP + r"*,?" + _SP + r"*(?:\r?\n" + LINE_PREFIX + r")?(?:," + _SP + r"*)?)"
_BLANK_SEP = r"(?:" + _SP + r"*\r?\n" + LINE_PREFIX + r"\r?\n" + LINE_PREFIX + r")"
#: What can follow a street: units, towns, states and postcodes, over up to a few lines.
_TAIL_PART = (
    r"(?:" + _UNIT + r"|" + _POSTCODE + r"|" + _NAME + r"(?:" + _SP + r"*,?" + _SP + r"+" + _STATE
    + r")?(?:" + _SP + r"*,?" + _SP + r"*" + _TOWN_POSTCODE + r")?|" + _STATE + r")"
)
_TAIL = (
    r"(?:" + _SEP + _TAIL_PART + r"){0,6}"
    r"(?:" + _BLANK_SEP + _NAME + _SP + r"+" + _POSTCODE + r")?"
)
_TAIL_ANY = (
    r"(?:" + _SEP + r"(?:" + _UNIT + r"|" + _POSTCODE + r"|" + _NAME_ANY + r"(?:" + _SP + r"+"
    + _POSTCODE + r")?)){0,6}"
)
#: A street that leads with its house number and ends in a street word: ``4308 Morris Street``; or has
#: the street word first, then particles and a name, any case after a particle (``86 rue du château``).
_STREET_NUMBER_TYPED = (
    _NUMBER_START + r"(?:" + _NAME + r"(?<=" + _STREET_TYPE + r")(?!" + _SP + r"+" + _PARTICLE + r")|(?:" + _NAME + _SP
    + r"+)?"
    + _STREET_TYPE + r"(?:" + _SP + r"+(?:" + _PARTICLE + _SP + r"+){0,2}" + _NAME + r"|" + _SP + r"+(?:"
    + _PARTICLE + _SP + r"+){1,2}(?!" + _STOP + r")(?-i:\p{Ll}[\p{L}\p{M}'’\-]*)(?![\p{L}\d]))?"
    + r"(?:" + _SP + r"+" + _HOUSE + r")?)"
)
#: A street that ends with its house number: ``Favoritenstrasse 36``, ``Via Leopardi 83``.
_STREET_NUMBER_LAST = _NAME + r"(?:" + _SP + r"+" + _LOWER_STREET_TYPE + r")?" + _SP + r"+" + _HOUSE
#: A street with numbers on both sides (``788 Fitjabraut 87``) has the shape of "3 Apple Watch 2":
#: it counts only when a unit, or a town or postcode after a comma or line break, follows.
_TAIL_REQUIRED = (
    r"(?=" + _SEP + _UNIT + r"|" + _SP + r"*(?:,|\r?\n)[ \t?>}|,]*(?:" + _POSTCODE + r"|" + _NAME + r"))"
)
_STREET_NUMBER_FIRST = (
    r"(?:" + _STREET_NUMBER_TYPED + r"|" + _NUMBER_START + _STREET_NUMBER_LAST + r")"
)
#: One side of a corner, or what a cue announces: ``4308 Morris Street``, ``Tom Wilhelmsens vei 83``,
#: ``P.O. Box 63``, ``Rue du Niger``.
_SIDE = (
    r"(?:(?i:p\.?" + _SP + r"?o\.?" + _SP + r"+box|postbox)" + _SP + r"*\d{1,6}(?!\d)|(?:\d{1,6}" + _SP
    + r"+(?:\d{1,5}" + _SP + r"+)?)?" + _NAME + r"(?:" + _SP + r"+" + _LOWER_STREET_TYPE + r")?(?:" + _SP
    + r"+" + _HOUSE + r")?)"
)
_MILITARY = (
    r"(?<![\p{L}\d])(?i:(?:psc|unit|cmr)" + _SP + r"+\d{3,5},?" + _SP + r"+box" + _SP + r"+\d{3,5}"
    r"|(?:usns|usnv|uss|uscgc)" + _SP + r"+[\p{L}\p{M}'’\-]+(?:" + _SP + r"+[\p{L}\p{M}'’\-]+)?)"
    r"[ \t,]*\r?\n[ \t]*(?i:apo|fpo|dpo)" + _SP + r"+(?i:aa|ae|ap)" + _SP + r"+\d{5}(?!\d)"
)
#: Words announcing an address ("my address is", "lives at", "send it to", "located at").
_CUE = (
    r"(?<=(?<![\p{L}])(?:(?i:address(?:es)?|addr(?![\p{L}])\.?)(?:" + _SP + r"+(?i:is|to|as|was|of))?" + _SP
    + r"*[:\-]?|(?i:lives?|living|lived|located|situated|resides?|residing|offices?\s+(?:is|are)|"
    r"(?:sent|send|ship|shipped|deliver|delivered|mail|mailed|return|returned|forward|forwarded|"
    r"drop(?:s|ped)?(?:\s+\w+)?\s+off|taxi)(?:\s+\w+){0,3}?\s+to|meet(?:\s+(?:me|us))?|stop|off)"
    + _SP + r"*(?i:at|in|to)?)" + r"[ \t]*(?:\r?\n[ \t]*)?)"
)
#: One side of a corner written without "corner of" (see :mod:`recognizers_en_street`).
CORNER_SIDE = _SIDE
#: A street word alone (``Postbox``, ``Street``, ``Via``), for rules that read words one by one.
STREET_WORD = _STREET_TYPE
_CORNER = r"(?:(?i:the" + _SP + r"+)?(?i:corner" + _SP + r"+of)" + _SP + r"+)?"


_NUMBER_AND_STREET_WORD = regex.compile(r"\d{1,6}(?:" + _SP + r"+\d{1,5})?" + _SP + r"+" + _STREET_TYPE + r"[.,]?")


class StreetAddressRecognizer(AduanaPatternRecognizer):
    """LOCATION: a street address written the way its country writes it, with what follows it.

    ``083 254 Damvergi Street, Nicosia``, ``461 Via Carlo Cattaneo 88, Vignal``, ``Helmstok 174\\n
    Apt. 861\\n Almere\\n Netherlands 29952``, ``PSC 2322, Box 6025\\nAPO AA 88307``. A street that
    does not lead with a number needs a unit, a town or a postcode after it (or a cue before it): on
    its own "Windows 10" has the same shape.
    """

    ENTITY = "LOCATION"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("street led by a number, ending in a street word", _STREET_NUMBER_TYPED + _TAIL, 0.65),
        Pattern(
            "number, street and number, then a unit, a town or a postcode",
            _NUMBER_START + _STREET_NUMBER_LAST + _TAIL_REQUIRED + _TAIL,
            0.65,
        ),
        Pattern(
            "street and number, then a unit or a town line",
            r"(?<![\p{L}\d.,\-])" + _STREET_NUMBER_LAST + r"(?=" + _SEP + r"(?:" + _UNIT + r"|"
            + _NAME + r"(?:" + _SP + r"*,?" + _SP + r"*" + _POSTCODE + r")?" + _SP + r"*(?:\r?\n|\Z)))"
            + _TAIL,
            0.6,
        ),
        Pattern("US military address", _MILITARY, 0.7),
        Pattern("address after a cue", _CUE + _CORNER + _SIDE + r"(?:" + _SP + r"+(?i:and|&)" + _SP + r"+"
                + _SIDE + r")?" + _TAIL, 0.6),
        Pattern(
            "lower-case address after a cue",
            _CUE + r"(?=[^\n]{0,40}\d)(?:\d{1,6}" + _SP + r"+){0,2}" + _NAME_ANY + r"(?:" + _SP
            + r"+" + _HOUSE + r")?" + _TAIL_ANY,
            0.6,
        ),
        Pattern(
            "street corner",
            r"(?<![\p{L}])(?i:the" + _SP + r"+)?(?i:corner" + _SP + r"+of)" + _SP + r"+" + _SIDE + _SP
            + r"+(?i:and|&)" + _SP + r"+" + _SIDE,
            0.6,
        ),
        Pattern("unit within a building", r"(?<![\p{L}\d])(?-i:Apt|Apartment|Suite|Ste)\.?" + _SP
                + r"*#?\d{1,5}(?-i:[A-Z])?(?![\p{L}\d])", 0.5),
    ]
    CONTEXT: ClassVar[list[str]] = ["address", "street", "live", "lives", "apartment"]

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """An address has a digit (a house number, a unit, a postcode): "lives at Home" is not one.

        A number and a street word alone ("Holmevej 34 street", "Graben 11 St.") are the end of a
        street named before them, which the street rules find; alone they would hide the English word.
        """
        return not any(c.isdigit() for c in pattern_text) or _NUMBER_AND_STREET_WORD.fullmatch(pattern_text) is not None


_TOWN = (
    rf"(?-i:(?:{UPPER}['’])?{UPPER}[\p{{L}}\p{{M}}'’\-]*)(?![\p{{L}}\d])"
    rf"(?:{_SP}+(?:{_PARTICLE}{_SP}+)?(?!{_STOP})(?-i:{UPPER}[\p{{L}}\p{{M}}'’\-]*)(?![\p{{L}}\d])){{0,3}}"
)
_NOT_TOWNS = (
    r"(?i:the|a|an|my|our|your|this|that|bed|town|hospital|school|work|office|charge|touch|"
    r"marketing|sales|support|billing|accounting|finance|engineering|it|hr|legal|trouble|line|"
    r"love|time|front|english|spanish|french|german|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|person|private|public|general|total|full|good|pain|debt|doubt|premium|basic|"
    r"standard|pro|plus|free|gold|silver|platinum|business|enterprise|version|settings)(?![\p{L}])"
)


class TownInProseRecognizer(AduanaPatternRecognizer):
    """LOCATION: a town named after where someone lives, comes from or is ("grew up in Bilbao").

    Only after verbs of living, moving and travelling, or before a postcode; names of countries are
    caught as well (they cannot be told from towns without a list) and cost nothing but a word.
    """

    ENTITY = "LOCATION"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "town after a verb of living or moving",
            r"(?<=(?<![\p{L}])(?i:live|lives|lived|living|grew\s+up|born|raised|moved(?:\s+here)?|"
            r"relocated|flew|flying|fly|travel(?:l)?(?:ed|ing)?|arrived|arriving|staying|stay|based|"
            r"returned|returning|headed|heading|originally|"
            r"i'm|i\s+am|we're|we\s+are|currently|home\s+(?:town|city))" + _SP
            + r"+(?:(?i:in|from|to|at|back\s+to|over\s+to)" + _SP + r"+)?)(?!" + _NOT_TOWNS + r")"
            + _TOWN + r"(?:" + _SP + r"*\((?-i:" + UPPER + r")[\p{L}\p{M} .\-]{1,24}\))?",  # "Unionville (Orange)"
            0.6,
        ),
        Pattern(
            "town after a street word and 'in'",  # "Kantstrasse 40 street in Nürnberg", "Main St. in Dole pri Litiji"
            r"(?-i:(?=\p{Lu}))(?<=(?<![\p{L}])(?i:street|st\.|road|rd\.|avenue|ave\.)" + _SP + r"+(?i:in)" + _SP
            + r"+)(?!"
            + _NOT_TOWNS + r")" + _TOWN,
            0.55,
        ),
        Pattern(
            "town of a university",
            r"(?<=(?<![\p{L}])(?-i:University|College)" + _SP + r"+(?i:of)" + _SP + r"+)(?!"
            + _NOT_TOWNS + r")" + _TOWN,
            0.55,
        ),
        Pattern(
            "town and postcode after 'in'",
            r"(?<=(?<![\p{L}])(?i:in|at|near)" + _SP + r"+)(?!" + _NOT_TOWNS + r")" + _TOWN + _SP
            + r"+(?:(?!(?:19|20)\d\d-)\d{4,5}-\d{3}(?![\d\-])|\d{4}[ ](?-i:[A-Z]{2})(?![\p{L}\d])|"
            r"(?!(?:19|20)\d\d(?!\d))\d{4,5}(?![\d\-])|"
            + _SPLIT_POSTCODE + r"|"
            + _UK_POSTCODE + r"|(?-i:[A-Z]\d[A-Z])[ ]\d(?-i:[A-Z])\d(?![\p{L}\d]))",
            0.6,
        ),
        Pattern(
            "split postcode after a postcode word",
            r"(?<=(?<![\p{L}])(?i:zip|post|postal)(?:" + _SP + r"*(?i:code))?" + _SP + r"*(?:(?i:is|:)" + _SP
            + r"*)?)" + _SPLIT_POSTCODE,
            0.6,
        ),
        Pattern(
            "town before a country club after a 'Where:' label",
            r"(?-i:(?=\p{Lu}))(?<=(?:\A|\n)[ \t]*(?i:where|venue|location|place)[ \t]*:[ \t]*)(?!" + _NOT_TOWNS
            + r")(?!(?i:royal|grand|national|international|county|city)[ \t])" + _TOWN
            + r"(?<!Country|Golf|Tennis)(?=" + _SP + r"+(?-i:Country|Golf|Tennis)" + _SP + r"+(?-i:Club)(?![\p{L}]))",
            0.55,
        ),
        Pattern(
            "other countries' postcodes after a postcode word",
            # Iceland's 3 digits, Brazil's and Portugal's 99999-999 / 9999-999, the Netherlands' 9999 AA
            r"(?=\d)(?<=(?<![\p{L}])(?i:zip|post|postal)(?:" + _SP + r"*(?i:code))?" + _SP + r"*(?:(?i:is|:)" + _SP
            + r"*))(?<![\d\-])(?:\d{3}|\d{4,5}-\d{3}|\d{4}[ ]?(?-i:[A-Z]{2}))(?![\p{L}\d\-])",
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["city", "town", "live", "moved"]


#: Words English place names start with ("Port Elizabeth", "Fort William", "East Lansing", "Lake Placid").
_TOWN_PREFIX = r"(?-i:North|South|East|West|New|Port|Fort|Lake|Mount|Mt\.|Saint|St\.|Glen|Cite|Upper|Lower)"


class PrefixedTownRecognizer(AduanaPatternRecognizer):
    """LOCATION: a town named the way place names are made, after "in", "to", "from", "near".

    A place word and a name ("invites songwriters to Port Aurelio", "moved from East Tamsin", a
    district number after it: "in Cite Khzama 2,"): the name must be one the dictionary does not
    know or a census given name ("Port Elizabeth", "Fort William"); "to New Relic", "in North Face
    jackets", "to South Park" stay visible. Or capitalised words joined by hyphens around a particle
    ("in Péronnes-lez-Binche", "from Stratford-upon-Avon"); "in Coca-Cola", "in Wi-Fi" are not.
    """

    ENTITY = "LOCATION"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "place word and a name after a preposition of place",
            r"(?=" + _TOWN_PREFIX + r")(?<=(?<![\p{L}])(?i:in|to|from|near|at|of|via)" + _SP + r"+)" + _TOWN_PREFIX
            + _SP + r"+(?-i:" + UPPER + r"\p{Ll}[\p{L}\p{M}'’\-]*)(?![\p{L}\d])"
            r"(?:[ \t]\d{1,2}(?=[,.;]))?",  # a district number: "Cite Khzama 2,"
            0.55,
        ),
        Pattern(
            "hyphenated place name with a particle inside, after a preposition of place",
            # "in Péronnes-lez-Binche", "from Stratford-upon-Avon", "to Saint-Jean-de-Luz"
            r"(?-i:(?=\p{Lu}))(?<=(?<![\p{L}])(?i:in|to|from|near|at|of|via)" + _SP + r"+)(?-i:" + UPPER
            + r"[\p{L}\p{M}'’]+(?:-" + UPPER + r"[\p{L}\p{M}'’]+)*-(?:lez|lès|les|sur|sous|en|le|la|de|du|des|aux|"
            r"am|an|im|upon|on|by|in|under)-" + UPPER + r"[\p{L}\p{M}'’]+(?:-\p{L}[\p{L}\p{M}'’]*)*)(?![\p{L}\d\-])",
            0.55,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["city", "town", "live", "moved"]

    def invalidate_result(self, pattern_text: str) -> bool | None:
        """Refuse a place word before an ordinary word ("New Relic", "North Face")."""
        words = pattern_text.split()
        if len(words) < 2 or "-" in words[0]:
            return False  # "Péronnes-lez-Binche": the hyphens and the particle are the place's shape
        name = words[1]
        return is_dictionary_word(name) and name.lower() not in given_names()
