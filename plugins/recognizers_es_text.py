"""Names and postal addresses found from the words around them, for Spanish and English text.

There is no Spanish spaCy model in the deployment (Spanish tickets go through the English one), so
Spanish names and addresses come from here: a name is a run of capitalised words, with Spanish
particles ("de la", "del", "y") and accents, that follows an introduction ("me llamo", "my name
is"), a title ("Sra.", "Mr."), a form label ("Titular:"), a greeting ("Hola María,") or sits alone on
the signature line of a message. An address is a street type ("Calle", "Avda.", "Street") with a
name and a number, then optional floor/door, postal code, city and "(province)".

Regexes set case explicitly: names must be capitalised, keywords may be in any case.
"""

from __future__ import annotations

from typing import ClassVar

from presidio_analyzer import Pattern

from .recognizers_common import LOWER, UPPER, AduanaPatternRecognizer, after_context

# --- names ------------------------------------------------------------------------------------------

# Capitalised words after a trigger that are not names (case-insensitive, whole word).
_NOT_NAMES = (
    "buen|buenos|buenas|gracias|saludos?|atentamente|cordialmente|equipo|clientes?|señor(?:a|es|as)?|"
    "ustedes?|atenci[oó]n|soporte|servicio|departamento|hola|estimad[oa]s?|hoy|mañana|ayer|lunes|"
    "martes|mi[eé]rcoles|jueves|viernes|s[aá]bado|domingo|dni|nif|nie|cif|iban|tel|tel[eé]fono|email|"
    "correo|direcci[oó]n|calle|avenida|nombre|apellidos|asunto|re|rv|fwd|cuenta|tarjeta|pedido|banco|"
    "por|para|que|no|s[ií]|el|la|los|las|un|una|mi|su|este|esta|yo|todos|todas|responsable|urgente|"
    "factura|referencia|the|this|that|team|customers?|support|service|thanks|thank|regards|best|dear|"
    "hello|hi|hey|good|morning|afternoon|evening|please|sorry|sir|madam|all|everyone|monday|tuesday|"
    "wednesday|thursday|friday|saturday|sunday|mr|mrs|ms|mx|dr|dra|sr|sra|srta|sres|dña|don|doña|"
    "prof|miss|señorita|i|we|you|he|she|they|it|not|writing|"
    "here|there|sincerely|cheers|kind|warm|manager|admin|client|happy|glad|sure|ok|okay|just|also|new|"
    "yes|your|my|our|spanish|english|american|british|español|española|inglés|afraid|unable|calling"
)
_WORD = (
    rf"(?!(?i:{_NOT_NAMES})(?!\p{{L}}))"
    rf"(?-i:(?:{UPPER}['’])?{UPPER}{LOWER}+(?:-{UPPER}{LOWER}+)?|{UPPER}{{2,}}(?:-{UPPER}{{2,}})?"
    rf"|{UPPER}[ªº])"  # "Mª José"
)
_PARTICLE = r"(?-i:de(?:[ ](?:la|las|los))?|del|y|i|e|da|das|do|dos|van(?:[ ]de[rn])?|von|di|du)"
# A middle initial between two words ("Ana M. López", "Mehrudin M Thaler"); never first or last.
_INITIAL = rf"(?-i:{UPPER})\.?[ \t]+"
#: A name: 1–5 capitalised words on one line, joined by spaces, particles and middle initials.
NAME = rf"{_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+|{_INITIAL}|(?-i:d)['’])?{_WORD}){{0,4}}"

_NB = r"(?<![\p{L}])"  # the trigger starts a word
# A title starts after a space or an opening mark, so the "D." ending "12345678-D." is not one.
_NB_TITLE = r"(?:\A|(?<=[\s(\[,;:\"'¿¡]))"
_TITLES = r"(?-i:Sr|Sra|Srta|Sres|Dña|Dª|Dr|Dra|Mr|Mrs|Ms|Mx|Prof|Lic|Ing)\.?|(?-i:D)\."
_HONORIFIC = rf"(?:{_NB_TITLE}(?:{_TITLES})[ \t]+|(?i:don|doña|señor|señora|señorita)[ \t]+)"
_LINE_END = r"(?=[ \t]*[.!]?[ \t]*(?:\r?\n|\Z))"


