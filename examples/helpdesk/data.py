"""Seed tickets for the example helpdesk, and a builder for tickets holding chosen values.

The tickets read like real support mail: personal data sits both in structured fields and inline in free
text (greetings, signatures, "call me at ..."), next to order numbers, amounts and tracking codes that
are *not* personal and must survive inspection unchanged. Every value is fictitious: emails use the
reserved ``example.*`` domains, US and UK phones the ranges set aside for fiction, cards and IBANs the
public test/documentation values, and the Spanish DNI/NIE are made-up numbers with valid check letters.

The values each seed ticket holds are indexed in :mod:`helpdesk.personal_data`.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Final, TypedDict


class Requester(TypedDict):
    """The customer who opened the ticket."""

    name: str
    email: str
    phone: str | None
    national_id: str | None
    address: str | None


class Payment(TypedDict):
    """Payment details the helpdesk copied from the order system."""

    card_number: str | None
    iban: str | None


class Comment(TypedDict):
    """One public comment in the ticket's conversation."""

    id: int
    author: str
    body: str
    created_at: str


class CustomFields(TypedDict):
    """Business fields: not personal data, used as distractors."""

    order_number: str
    amount_eur: float
    vip: bool


class Ticket(TypedDict):
    """A full ticket, as ``GET /api/tickets/{id}`` returns it."""

    id: int
    subject: str
    status: str
    priority: str
    language: str
    created_at: str
    requester: Requester
    body: str
    payment: Payment
    comments: list[Comment]
    tags: list[str]
    custom_fields: CustomFields


def make_ticket(
    *,
    ticket_id: int,
    subject: str = "Question about my order",
    body: str | None = None,
    language: str = "en",
    status: str = "open",
    priority: str = "normal",
    created_at: str = "2024-06-03T09:00:00Z",
    name: str = "Test Customer",
    email: str = "test.customer@example.com",
    phone: str | None = None,
    national_id: str | None = None,
    address: str | None = None,
    card_number: str | None = None,
    iban: str | None = None,
    comments: Iterable[tuple[str, str]] = (),
    tags: Sequence[str] = (),
    order_number: str = "ORD-TEST-0001",
    amount_eur: float = 0.0,
    vip: bool = False,
) -> Ticket:
    """Build one ticket with the given values, so a test can plant canaries exactly where it wants them.

    ``created_at`` is ISO 8601 in UTC (``2024-06-03T09:00:00Z``). ``comments`` are ``(author, body)`` pairs;
    comment n (from 1) gets id ``ticket_id * 100 + n`` and is dated n hours after the ticket. Without
    ``body``, a short message signed with ``name`` is used.
    """
    if body is None:
        body = f"Hello,\n\nI have a question about order {order_number}.\n\nThanks,\n{name}"
    return {
        "id": ticket_id,
        "subject": subject,
        "status": status,
        "priority": priority,
        "language": language,
        "created_at": created_at,
        "requester": {
            "name": name,
            "email": email,
            "phone": phone,
            "national_id": national_id,
            "address": address,
        },
        "body": body,
        "payment": {"card_number": card_number, "iban": iban},
        "comments": [
            {"id": ticket_id * 100 + n, "author": author, "body": text,
             "created_at": _hours_after(created_at, n)}
            for n, (author, text) in enumerate(comments, start=1)
        ],
        "tags": list(tags),
        "custom_fields": {"order_number": order_number, "amount_eur": amount_eur, "vip": vip},
    }


