"""Presidio's built-in recognizers that Aduana keeps, for English and Spanish text.

Kept: e-mail, IP, URL (with linear-time patterns, see :class:`WholeTokenUrlRecognizer`), date, US
SSN, MAC address and crypto wallet. Left out on purpose: Presidio's credit card, IBAN, phone and
Spanish NIF/NIE recognizers (``recognizers_pci`` and ``recognizers_es`` replace them with
checksummed, Spanish-aware versions) and the spaCy NER recognizer (the detection engine adds it,
bound to its NLP engine). A Presidio recognizer serves one language, so each is created twice; the
Spanish instance gets Spanish context words, plus the English ones Spanish tickets use anyway
("email", "IP").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import (
    CryptoRecognizer,
    DateRecognizer,
    EmailRecognizer,
    IpRecognizer,
    MacAddressRecognizer,
    UrlRecognizer,
    UsSsnRecognizer,
)

from gateway.hookspecs import hookimpl

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer


#: The top-level domains Presidio's URL recognizer knows, read from its own pattern.
PRESIDIO_TLDS: tuple[str, ...] = tuple(
    sorted(set(re.findall(r"\(\?:([a-z]+)\)", UrlRecognizer.BASE_URL_REGEX)), key=len, reverse=True)
)
_URL_CHARS = r"[^\s()<>\"']"
_URL_END = r"[^\s()<>\"'.,;:!?]"  # a URL does not end with the sentence's punctuation
_LABEL = r"[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?"
_HOST = rf"(?:www\d{{0,3}}\.)?(?:{_LABEL}\.){{1,20}}(?:{'|'.join(PRESIDIO_TLDS)})(?![a-z0-9\-@])"
_PATH = rf"(?::\d{{2,5}})?(?:[/?#](?:{_URL_CHARS}*{_URL_END})?)?"


#: Presidio's pattern names and scores, token-bound and linear-time.
URL_PATTERNS: tuple[Pattern, ...] = (
    Pattern("Standard Url", rf"(?i)(?<![\w@.\-/])https?://{_URL_CHARS}*{_URL_END}", 0.6),
    Pattern("Non schema URL", rf"(?i)(?<![\w@.\-/:])(?:{_HOST}){_PATH}", 0.5),
)


class WholeTokenUrlRecognizer(UrlRecognizer):
    """Presidio's URL recognizer (same entity, TLD list, scores, context) with linear-time patterns.

    Presidio's pattern tries up to 253 characters and 600 TLDs from every position, so a few
    kilobytes of dotted text ("a.a.a.…") take seconds to minutes: a denial of service on the
    inspection path. Here a URL must start a token (not after a letter, ``@``, ``.``, ``-`` or
    ``/``) and end one, which also stops the matches Presidio finds inside e-mail addresses
    (``gmail.com`` in ``ana@gmail.com``, ``ana.ca`` before it) and tokens (``….do`` in a JWT).
    """

    def __init__(self, supported_language: str = "en", context: list[str] | None = None) -> None:
        super().__init__(patterns=list(URL_PATTERNS), context=context, supported_language=supported_language)


#: The kept recognizers, each with the context words of its Spanish instance (the English instance
#: keeps Presidio's defaults).
KEPT: Sequence[tuple[Callable[..., EntityRecognizer], list[str]]] = (
    (EmailRecognizer, ["correo", "email", "e-mail", "mail", "dirección"]),
    (IpRecognizer, ["ip", "ipv4", "ipv6", "servidor", "conexión"]),
    (WholeTokenUrlRecognizer, ["url", "web", "enlace", "link", "página", "sitio"]),
    (
        DateRecognizer,
        ["fecha", "nacimiento", "nacido", "nacida", "nací", "cumpleaños", "caducidad", "dob"],
    ),
    (UsSsnRecognizer, ["ssn", "security"]),
    (
        MacAddressRecognizer,
        ["mac", "física", "ethernet"],
    ),
    (
        CryptoRecognizer,
        ["wallet", "cartera", "monedero", "bitcoin", "btc", "cripto", "criptomoneda"],
    ),
)


def kept_recognizers(language: str) -> list[EntityRecognizer]:
    """Return fresh instances of the kept Presidio recognizers for ``language`` ("en" or "es")."""
    if language == "en":
        return [factory(supported_language="en") for factory, _ in KEPT]
    return [factory(supported_language=language, context=spanish) for factory, spanish in KEPT]


@hookimpl(trylast=True)
def aduana_register_recognizers() -> list[EntityRecognizer]:
    """Register the kept Presidio recognizers for English and Spanish."""
    return kept_recognizers("en") + kept_recognizers("es")