def _after(trigger: str) -> str:
    return rf"(?<={trigger})"


class PersonContextRecognizer(AduanaPatternRecognizer):
    """PERSON: names announced by the words around them, in Spanish and English tickets."""

    ENTITY = "PERSON"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "introduction",
            _after(
                _NB + r"(?i:me\s+llamo|mi\s+nombre\s+(?:completo\s+)?es|my\s+name\s+is|my\s+name's|"
                r"se\s+llama|le\s+escribe|les\s+escribe|le\s+habla)[ \t]+(?:" + _HONORIFIC + r")?"
            )
            + NAME,
            0.8,
        ),
        Pattern(
            "self-reference (soy, I am)",
            _after(_NB + r"(?i:soy(?:[ \t]+yo,?)?|yo,|i\s+am|i'm)[ \t]+") + NAME,
            0.6,
        ),
        Pattern("title", _after(_NB + _HONORIFIC) + NAME, 0.7),
        Pattern(
            "form label",
            _after(
                _NB + r"(?i:nombre(?:\s+y\s+apellidos|\s+completo)?|apellidos(?:\s+y\s+nombre)?|"
                r"full\s+name|name|titular(?:\s+de\s+la\s+(?:cuenta|tarjeta|l[ií]nea))?|"
                r"card\s*holder|account\s+holder|holder|paciente|patient|beneficiario|beneficiary|"
                r"remitente|sender|destinatario|recipient|solicitante|applicant|contacto|contact|"
                r"cliente|customer|firmado(?:\s+por)?|fdo\.?|signed(?:\s+by)?|autorizado|attn|"
                r"a\s+la\s+atenci[oó]n\s+de)[ \t]*:[ \t]*(?:" + _HONORIFIC + r")?"
            )
            + NAME,
            0.7,
        ),
        Pattern(
            "on behalf of / in the name of",
            _after(
                _NB + r"(?i:a\s+nombre\s+de|en\s+nombre\s+de|a\s+favor\s+de|figurar\s+como|"
                r"figura\s+como|aparecer\s+como|aparece\s+como|on\s+behalf\s+of|in\s+the\s+name\s+of|"
                r"llamad[oa]|named|called)[ \t]+(?:" + _HONORIFIC + r")?"
            )
            + NAME,
            0.6,
        ),
        Pattern(
            "relative",
            _after(
                _NB + r"(?i:mi|my|su|his|her|our|nuestr[oa])[ \t]+(?i:madre|padre|hij[oa]|marido|"
                r"mujer|espos[oa]|pareja|herman[oa]|abuel[oa]|t[ií][oa]|prim[oa]|suegr[oa]|"
                r"cuñad[oa]|novi[oa]|compañer[oa]|jef[ea]|mother|father|mom|mum|dad|son|daughter|"
                r"husband|wife|partner|brother|sister|grandmother|grandfather|uncle|aunt|cousin|"
                r"boss|colleague)[ \t]*,?[ \t]+"
            )
            + NAME,
            0.6,
        ),
        Pattern(
            "greeting",
            _after(
                r"(?:\A|\n)[ \t]*(?i:hola|buenos\s+d[ií]as|buenas(?:\s+tardes|\s+noches)?|"
                r"estimad[oa]s?(?:/[oa]s?)?|querid[oa]s?|apreciad[oa]s?|dear|hi|hello|hey|"
                r"good\s+(?:morning|afternoon|evening))[ \t]*,?[ \t]+" + _HONORIFIC + "?"
            )
            + NAME
            + r"(?=[ \t]*(?:[,:;!]|\r?\n|\Z))",
            0.7,
        ),
        Pattern(
            "signature after a closing",
            _after(
                _NB + r"(?i:saludos(?:\s+cordiales)?|un\s+(?:cordial\s+)?saludo|atentamente|"
                r"cordialmente|atte|att|muchas\s+gracias|gracias(?:\s+de\s+antemano|\s+por\s+\w+(?:\s+\w+)?)?|"
                r"un\s+abrazo|regards|best\s+regards|kind\s+regards|warm\s+regards|best(?:\s+wishes)?|"
                r"thanks(?:\s+again|\s+in\s+advance)?|thank\s+you|many\s+thanks|sincerely|"
                r"yours\s+(?:sincerely|truly|faithfully)|cheers|firmado|signed)"
                r"[ \t]*[,.:!]{0,2}[ \t]*(?:\r?\n[ \t]*){1,2}"
            )
            + NAME
            + _LINE_END,
            0.7,
        ),
        Pattern(
            "signature on the closing line",
            _after(
                _NB + r"(?i:gracias|thanks|regards|saludos|un\s+saludo|atentamente|cheers|"
                r"best|sincerely),[ \t]+"
            )
            + NAME
            + _LINE_END,
            0.6,
        ),
        Pattern(
            "signature after -- or a mail header",
            _after(
                r"(?:\A|\n)(?:--[ \t]?\r?\n|[ \t]*(?i:de|from|to|para|cc|enviado\s+por|sent\s+by)"
                r"[ \t]*:)[ \t]*"
            )
            + NAME
            + r"(?=[ \t]*(?:<|\[|\(|,|\r?\n|\Z))",
            0.7,
        ),
        Pattern(
            "signature as the last line, after prose",
            _after(r"[.!?:;)\]\"»][ \t]*\r?\n\s*") + NAME + r"(?=\s*\Z)",
            0.5,
        ),
        Pattern(
            "signature after the last sentence",
            _after(r"[.!?][ \t]+") + NAME + r"(?=[ \t]*[.!]?\s*\Z)",
            0.45,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "nombre", "apellidos", "titular", "señor", "señora", "name",
    ]