def _hours_after(timestamp: str, hours: int) -> str:
    return (datetime.fromisoformat(timestamp) + timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _build_seed() -> tuple[Ticket, ...]:
    """Build the seed once; :func:`seed_tickets` hands out deep copies so no caller shares state."""
    return (
        make_ticket(
            ticket_id=1001,
            subject="Charged twice for order ORD-2024-58213",
            status="open",
            priority="high",
            created_at="2024-05-02T09:14:00Z",
            name="Margaret Ellison",
            email="margaret.ellison@example.com",
            phone="(415) 555-0132",
            address="742 Evergreen Terrace, Springfield, IL 62704",
            card_number="4111 1111 1111 1111",
            body=(
                "Hi there,\n\n"
                "I was charged twice for order ORD-2024-58213 (USD 149.90 each time). Both charges went to "
                "my Visa, card number 4111 1111 1111 1111, on May 1st. Please refund the duplicate.\n\n"
                "You can reach me at (415) 555-0132 or margaret.ellison@example.com. The order ships to "
                "742 Evergreen Terrace, Springfield, IL 62704.\n\n"
                "Thanks,\nMargaret Ellison"
            ),
            comments=[
                ("Sam Rivera", (
                    "Hi Margaret, I can see two authorisations for ORD-2024-58213. I've asked "
                    "billing to void one of them (case 7731). It can take 3-5 business days."
                )),
                ("Margaret Ellison", (
                    "Thank you Sam. My husband Tom Ellison also uses that card, so please "
                    "don't call him about this - email me instead."
                )),
            ],
            tags=["billing", "refund", "duplicate-charge"],
            order_number="ORD-2024-58213",
            amount_eur=137.95,
        ),
        make_ticket(
            ticket_id=1002,
            subject="Incorrect charge on lab invoice INV-88412",
            status="pending",
            priority="normal",
            created_at="2024-05-03T14:41:00Z",
            name="Daniel Okafor",
            email="daniel.okafor@example.net",
            phone="(217) 555-0147",
            national_id="219-09-9999",
            address="1600 Maple Avenue, Apt 4B, Columbus, OH 43215",
            card_number="5555 5555 5555 4444",
            body=(
                "Hello,\n\n"
                "I received invoice INV-88412 for $412.50 for blood work done at Lakeside Diagnostics on "
                "03/14/2024 (diagnosis code E11.9, type 2 diabetes follow-up). My insurance, member ID "
                "W123456789, should have covered it in full.\n\n"
                "The billing office asked me to confirm my Social Security number: 219-09-9999. My date of "
                "birth is 07/22/1981. I paid the invoice with my Mastercard 5555 5555 5555 4444 before I "
                "noticed, so I would like that refunded. Please send the corrected invoice to "
                "1600 Maple Avenue, Apt 4B, Columbus, OH 43215 or to daniel.okafor@example.net.\n\n"
                "Best regards,\nDaniel Okafor\n(217) 555-0147"
            ),
            comments=[
                ("Nora Blake", (
                    "Hi Daniel, we've sent the claim back to your insurer with reference "
                    "CLM-20240503-17. We'll update you within 10 days."
                )),
                ("Daniel Okafor", (
                    "Thanks. The insurer wanted the SSN without dashes, 219099999, in case "
                    "you need it. My wife Grace Okafor handles our claims, her number is (217) 555-0199."
                )),
            ],
            tags=["billing", "medical", "insurance"],
            order_number="INV-88412",
            amount_eur=381.70,
        ),
        make_ticket(
            ticket_id=1003,
            subject="Copies of my records (MRN 00123456)",
            status="new",
            priority="normal",
            created_at="2024-05-06T08:02:00Z",
            name="Priya Raman",
            email="priya.raman@example.org",
            phone="+44 20 7946 0958",
            national_id="QQ 12 34 56 C",
            address="221B Baker Street, London NW1 6XE",
            iban="GB82 WEST 1234 5698 7654 32",
            body=(
                "Dear Riverside Clinic team,\n\n"
                "I'd like copies of my records from my visits on 12 February and 4 March 2024. My medical "
                "record number is MRN 00123456 and my date of birth is 19/08/1990. Please post them to "
                "221B Baker Street, London NW1 6XE, or email them to priya.raman@example.org.\n\n"
                "If the GBP 25 admin fee does not apply to subject access requests, please refund it to "
                "GB82 WEST 1234 5698 7654 32. My National Insurance number is QQ 12 34 56 C if you need to "
                "verify who I am.\n\n"
                "Kind regards,\nPriya Raman\n+44 20 7946 0958"
            ),
            comments=[
                ("Owen Hughes", (
                    "Dear Ms Raman, we have logged your request as SAR-2024-0042 and will "
                    "respond within one month."
                )),
            ],
            tags=["medical-records", "subject-access-request"],
            order_number="SAR-2024-0042",
            amount_eur=29.10,
        ),
        make_ticket(
            ticket_id=1004,
            subject="Cargo duplicado y devolución a mi cuenta",
            language="es",
            status="open",
            priority="high",
            created_at="2024-05-06T10:27:00Z",
            name="Lucía Fernández Ortega",
            email="lucia.fernandez@example.org",
            phone="+34 612 345 678",
            national_id="12345678Z",
            address="Calle Mayor 12, 3º B, 28013 Madrid",
            card_number="4000 0566 5566 5556",
            iban="ES91 2100 0418 4502 0005 1332",
            body=(
                "Hola:\n\n"
                "Me habéis cobrado dos veces el pedido PED-2024-31877 (89,95 € cada cargo) en la tarjeta "
                "4000 0566 5566 5556. Por favor, devolvedme el cargo duplicado en mi cuenta "
                "ES91 2100 0418 4502 0005 1332.\n\n"
                "Mis datos: Lucía Fernández Ortega, DNI 12345678Z, teléfono +34 612 345 678, correo "
                "lucia.fernandez@example.org. La dirección de facturación es Calle Mayor 12, 3º B, "
                "28013 Madrid.\n\n"
                "Un saludo,\nLucía"
            ),
            comments=[
                ("Marta Gil", (
                    "Hola Lucía, gracias por escribirnos. Hemos solicitado la devolución de "
                    "89,95 € (referencia DEV-5521). Tardará entre 3 y 5 días hábiles."
                )),
                ("Lucía Fernández Ortega", (
                    "Gracias, Marta. Si necesitáis llamarme, mejor por la tarde al "
                    "612 345 678."
                )),
            ],
            tags=["facturación", "devolución"],
            order_number="PED-2024-31877",
            amount_eur=89.95,
        ),
        make_ticket(
            ticket_id=1005,
            subject="No puedo acceder a mi cuenta",
            language="es",
            status="open",
            priority="urgent",
            created_at="2024-05-07T07:55:00Z",
            name="Andrei Popescu",
            email="andrei.popescu@example.com",
            phone="+34 611 223 344",
            national_id="X1234567L",
            address="Carrer de Mallorca 401, 4º 2ª, 08013 Barcelona",
            card_number="3782 822463 10005",
            body=(
                "Buenos días:\n\n"
                "Desde ayer no puedo iniciar sesión: la web dice que mi correo andrei.popescu@example.com no "
                "está registrado, pero tengo el pedido PED-2024-40210 en curso. Me registré con mi NIE "
                "X1234567L porque todavía no tengo DNI.\n\n"
                "Pagué con la American Express 3782 822463 10005. ¿Podéis comprobar si la cuenta está "
                "bloqueada? Mi móvil es el +34 611 223 344 y vivo en Carrer de Mallorca 401, 4º 2ª, "
                "08013 Barcelona.\n\n"
                "Gracias,\nAndrei Popescu"
            ),
            comments=[
                ("Marta Gil", (
                    "Hola Andrei, la cuenta estaba bloqueada tras tres intentos fallidos. Ya la "
                    "hemos desbloqueado; prueba de nuevo, por favor."
                )),
            ],
            tags=["cuenta", "acceso"],
            order_number="PED-2024-40210",
            amount_eur=254.00,
            vip=True,
        ),
        make_ticket(
            ticket_id=1006,
            subject="Cambio de dirección de envío del pedido PED-2024-29554",
            language="es",
            status="pending",
            priority="normal",
            created_at="2024-05-08T16:12:00Z",
            name="Javier Martín Ruiz",
            email="javier.martin@example.net",
            phone="+34 655 432 198",
            national_id="87654321X",
            address="Avenida de la Constitución 5, 2º izda., 41004 Sevilla",
            iban="ES79 2100 0813 6101 2345 6789",
            body=(
                "Hola,\n\n"
                "Me he mudado y necesito que el pedido PED-2024-29554 (3 unidades, 45,00 €) se envíe a mi "
                "nueva dirección: Avenida de la Constitución 5, 2º izda., 41004 Sevilla. La antigua era "
                "Calle de Alcalá 250, 1º A, 28028 Madrid.\n\n"
                "Para la domiciliación, mi cuenta es ES79 2100 0813 6101 2345 6789 y mi DNI 87654321X. Si "
                "hay algún problema, llamadme al +34 655 432 198 o escribid a javier.martin@example.net; si "
                "no contesto, llamad a mi pareja, Elena Sánchez, al +34 655 987 321.\n\n"
                "Saludos,\nJavier Martín"
            ),
            tags=["envío", "dirección"],
            order_number="PED-2024-29554",
            amount_eur=45.00,
        ),
        make_ticket(
            ticket_id=1007,
            subject="Where is my order ORD-2024-60117?",
            status="solved",
            priority="low",
            created_at="2024-05-09T11:30:00Z",
            name="Kevin Marsh",
            email="kevin.marsh@example.com",
            body=(
                "Hi,\n\n"
                "Order ORD-2024-60117 (2 x SKU TX-4410, total EUR 59.80) was due on 2024-05-28, but tracking "
                "number 1Z999AA10123456784 hasn't moved in five days. Version 2.4.1 of your app just says "
                "'in transit'.\n\n"
                "Cheers,\nKevin"
            ),
            comments=[
                ("Sam Rivera", (
                    "Hi Kevin, the carrier confirms delivery today before 18:00. Sorry for the "
                    "wait!"
                )),
            ],
            tags=["shipping"],
            order_number="ORD-2024-60117",
            amount_eur=59.80,
        ),
        make_ticket(
            ticket_id=1008,
            subject="Consulta sobre la factura F-2024-00981",
            language="es",
            status="pending",
            priority="low",
            created_at="2024-05-10T12:05:00Z",
            name="Carmen Navarro",
            email="carmen.navarro@example.org",
            body=(
                "Hola,\n\n"
                "¿Podéis enviarme la factura F-2024-00981 del pedido PED-2024-51002 con el IVA desglosado "
                "(21 %)? El importe total fue 121,00 € y la necesito para la contabilidad del segundo "
                "trimestre.\n\n"
                "Gracias,\nCarmen"
            ),
            tags=["facturación"],
            order_number="PED-2024-51002",
            amount_eur=121.00,
        ),
    )


_SEED: Final[tuple[Ticket, ...]] = _build_seed()


def seed_tickets() -> list[Ticket]:
    """Return the seed tickets (1001-1008; 1001-1003 and 1007 English, 1004-1006 and 1008 Spanish).

    Each call returns a fresh deep copy, so one app's comments never show up in another's tickets.
    """
    return copy.deepcopy(list(_SEED))
