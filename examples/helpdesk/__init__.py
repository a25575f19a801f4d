"""An example helpdesk (a mini Zendesk) for Aduana's demo, end-to-end tests and benchmarks.

It is not part of the ``gateway`` package: it stands for the company's system of record that Aduana sits in
front of. Build one with :func:`make_app`; run one with ``python -m helpdesk``.
"""

from .app import (
    DEFAULT_API_TOKEN,
    RECEIVED,
    STORE,
    ReceivedHeaders,
    ReceivedRequest,
    make_app,
)
from .data import (
    Comment,
    CustomFields,
    Payment,
    Requester,
    Ticket,
    make_ticket,
    seed_tickets,
)
from .personal_data import SEEDED_DISTRACTORS, SEEDED_PERSONAL_DATA
from .store import Note, TicketStore

__all__ = [
    "DEFAULT_API_TOKEN",
    "RECEIVED",
    "SEEDED_DISTRACTORS",
    "SEEDED_PERSONAL_DATA",
    "STORE",
    "Comment",
    "CustomFields",
    "Note",
    "Payment",
    "ReceivedHeaders",
    "ReceivedRequest",
    "Requester",
    "Ticket",
    "TicketStore",
    "make_app",
    "make_ticket",
    "seed_tickets",
]