# --- addresses ----------------------------------------------------------------------------------------

_STREET_TYPES = (
    r"(?i:calle|c/|c\.|cl\.|avenida|avda\.?|av\.|avinguda|plaza|pza\.?|pl\.|pla[çc]a|paseo|passeig|"
    r"p[º°]\.?|camino|ronda|traves[ií]a|carretera|ctra\.?|carrer|rambla|gran\s+v[ií]a|v[ií]a|vial|"
    r"glorieta|pasaje|pje\.?|pasadizo|alameda|callej[oó]n|cañada|urbanizaci[oó]n|urb\.|acceso|"
    r"cuesta|bulevar|pol[ií]gono|barrio|costanilla|explanada|muelle|partida|plazuela|r[uú]a|senda|"
    r"subida|bajada|ribera|prolongaci[oó]n)"
)
_PLACE_WORD = rf"(?-i:(?:{UPPER}['’])?{UPPER}{LOWER}+(?:-{UPPER}{LOWER}+)?|{UPPER}{{2,}})"
_PLACE_PARTICLE = r"(?-i:de(?:[ ](?:la|las|los))?|del|la|las|los|el|y|i|d['’]|l['’])"
# Capitalised words that end an address instead of naming a town.
_NOT_PLACES = (
    "dni|nif|nie|cif|iban|tel|tel[eé]fono|email|e-mail|correo|mi|su|tu|por|para|gracias|saludos|"
    "cuenta|tarjeta|pedido|que|no|s[ií]|y|pero|the|this|my|and|but|thanks|phone|please"
)
_PLACE = (
    rf"(?!(?i:{_NOT_PLACES})(?!\p{{L}}))(?:(?-i:A|O)[ \t]+)?{_PLACE_WORD}"
    rf"(?:[ \t]+(?:{_PLACE_PARTICLE}[ \t]*)?{_PLACE_WORD}){{0,4}}"
)
_HOUSE_NUMBER = (
    r",?[ \t]*(?:(?i:n[º°o]\.?|n[uú]m\.?|n[uú]mero)[ \t]*)?"
    r"(?:\d{1,4}(?:[ \t]?(?-i:[A-Z])(?![\p{L}\d]))?|(?i:s/n))(?![\d\p{L}])"
)
# "1º B" reaches detection as "1o B": the gateway folds compatibility characters (NFKC) first.
_ORDINAL = r"(?:[º°ª]|(?-i:[oa])(?![\p{L}\d]))"
_UNIT = (
    r"(?:\d{1,2}[ \t]?" + _ORDINAL + r"(?:[ \t]?(?-i:[A-Z])(?![\p{L}]))?"
    r"|\d{1,2}" + _ORDINAL + r"?[ \t]*(?i:izq(?:uierda|da)?|dcha|derecha|izda|centro|ctro)\.?"
    r"|(?i:piso|planta|pl\.|puerta|pta\.?|escalera|esc\.?|bloque|blq\.?|portal|local|apto\.?|km)"
    r"[ \t]*(?:\d{1,3}(?:[ \t]?(?-i:[A-Z])(?![\p{L}]))?|(?-i:[A-Z])(?![\p{L}]))"
    r"|(?i:bajo|entresuelo|principal|[aá]tico)(?:[ \t]?(?-i:[A-Z])(?![\p{L}]))?)"
)
_SPANISH_STREET = (
    r"(?<![\p{L}\d])" + _STREET_TYPES + r"[ \t]*(?:(?i:de|del|de\s+la|de\s+las|de\s+los)[ \t]+)?"
    + _PLACE + _HOUSE_NUMBER + r"(?:[ \t]*,?[ \t]*" + _UNIT + r"){0,4}"
)
_SPANISH_TOWN = (
    r"(?:[ \t]*,?[ \t]*(?<!\d)\d{5}(?!\d))?[ \t]*,?[ \t]*" + _PLACE
    + r"(?:[ \t]*\([ \t]*" + _PLACE + r"[ \t]*\))?"
)
_SPANISH_POSTCODE_ONLY = r"[ \t]*,?[ \t]*(?<!\d)\d{5}(?!\d)"

