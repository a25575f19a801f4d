"""The performance benchmark's corpus: English and Spanish helpdesk tickets of about 0.5, 2 and 20 KB.

Every ticket has the example helpdesk's shape (:class:`helpdesk.Ticket`), so ``helpdesk.make_app(tickets=...)``
serves it unchanged at ``GET /api/tickets/{id}``. Personal data sits both in structured fields (name, email,
phone, national id, address, card, IBAN) and inline in free text (greetings, signatures, "call me at ...",
card and IBAN numbers, DNI/NIE), next to non-personal distractors that must survive inspection: order and
invoice numbers, amounts, tracking codes, SKUs, versions, times. Every value is fictitious but valid where a
recognizer checks it (Luhn for cards, mod 97 for IBANs, the check letter for DNI/NIE), so detection does the
same work it does on real mail. Text never holds card security codes or passwords: the packs block those
and the benchmark measures messages that go through.

Deterministic: the same seed gives byte-identical JSON. ``python bench/perf/corpus.py --out FILE`` writes it.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Size classes: label → target size of a ticket's JSON in bytes (UTF-8, as the helpdesk sends it).
SIZES: dict[str, int] = {"0.5KB": 512, "2KB": 2048, "20KB": 20480}
LANGUAGES = ("en", "es")
#: First ticket id of each size class (ids never collide across classes).
ID_BASE = {"0.5KB": 10_000, "2KB": 20_000, "20KB": 30_000}

_EN_FIRST = ["Margaret", "Daniel", "Olivia", "James", "Priya", "Thomas", "Grace", "Kevin", "Hannah", "Marcus",
             "Emily", "Samuel", "Chloe", "Robert", "Aisha", "Liam", "Natalie", "George", "Sophie", "Ethan"]
_EN_LAST = ["Ellison", "Okafor", "Bennett", "Harrington", "Patel", "Whitaker", "Sullivan", "Donovan", "Fletcher",
            "Morrison", "Caldwell", "Hughes", "Kowalski", "Brennan", "Lambert", "Thornton", "Reyes", "Walsh"]
_ES_FIRST = ["Lucía", "Javier", "María José", "Alejandro", "Carmen", "Sergio", "Nuria", "Pablo", "Elena", "Andrés",
             "Rocío", "Álvaro", "Marta", "Diego", "Beatriz", "Raúl", "Inés", "Tomás", "Pilar", "Hugo"]
_ES_LAST = ["Fernández", "García", "Martínez", "López", "Sánchez", "Ortega", "Navarro", "Romero", "Iglesias",
            "Castillo", "Delgado", "Moreno", "Vázquez", "Herrera", "Gil", "Rubio", "Molina", "Serrano"]
_EN_STREETS = ["Evergreen Terrace", "Maple Avenue", "Oak Street", "Harbor Road", "Lincoln Way", "Cedar Lane",
               "Park Boulevard", "Willow Drive", "Main Street", "Hillcrest Road"]
_EN_CITIES = [("Springfield", "IL"), ("Columbus", "OH"), ("Portland", "OR"), ("Austin", "TX"),
              ("Madison", "WI"), ("Denver", "CO"), ("Raleigh", "NC"), ("Tucson", "AZ")]
_ES_STREETS = ["Calle Mayor", "Avenida de la Constitución", "Calle de Alcalá", "Paseo de Gracia",
               "Calle Sierpes", "Gran Vía", "Calle Colón", "Avenida del Puerto", "Calle Real", "Rambla Nova"]
_ES_CITIES = [("Madrid", "28013"), ("Barcelona", "08007"), ("Sevilla", "41004"), ("Valencia", "46002"),
              ("Bilbao", "48001"), ("Zaragoza", "50001"), ("Málaga", "29005"), ("Tarragona", "43001")]
_PRODUCTS = ["wireless router X200", "standing desk frame", "espresso machine", "noise-cancelling headset",
             "4K monitor", "ergonomic chair", "smart thermostat", "laptop dock"]
_PRODUCTOS = ["router inalámbrico X200", "cafetera espresso", "monitor 4K", "silla ergonómica",
              "auriculares con cancelación de ruido", "termostato inteligente", "base para portátil"]
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these are every second digit counting from the check digit
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def _card(rng: random.Random) -> str:
    digits = _luhn_complete(rng.choice(["4", "51", "52", "53", "54", "55"]), 16, rng)
    return " ".join(digits[i:i + 4] for i in range(0, 16, 4))


def _iban_es(rng: random.Random) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(20))
    # ISO 7064 mod 97-10: move "ES00" to the end, letters as numbers (E=14, S=28).
    check = 98 - int(bban + "142800") % 97
    iban = f"ES{check:02d}{bban}"
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def _dni(rng: random.Random) -> str:
    n = rng.randrange(10_000_000, 99_999_999)
    return f"{n}{_DNI_LETTERS[n % 23]}"


def _nie(rng: random.Random) -> str:
    head = rng.randrange(3)
    n = rng.randrange(1_000_000, 9_999_999)
    return f"{'XYZ'[head]}{n}{_DNI_LETTERS[int(f'{head}{n}') % 23]}"


def _email(first: str, last: str, rng: random.Random) -> str:
    plain = {"á": "a", "é": "e", "í": "i", "ó": "o", "ú": "u", "ñ": "n", "Á": "a", " ": ""}
    local = "".join(plain.get(c, c) for c in f"{first}.{last}".lower())
    return f"{local}{rng.randrange(1, 99)}@{rng.choice(['example.com', 'example.net', 'example.org'])}"


@dataclass(frozen=True)
class Person:
    """One fictitious customer and the values the templates plant."""

    name: str
    first: str
    email: str
    phone: str
    national_id: str | None
    address: str
    card: str
    iban: str


def _person(language: str, rng: random.Random) -> Person:
    if language == "es":
        first, last = rng.choice(_ES_FIRST), f"{rng.choice(_ES_LAST)} {rng.choice(_ES_LAST)}"
        phone = f"+34 6{rng.randrange(10, 99)} {rng.randrange(100, 999)} {rng.randrange(100, 999)}"
        street, (city, postcode) = rng.choice(_ES_STREETS), rng.choice(_ES_CITIES)
        address = f"{street} {rng.randrange(1, 120)}, {rng.randrange(1, 8)}º, {postcode} {city}"
        national_id: str | None = _dni(rng) if rng.random() < 0.6 else _nie(rng)
    else:
        first, last = rng.choice(_EN_FIRST), rng.choice(_EN_LAST)
        phone = f"({rng.choice([212, 217, 312, 415, 503, 617])}) 555-01{rng.randrange(0, 99):02d}"
        street, (city, state) = rng.choice(_EN_STREETS), rng.choice(_EN_CITIES)
        address = f"{rng.randrange(10, 9999)} {street}, {city}, {state} {rng.randrange(10000, 99999)}"
        national_id = None
    return Person(f"{first} {last}", first, _email(first, last.split()[0], rng), phone, national_id, address,
                  _card(rng), _iban_es(rng))


def _distractors(rng: random.Random) -> dict[str, str]:
    """Non-personal values that look like numbers and codes (they must come out unchanged)."""
    return {
        "order": f"ORD-2024-{rng.randrange(10000, 99999)}",
        "invoice": f"INV-{rng.randrange(10000, 99999)}",
        "amount": f"{rng.randrange(5, 900)}.{rng.randrange(0, 99):02d}",
        "tracking": f"1Z{rng.randrange(100, 999)}AA1{rng.randrange(10**9, 10**10 - 1)}",
        "sku": f"SKU-{rng.choice('ABCDEFGH')}{rng.randrange(100, 999)}-{rng.randrange(10, 99)}",
        "version": f"{rng.randrange(1, 9)}.{rng.randrange(0, 20)}.{rng.randrange(0, 9)}",
        "case": str(rng.randrange(1000, 9999)),
        "hours": str(rng.randrange(2, 10)),
    }


# Sentences with placeholders: {name} {first} {email} {phone} {address} {card} {iban} {nid} (personal) and
# {order} {invoice} {amount} {tracking} {sku} {version} {case} {hours} {product} (not personal).
_EN_SENTENCES = [
    "I was charged twice for order {order} (USD {amount} each time).",
    "Both charges went to my card number {card}, please refund the duplicate.",
    "You can reach me at {phone} or {email} any afternoon.",
    "The order ships to {address}.",
    "My name is {name} and I opened this ticket last week.",
    "The {product} arrived with a cracked panel; the box label says {sku}.",
    "Tracking shows {tracking} but nothing moved for {hours} days.",
    "Firmware {version} did not fix the reboot loop.",
    "Invoice {invoice} lists the wrong total, it should be {amount}.",
    "Please wire the refund to my account {iban} instead of the card.",
    "My partner {first2} handles our returns, their number is {phone2}.",
    "We escalated this to billing under case {case}; expect an answer within {hours} business days.",
    "I have restarted the device, cleared the cache and updated to version {version} as suggested.",
    "Could you also confirm the delivery window for order {order}?",
    "Our office is closed on weekends, so a weekday delivery works best.",
    "The replacement unit worked for two days and then showed the same error code E{case}.",
]
_ES_SENTENCES = [
    "Me han cobrado dos veces el pedido {order} ({amount} EUR cada vez).",
    "Los cargos se hicieron con mi tarjeta {card}, por favor devuelvan el duplicado.",
    "Pueden llamarme al {phone} o escribirme a {email} por las tardes.",
    "El pedido debe enviarse a {address}.",
    "Me llamo {name} y abrí esta incidencia la semana pasada.",
    "Mi DNI es {nid}, por si lo necesitan para la factura.",
    "El {product} llegó con la carcasa rota; la etiqueta de la caja dice {sku}.",
    "El seguimiento {tracking} no se ha movido en {hours} días.",
    "La versión {version} del firmware no soluciona el reinicio continuo.",
    "La factura {invoice} tiene un importe incorrecto, debería ser {amount} EUR.",
    "Prefiero que hagan la devolución a mi cuenta {iban} en lugar de a la tarjeta.",
    "Mi pareja, {first2}, se encarga de las devoluciones; su teléfono es el {phone2}.",
    "Hemos escalado el caso {case} a facturación; la respuesta tardará unos {hours} días laborables.",
    "He reiniciado el equipo y actualizado a la versión {version} como me indicaron.",
    "¿Podrían confirmar también la franja de entrega del pedido {order}?",
    "La oficina cierra los fines de semana, así que mejor una entrega entre semana.",
]
_GREETING = {"en": "Hi there,\n\n", "es": "Hola,\n\n"}
_SIGN_OFF = {"en": "\n\nThanks,\n{name}", "es": "\n\nUn saludo,\n{name}"}
_AGENTS = {"en": ["Sam Rivera", "Nora Blake", "Support Team"], "es": ["Equipo de Soporte", "Agente 12"]}


def _sentence_maker(language: str, person: Person, rng: random.Random) -> Callable[[], str]:
    """A function returning one more filled-in sentence for ``person``'s ticket."""
    pool = _ES_SENTENCES if language == "es" else _EN_SENTENCES
    other = _person(language, rng)
    deck: list[str] = []

    def make() -> str:
        if not deck:  # every template once before any repeats, so a body does not say the same thing twice
            deck.extend(rng.sample(pool, len(pool)))
        values = {**_distractors(rng), "name": person.name, "first": person.first, "email": person.email,
                  "phone": person.phone, "address": person.address, "card": person.card, "iban": person.iban,
                  "nid": person.national_id or "", "first2": other.first, "phone2": other.phone,
                  "product": rng.choice(_PRODUCTOS if language == "es" else _PRODUCTS)}
        return deck.pop().format(**values)

    return make


