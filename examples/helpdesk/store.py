"""The example helpdesk's tickets, comments and internal notes, kept in memory per app."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict, cast

from .data import Comment, Requester, Ticket


class Note(TypedDict):
    """An internal note: seen by the company's agents only, never part of the ticket's JSON."""

    id: int
    ticket_id: int
    author: str
    note: str
    created_at: str


class TicketStore:
    """The tickets of one helpdesk app, in memory."""

    def __init__(self, tickets: Iterable[Mapping[str, Any]], clock: Callable[[], datetime]) -> None:
        """Copy ``tickets`` (the caller's list is never changed) and index them by id.

        :raises ValueError: when two tickets share an id.
        """
        self.tickets: dict[int, Ticket] = {}
        for ticket in tickets:
            if ticket["id"] in self.tickets:
                raise ValueError(f"duplicate ticket id {ticket['id']!r}")
            self.tickets[ticket["id"]] = cast(Ticket, copy.deepcopy(dict(ticket)))
        self.notes: dict[int, list[Note]] = {ticket_id: [] for ticket_id in self.tickets}
        self._clock = clock
        last_id = max((c["id"] for t in self.tickets.values() for c in t["comments"]), default=0)
        self._next_id = itertools.count(last_id + 1)

    def get(self, ticket_id: int) -> Ticket | None:
        """Return the ticket, or None."""
        return self.tickets.get(ticket_id)

    def search(self, *, email: str | None, q: str | None) -> list[Ticket]:
        """Tickets whose requester email equals ``email`` (ignoring case) and whose subject contains ``q``."""
        found = []
        for ticket in sorted(self.tickets.values(), key=lambda t: t["id"]):
            if email is not None and ticket["requester"]["email"].casefold() != email.casefold():
                continue
            if q and q.casefold() not in ticket["subject"].casefold():
                continue
            found.append(ticket)
        return found

    def customer(self, email: str) -> Requester | None:
        """Return the requester of the first ticket opened with ``email`` (ignoring case), or None."""
        tickets = self.search(email=email, q=None)
        return tickets[0]["requester"] if tickets else None

    def add_comment(self, ticket: Ticket, *, author: str, body: str) -> Comment:
        """Append a public comment to ``ticket`` and return it."""
        comment: Comment = {
            "id": next(self._next_id), "author": author, "body": body, "created_at": self._now()
        }
        ticket["comments"].append(comment)
        return comment

    def add_note(self, ticket: Ticket, *, author: str, note: str) -> Note:
        """Store an internal note on ``ticket`` and return it."""
        stored: Note = {
            "id": next(self._next_id),
            "ticket_id": ticket["id"],
            "author": author,
            "note": note,
            "created_at": self._now(),
        }
        # setdefault: a test may put a ticket straight into ``tickets`` after the store was built.
        self.notes.setdefault(ticket["id"], []).append(stored)
        return stored

    def _now(self) -> str:
        return self._clock().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