_EN_STREET_TYPES = (
    r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl|"
    r"terrace|ter|parkway|pkwy|highway|hwy|circle|cir|square|sq|trail|trl|alley|close|crescent|"
    r"cres|grove|gardens|mews|row|walk|hill)\.?(?![\p{L}])"
)
_EN_WORD = rf"(?:{_PLACE_WORD}|\d{{1,3}}(?i:st|nd|rd|th))"
_UK_POSTCODE = r"(?-i:[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2})"
_EN_STREET = (
    r"(?<![\w])\d{1,6}[ \t]+(?:(?-i:[NSEW])\.?[ \t]+)?" + _EN_WORD + r"(?:[ \t]+" + _EN_WORD
    + r"){0,4}[ \t]+" + _EN_STREET_TYPES + r"(?:[ \t]+(?-i:NE|NW|SE|SW|[NSEW])\.?(?![\p{L}]))?"
    r"(?:,?[ \t]*(?i:apt|apartment|suite|ste|unit|fl|floor|room|rm|#)\.?[ \t]*#?[\w-]{1,6})?"
)
_EN_TOWN = (
    r"(?:,[ \t]*" + _PLACE_WORD + r"(?:[ \t]+" + _PLACE_WORD + r"){0,3})?"
    r"(?:,?[ \t]*(?:(?-i:[A-Z]{2})[ \t]+\d{5}(?:-\d{4})?|" + _UK_POSTCODE + r"))"
    r"|,[ \t]*" + _PLACE_WORD + r"(?:[ \t]+" + _PLACE_WORD + r"){0,3}"
)