def _size(ticket: Mapping[str, Any]) -> int:
    return len(json.dumps(ticket, ensure_ascii=False).encode())


def make_ticket(ticket_id: int, language: str, target: int, rng: random.Random) -> dict[str, Any]:
    """One ticket whose JSON reaches about ``target`` bytes in whole sentences (never over 110%)."""
    person = _person(language, rng)
    more = _sentence_maker(language, person, rng)
    d = _distractors(rng)
    subject = (f"Pedido {d['order']}: cargo duplicado" if language == "es" else f"Order {d['order']}: double charge")
    ticket: dict[str, Any] = {
        "id": ticket_id, "subject": subject, "status": rng.choice(["open", "pending"]),
        "priority": rng.choice(["low", "normal", "high"]), "language": language,
        "created_at": f"2024-0{rng.randrange(1, 9)}-1{rng.randrange(0, 9)}T09:{rng.randrange(10, 59)}:00Z",
        "requester": {"name": person.name, "email": person.email, "phone": person.phone,
                      "national_id": person.national_id, "address": person.address},
        "body": "",
        "payment": {"card_number": person.card, "iban": person.iban},
        "comments": [], "tags": ["billing", "refund", language],
        "custom_fields": {"order_number": d["order"], "amount_eur": float(d["amount"]), "vip": rng.random() < 0.2},
    }
    if target < 1024:
        # A short ticket (a chat line, a quick question): only the fields such a message has.
        ticket = {"id": ticket_id, "subject": subject, "status": ticket["status"], "language": language,
                  "requester": {"name": person.name, "email": person.email}, "body": "", "comments": [],
                  "custom_fields": {"order_number": d["order"], "amount_eur": float(d["amount"])}}
    sentences: list[str] = []

    def body() -> str:
        return _GREETING[language] + " ".join(sentences) + _SIGN_OFF[language].format(name=person.name)

    # The body takes sentences up to about 1.5 KB; comments (one to four sentences each) carry the rest.
    for _ in range(200):
        sentence = more()
        if len(body()) < 1500:
            sentences.append(sentence)
            ticket["body"] = body()
            if _size(ticket) > target * 1.1:
                sentences.pop()
                ticket["body"] = body()
                break
            if _size(ticket) >= target:
                break
            continue
        author = rng.choice([person.name, *_AGENTS[language]])
        text = " ".join([sentence] + [more() for _ in range(rng.randrange(0, 4))])
        n = len(ticket["comments"]) + 1
        ticket["comments"].append({"id": ticket_id * 100 + n, "author": author, "body": text,
                                   "created_at": f"2024-09-{1 + n % 28:02d}T1{n % 10}:00:00Z"})
        if _size(ticket) > target * 1.1:
            ticket["comments"].pop()
            break
        if _size(ticket) >= target:
            break
    if not ticket["body"]:
        ticket["body"] = body()
    return ticket


def generate(seed: int = 7, per_class: int = 10) -> dict[str, list[dict[str, Any]]]:
    """Size label → ``per_class`` tickets per language (English first, then Spanish), same order every run."""
    rng = random.Random(seed)
    out: dict[str, list[dict[str, Any]]] = {}
    for label, target in SIZES.items():
        tickets = []
        for li, language in enumerate(LANGUAGES):
            for i in range(per_class):
                tickets.append(make_ticket(ID_BASE[label] + li * 1000 + i, language, target, rng))
        out[label] = tickets
    return out


def strings(value: Any) -> Iterator[str]:
    """Every string value of a JSON document, depth first (what a JSON content handler inspects)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-class", type=int, default=10, help="Tickets per size class and language.")
    parser.add_argument("--out", type=Path, help="Write {size: [ticket, ...]} as JSON here (default: stats only).")
    args = parser.parse_args()
    corpus = generate(args.seed, args.per_class)
    for label, tickets in corpus.items():
        sizes = [_size(t) for t in tickets]
        print(f"{label}: {len(tickets)} tickets, {min(sizes)}–{max(sizes)} bytes, mean {sum(sizes) / len(sizes):.0f}")
    if args.out:
        args.out.write_text(json.dumps(corpus, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
