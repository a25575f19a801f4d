"""Index of the values planted in the seed tickets of :mod:`helpdesk.data`, for tests to assert on.

:data:`SEEDED_PERSONAL_DATA` lists, per ticket, the personal values a leak test should never see leave
the company; :data:`SEEDED_DISTRACTORS` the non-personal values a false-positive test should see pass
untouched. ``tests/examples/test_helpdesk_data.py`` checks that every value listed really is in its ticket.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

_Table = Mapping[int, Mapping[str, tuple[str, ...]]]


def _frozen(table: _Table) -> _Table:
    """Make a read-only view of a table, so a test cannot change what the next test sees."""
    return MappingProxyType({key: MappingProxyType(dict(value)) for key, value in table.items()})


#: Per seed ticket, the personal values it holds (anywhere: fields, subject, body, comments), by entity
#: type. Entity names follow Presidio where it has one; ``ADDRESS``, ``DATE_OF_BIRTH``, ``HEALTH_PLAN_ID``
#: and ``MEDICAL_RECORD_NUMBER`` are ours. Not listed: lone first names in greetings and signatures
#: ("Hi Margaret", "Gracias,\nLucía"), and the names of the company's own agents in comments.
SEEDED_PERSONAL_DATA: Final = _frozen({
    1001: {
        "PERSON": ("Margaret Ellison", "Tom Ellison"),
        "EMAIL_ADDRESS": ("margaret.ellison@example.com",),
        "PHONE_NUMBER": ("(415) 555-0132",),
        "CREDIT_CARD": ("4111 1111 1111 1111",),
        "ADDRESS": ("742 Evergreen Terrace, Springfield, IL 62704",),
    },
    1002: {
        "PERSON": ("Daniel Okafor", "Grace Okafor"),
        "EMAIL_ADDRESS": ("daniel.okafor@example.net",),
        "PHONE_NUMBER": ("(217) 555-0147", "(217) 555-0199"),
        "US_SSN": ("219-09-9999", "219099999"),
        "CREDIT_CARD": ("5555 5555 5555 4444",),
        "HEALTH_PLAN_ID": ("W123456789",),
        "DATE_OF_BIRTH": ("07/22/1981",),
        "ADDRESS": ("1600 Maple Avenue, Apt 4B, Columbus, OH 43215",),
    },
    1003: {
        "PERSON": ("Priya Raman",),
        "EMAIL_ADDRESS": ("priya.raman@example.org",),
        "PHONE_NUMBER": ("+44 20 7946 0958",),
        "UK_NINO": ("QQ 12 34 56 C",),
        "MEDICAL_RECORD_NUMBER": ("MRN 00123456",),
        "IBAN_CODE": ("GB82 WEST 1234 5698 7654 32",),
        "DATE_OF_BIRTH": ("19/08/1990",),
        "ADDRESS": ("221B Baker Street, London NW1 6XE",),
    },
    1004: {
        "PERSON": ("Lucía Fernández Ortega",),
        "EMAIL_ADDRESS": ("lucia.fernandez@example.org",),
        "PHONE_NUMBER": ("+34 612 345 678", "612 345 678"),
        "ES_NIF": ("12345678Z",),
        "CREDIT_CARD": ("4000 0566 5566 5556",),
        "IBAN_CODE": ("ES91 2100 0418 4502 0005 1332",),
        "ADDRESS": ("Calle Mayor 12, 3º B, 28013 Madrid",),
    },
    1005: {
        "PERSON": ("Andrei Popescu",),
        "EMAIL_ADDRESS": ("andrei.popescu@example.com",),
        "PHONE_NUMBER": ("+34 611 223 344",),
        "ES_NIE": ("X1234567L",),
        "CREDIT_CARD": ("3782 822463 10005",),
        "ADDRESS": ("Carrer de Mallorca 401, 4º 2ª, 08013 Barcelona",),
    },
    1006: {
        "PERSON": ("Javier Martín Ruiz", "Javier Martín", "Elena Sánchez"),
        "EMAIL_ADDRESS": ("javier.martin@example.net",),
        "PHONE_NUMBER": ("+34 655 432 198", "+34 655 987 321"),
        "ES_NIF": ("87654321X",),
        "IBAN_CODE": ("ES79 2100 0813 6101 2345 6789",),
        "ADDRESS": (
            "Avenida de la Constitución 5, 2º izda., 41004 Sevilla",
            "Calle de Alcalá 250, 1º A, 28028 Madrid",
        ),
    },
    1007: {
        "PERSON": ("Kevin Marsh",),
        "EMAIL_ADDRESS": ("kevin.marsh@example.com",),
    },
    1008: {
        "PERSON": ("Carmen Navarro",),
        "EMAIL_ADDRESS": ("carmen.navarro@example.org",),
    },
})

#: Per seed ticket, non-personal values (order and invoice numbers, amounts, codes) in its text that
#: inspection must leave exactly as they are.
SEEDED_DISTRACTORS: Final[Mapping[int, tuple[str, ...]]] = MappingProxyType({
    1001: ("ORD-2024-58213", "USD 149.90", "case 7731"),
    1002: ("INV-88412", "$412.50", "CLM-20240503-17"),
    1003: ("SAR-2024-0042", "GBP 25"),
    1004: ("PED-2024-31877", "89,95 €", "DEV-5521"),
    1005: ("PED-2024-40210",),
    1006: ("PED-2024-29554", "45,00 €"),
    1007: ("ORD-2024-60117", "SKU TX-4410", "EUR 59.80", "1Z999AA10123456784", "2.4.1"),
    1008: ("F-2024-00981", "PED-2024-51002", "121,00 €", "21 %"),
})