class AddressRecognizer(AduanaPatternRecognizer):
    """LOCATION: Spanish and English/US postal addresses, the whole address as one span.

    ``Calle de la Paz 12, 3º B, 28012 Madrid (Madrid)``, ``Avda. Diagonal 640 Piso 1, Barcelona``,
    ``123 Main Street, Apt 4B, Springfield, IL 62704``, ``PO Box 123``.
    """

    ENTITY = "LOCATION"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern("Spanish address with town", _SPANISH_STREET + _SPANISH_TOWN, 0.75),
        Pattern("Spanish address with postcode", _SPANISH_STREET + _SPANISH_POSTCODE_ONLY, 0.7),
        Pattern("Spanish street and number", _SPANISH_STREET, 0.6),
        Pattern("English address with town", _EN_STREET + r"(?:" + _EN_TOWN + r")", 0.75),
        Pattern("English street and number", _EN_STREET, 0.6),
        Pattern(
            "post-office box",
            r"(?<![\p{L}])(?i:p\.?\s?o\.?\s+box|apartado(?:\s+de\s+correos)?)[ \t]+\d{1,6}(?!\d)",
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = [
        "dirección", "domicilio", "vivo", "calle", "envío", "address", "street", "live",
    ]


class PostalCodeRecognizer(AduanaPatternRecognizer):
    """LOCATION: a postal code named as such ("CP 28001", "código postal", "ZIP 62704-1234").

    After the label any country's shape is taken: 4 digits (Austria, Switzerland, Australia…), 5,
    ZIP+4, British and Canadian codes.
    """

    ENTITY = "LOCATION"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "postal code after context",
            after_context(
                [r"c\.?\s?p", r"c[oó]digo\s+postal", r"c[oó]d\.\s+postal", r"zip(?:\s+code)?",
                 r"post\s?code", r"postal\s+code"],
                1,
            )
            + r"(?:\d{4,5}(?:-\d{4})?|" + _UK_POSTCODE + r"|(?-i:[A-Z]\d[A-Z])[ ]?\d(?-i:[A-Z])\d)(?![\w-])",
            0.6,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["código", "postal", "zip", "postcode"]


#: Spain's provinces, autonomous cities and communities, with their official co-names.
SPANISH_REGIONS: tuple[str, ...] = (
    "A Coruña", "La Coruña", "Álava", "Araba", "Albacete", "Alicante", "Alacant", "Almería",
    "Asturias", "Ávila", "Badajoz", "Barcelona", "Bizkaia", "Vizcaya", "Burgos", "Cáceres", "Cádiz",
    "Cantabria", "Castellón", "Castelló", "Ciudad Real", "Córdoba", "Cuenca", "Gipuzkoa",
    "Guipúzcoa", "Girona", "Gerona", "Granada", "Guadalajara", "Huelva", "Huesca", "Illes Balears",
    "Islas Baleares", "Baleares", "Jaén", "La Rioja", "Las Palmas", "León", "Lleida", "Lérida", "Lugo",
    "Madrid", "Málaga", "Murcia", "Navarra", "Nafarroa", "Ourense", "Orense", "Palencia",
    "Pontevedra", "Salamanca", "Santa Cruz de Tenerife", "Tenerife", "Gran Canaria", "Segovia",
    "Sevilla", "Soria", "Tarragona", "Teruel", "Toledo", "Valencia", "València", "Valladolid",
    "Zamora", "Zaragoza", "Ceuta", "Melilla", "Andalucía", "Aragón", "Canarias", "Castilla y León",
    "Castilla-La Mancha", "Cataluña", "Catalunya", "Comunidad Valenciana", "Extremadura", "Galicia",
    "País Vasco", "Euskadi", "Región de Murcia", "Comunidad de Madrid", "Principado de Asturias",
)


class SpanishRegionRecognizer(AduanaPatternRecognizer):
    """LOCATION: a Spanish province, autonomous city or community named after "en", "de", "desde"…

    The English spaCy model misses most Spanish place names in Spanish sentences; this closed,
    public list catches the ones a customer names most ("esta mañana en Cuenca"). Towns and
    villages are not listed: they are left to the address recognizer and to NER.
    """

    ENTITY = "LOCATION"
    PATTERNS: ClassVar[list[Pattern]] = [
        Pattern(
            "Spanish region after a preposition",
            r"(?<=(?<![\p{L}])(?i:en|de|desde|hasta|a|para|cerca\s+de|in|from|to|near)[ \t]+)"
            r"(?-i:" + "|".join(sorted(SPANISH_REGIONS, key=len, reverse=True)) + r")(?![\p{L}\-])",
            0.5,
        ),
    ]
    CONTEXT: ClassVar[list[str]] = ["provincia", "ciudad", "vivo", "province", "city"]
