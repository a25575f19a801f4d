"""Which language a piece of text is in (English or Spanish), so it gets that language's recognizers.

A stop-word and orthography vote: fast, offline and good enough to pick context words on ticket text.
Short or neutral text goes to the default (the first language of the policy).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

#: A word of lower-cased text. Exactly what ``[a-záéíóúüñ]+`` matches ignoring case in such text: with
#: ``re.IGNORECASE`` the class also takes ``ı`` and ``ſ``, which ``str.lower`` leaves as they are (checked
#: over every code point by ``tests/unit/test_language.py``). Without the flag it runs twice as fast.
_WORD = re.compile(r"[a-záéíóúüñıſ]+")
#: Accented vowels of either case: ``[áéíóú]`` ignoring case.
_ACCENTED = re.compile(r"[áéíóúÁÉÍÓÚ]")

_ES = frozenset(
    "el la los las un una unos unas de del al y o que en por para con sin mi mis su sus es son está están "
    "estoy soy hola gracias buenos buenas días tardes noches saludo saludos atentamente cuenta tarjeta "
    "pedido número teléfono correo dirección nombre llamo favor quisiera necesito he ha han me se le lo "
    "pero como cuando muy ya también porque este esta estos estas hace desde hasta sobre usted ustedes "
    "nos fue sido tengo tiene quiero podría pueden puede señor señora estimado estimada cliente".split()
)
_EN = frozenset(
    "the a an of and or to in on for with without my your his her their is are was were be been am i "
    "hello hi dear thanks thank regards please would could can need my name account card order number "
    "phone email address this that these those have has had not but when very also because from until "
    "about you we it they our sincerely best kind customer".split()
)


def detect_language(text: str, languages: Sequence[str] = ("en", "es")) -> str:
    """Return the most likely of ``languages`` for ``text`` (the first one when undecided)."""
    if not languages:
        return "en"
    if len(languages) == 1:
        return languages[0]
    words = _WORD.findall(text.lower())
    if not words:
        return languages[0]
    es = sum(map(_ES.__contains__, words)) + 2 * (text.count("ñ") + text.count("¿") + text.count("¡"))
    en = sum(map(_EN.__contains__, words))
    # Accented vowels are common in Spanish, rare in English ticket text.
    es += len(_ACCENTED.findall(text)) // 2
    if es > en and "es" in languages:
        return "es"
    if en > es and "en" in languages:
        return "en"
    return languages[0]
