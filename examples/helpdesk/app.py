"""The example helpdesk: a small ticketing API that holds the real customer data Aduana protects.

It stands for the company's system of record in the demo, the end-to-end tests and the benchmarks. Every
``/api/...`` call needs the helpdesk's own bearer token, which only the gateway holds: the vendor never
sees it. Each :func:`make_app` call gets its own tickets and its own :data:`RECEIVED` log, so tests can run
side by side without sharing state.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from typing import Any, Final, TypedDict

from aiohttp import web
from aiohttp.typedefs import Handler

from .data import Ticket, seed_tickets
from .store import TicketStore

DEFAULT_API_TOKEN: Final = "helpdesk-secret-token"
SUPPORT_ADDRESS: Final = Address("Example Support", "support", "helpdesk.example")
#: Upper bounds for the test endpoints, so a typo cannot park a worker for an hour or fill the memory.
MAX_SLOW_SECONDS: Final = 300.0
MAX_BIG_KB: Final = 64 * 1024


class ReceivedHeaders(dict[str, str]):
    """Request headers as they arrived: names in the sender's case, looked up ignoring case as HTTP does.

    A plain dict otherwise (it compares, iterates and serializes like one), so both
    ``headers["Authorization"]`` and ``headers["authorization"]`` work whichever case the gateway sent.
    Repeated headers are joined with ``", "``.
    """

    def _key(self, name: str) -> str:
        """Return the stored spelling of ``name``, or ``name`` itself when there is none."""
        if super().__contains__(name):
            return name
        wanted = name.lower()
        return next((key for key in self if key.lower() == wanted), name)

    def __getitem__(self, name: str) -> str:
        return super().__getitem__(self._key(name))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and super().__contains__(self._key(name))

    def get(self, name: str, default: Any = None) -> Any:
        """Return the header's value (name ignoring case), or ``default``."""
        return super().get(self._key(name), default)

    def add(self, name: str, value: str) -> None:
        """Record one header line, joining a repeated header to the earlier value."""
        key = self._key(name)
        self[key] = f"{super().__getitem__(key)}, {value}" if super().__contains__(key) else value


class ReceivedRequest(TypedDict):
    """What arrived at the helpdesk, as a test sees it.

    ``headers`` is a :class:`ReceivedHeaders` (a dict that looks names up ignoring case); ``query`` keeps
    the first value of each name; ``body`` is the raw body decoded as UTF-8 (undecodable bytes replaced).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: ReceivedHeaders
    body: str


STORE: Final = web.AppKey("helpdesk.store", TicketStore)
#: Every request the helpdesk received, in arrival order (recorded before authentication and routing).
RECEIVED: Final = web.AppKey("helpdesk.received", list[ReceivedRequest])
_API_TOKEN: Final = web.AppKey("helpdesk.api_token", str)
_RECORD: Final = web.AppKey("helpdesk.record", bool)


def make_app(
    *,
    api_token: str = DEFAULT_API_TOKEN,
    tickets: Iterable[Mapping[str, Any]] | None = None,
    record: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> web.Application:
    """Build a helpdesk app with its own copy of ``tickets`` (the seed tickets when None).

    :param api_token: the bearer token every ``/api/...`` request must carry.
    :param record: append every request to ``app[RECEIVED]``; benchmarks turn it off to keep memory flat.
    :param clock: returns the current time, for ``created_at`` of new comments and notes.
    """
    if not api_token:
        raise ValueError("api_token must not be empty")
    app = web.Application(middlewares=[_json_errors, _record_request, _require_token])
    app[STORE] = TicketStore(
        seed_tickets() if tickets is None else tickets, clock or (lambda: datetime.now(UTC))
    )
    app[RECEIVED] = []
    app[_API_TOKEN] = api_token
    app[_RECORD] = record
    ticket = r"/api/tickets/{ticket_id:\d+}"
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/api/tickets", _list_tickets)
    app.router.add_get(ticket, _get_ticket)
    app.router.add_post(ticket + "/comments", _add_comment)
    app.router.add_post(ticket + "/notes", _add_note)
    app.router.add_get(ticket + "/summary.txt", _summary)
    app.router.add_get(ticket + "/attachment", _attachment)
    app.router.add_get(ticket + "/email", _email)
    app.router.add_get("/api/customers", _customer)
    app.router.add_get("/api/slow", _slow)
    app.router.add_get("/api/big", _big)
    return app


# --- middlewares ----------------------------------------------------------------------------------------


def _json(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # ensure_ascii=False: real helpdesks send "Lucía" as UTF-8, not as \u00ed escapes.
    dumps = functools.partial(json.dumps, ensure_ascii=False)
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


def _error(status: int, error: str, message: str, headers: Mapping[str, str] | None = None) -> web.Response:
    return _json({"error": error, "message": message}, status=status, headers=headers)


@web.middleware
async def _json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn aiohttp's own errors (unknown route, wrong method, body too large) into JSON like ours."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kept = {name: value for name, value in exc.headers.items() if name.lower() == "allow"}
        return _error(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason, kept)


@web.middleware
async def _record_request(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Append the request to ``app[RECEIVED]`` before anything can refuse it."""
    if request.app[_RECORD]:
        refused: web.HTTPRequestEntityTooLarge | None = None
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge as exc:
            raw, refused = b"", exc
        headers = ReceivedHeaders()
        for name, value in request.headers.items():
            headers.add(name, value)
        query = {name: request.query[name] for name in request.query}
        request.app[RECEIVED].append(
            {"method": request.method, "path": request.path, "query": query, "headers": headers,
             "body": raw.decode("utf-8", "replace")}
        )
        if refused is not None:
            raise refused
    return await handler(request)


@web.middleware
async def _require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse ``/api/...`` calls without the helpdesk's bearer token (``/healthz`` stays open)."""
    if request.path == "/api" or request.path.startswith("/api/"):
        expected = f"Bearer {request.app[_API_TOKEN]}".encode()
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            challenge = {"WWW-Authenticate": 'Bearer realm="helpdesk"'}
            return _error(401, "unauthorized", "missing or invalid bearer token", challenge)
    return await handler(request)


# --- handlers -------------------------------------------------------------------------------------------


def _ticket_or_404(request: web.Request) -> Ticket | web.Response:
    ticket_id = int(request.match_info["ticket_id"])
    ticket = request.app[STORE].get(ticket_id)
    return _error(404, "not_found", f"no ticket {ticket_id}") if ticket is None else ticket


async def _healthz(request: web.Request) -> web.Response:
    return _json({"ok": True})


async def _list_tickets(request: web.Request) -> web.Response:
    """``GET /api/tickets[?email=&q=]``: one line per ticket, with just enough to pick one."""
    found = request.app[STORE].search(email=request.query.get("email"), q=request.query.get("q"))
    return _json({"tickets": [
        {"id": t["id"], "subject": t["subject"], "status": t["status"], "language": t["language"],
         "requester": {"name": t["requester"]["name"], "email": t["requester"]["email"]}}
        for t in found
    ]})


async def _get_ticket(request: web.Request) -> web.Response:
    ticket = _ticket_or_404(request)
    return ticket if isinstance(ticket, web.Response) else _json(ticket)


async def _add_comment(request: web.Request) -> web.Response:
    """``POST /api/tickets/{id}/comments`` with JSON ``{"author": ..., "body": ...}``."""
    ticket = _ticket_or_404(request)
    if isinstance(ticket, web.Response):
        return ticket
    if request.content_type != "application/json":
        return _error(415, "unsupported_media_type", "send the comment as application/json")
    try:
        payload = await request.json()
    except (UnicodeDecodeError, LookupError, json.JSONDecodeError):
        return _error(400, "malformed_body", "the body is not valid JSON")
    fields = _required_text(payload, ("author", "body"))
    if isinstance(fields, web.Response):
        return fields
    comment = request.app[STORE].add_comment(ticket, author=fields["author"], body=fields["body"])
    return _json(comment, status=201)


async def _add_note(request: web.Request) -> web.Response:
    """``POST /api/tickets/{id}/notes`` with a form (``author``, ``note``): an internal note."""
    ticket = _ticket_or_404(request)
    if isinstance(ticket, web.Response):
        return ticket
    if request.content_type != "application/x-www-form-urlencoded":
        return _error(415, "unsupported_media_type", "send the note as application/x-www-form-urlencoded")
    try:
        form = await request.post()
    except (UnicodeDecodeError, LookupError):
        return _error(400, "malformed_body", "the form is not valid UTF-8")
    fields = _required_text(dict(form), ("author", "note"))
    if isinstance(fields, web.Response):
        return fields
    note = request.app[STORE].add_note(ticket, author=fields["author"], note=fields["note"])
    return _json(note, status=201)


def _required_text(payload: object, names: tuple[str, ...]) -> dict[str, str] | web.Response:
    """Pick ``names`` from ``payload``, each a non-blank string, or explain what is wrong."""
    if not isinstance(payload, dict):
        return _error(400, "malformed_body", "expected an object")
    for name in names:
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            return _error(400, "malformed_body", f"{name!r} must be a non-empty string")
    return {name: payload[name] for name in names}


async def _summary(request: web.Request) -> web.Response:
    """``GET /api/tickets/{id}/summary.txt``: the plain-text digest an agent pastes into a chat."""
    ticket = _ticket_or_404(request)
    if isinstance(ticket, web.Response):
        return ticket
    who = ticket["requester"]
    fields = ticket["custom_fields"]
    lines = [
        f"Ticket #{ticket['id']}: {ticket['subject']}",
        f"Status: {ticket['status']} | Priority: {ticket['priority']} | Language: {ticket['language']}",
        f"Opened: {ticket['created_at']}",
        f"Requester: {who['name']} <{who['email']}>",
        f"Phone: {who['phone'] or '(none)'}",
        f"Order: {fields['order_number']} ({fields['amount_eur']:.2f} EUR)",
        f"Tags: {', '.join(ticket['tags']) or '(none)'}",
        f"Comments: {len(ticket['comments'])}",
    ]
    if ticket["comments"]:
        last = ticket["comments"][-1]
        lines.append(f"Last comment by {last['author']} at {last['created_at']}")
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")


async def _attachment(request: web.Request) -> web.Response:
    """``GET /api/tickets/{id}/attachment``: an opaque binary file the gateway cannot inspect."""
    ticket = _ticket_or_404(request)
    if isinstance(ticket, web.Response):
        return ticket
    name = ticket["requester"]["name"].encode("latin-1", "replace")
    order = ticket["custom_fields"]["order_number"].encode("latin-1", "replace")
    stream = b"BT /F1 12 Tf 72 770 Td (Invoice " + order + b" for " + name + b") Tj ET"
    body = b"".join([
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n",
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n",
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n",
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>\nendobj\n",
        b"4 0 obj\n<< /Length %d >>\nstream\n" % len(stream), stream, b"\nendstream\nendobj\n",
        b"trailer\n<< /Root 1 0 R /Size 5 >>\n%%EOF\n",
    ])
    headers = {"Content-Disposition": f'attachment; filename="ticket-{ticket["id"]}-invoice.pdf"'}
    return web.Response(body=body, content_type="application/octet-stream", headers=headers)


async def _email(request: web.Request) -> web.Response:
    """``GET /api/tickets/{id}/email``: the customer's original message, as RFC 5322 bytes (CRLF).

    The body is quoted-printable when it holds non-ASCII text or lines over 78 characters (every seed ticket
    does), as mail clients send it: a value may be split by a soft line break (an ``=`` at the end of a
    line) and accented names are hex-escaped, so whoever inspects it has to decode the MIME part first.
    """
    ticket = _ticket_or_404(request)
    if isinstance(ticket, web.Response):
        return ticket
    message = EmailMessage(policy=SMTP)
    message["From"] = Address(ticket["requester"]["name"], addr_spec=ticket["requester"]["email"])
    message["To"] = SUPPORT_ADDRESS
    message["Subject"] = ticket["subject"]
    message["Date"] = datetime.fromisoformat(ticket["created_at"])
    message["Message-ID"] = f"<ticket-{ticket['id']}@mail.helpdesk.example>"
    body = ticket["body"] + "\n"
    message.set_content(body, cte=None if body.isascii() else "quoted-printable")
    message["Content-Language"] = ticket["language"]  # after set_content, which drops Content-* headers
    return web.Response(body=message.as_bytes(), content_type="message/rfc822")


async def _customer(request: web.Request) -> web.Response:
    """``GET /api/customers?email=``: the customer's contact record."""
    email = request.query.get("email")
    if not email:
        return _error(400, "missing_parameter", "the email query parameter is required")
    who = request.app[STORE].customer(email)
    if who is None:
        return _error(404, "not_found", "no customer with that email")
    return _json({"name": who["name"], "email": who["email"], "phone": who["phone"]})


async def _slow(request: web.Request) -> web.Response:
    """``GET /api/slow?seconds=N``: answer ``{}`` after N seconds, for timeout tests."""
    try:
        seconds = float(request.query.get("seconds", "1"))
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= MAX_SLOW_SECONDS:  # also refuses NaN
        return _error(400, "bad_parameter", f"seconds must be a number from 0 to {MAX_SLOW_SECONDS:g}")
    await asyncio.sleep(seconds)
    return _json({})


async def _big(request: web.Request) -> web.Response:
    """``GET /api/big?kb=N``: a JSON body of at least N KiB (at most one item more) of ticket-like text."""
    raw = request.query.get("kb", "64")
    if not raw.isdecimal() or not 0 <= int(raw) <= MAX_BIG_KB:
        return _error(400, "bad_parameter", f"kb must be a whole number from 0 to {MAX_BIG_KB}")
    target = int(raw) * 1024
    sources = list(request.app[STORE].tickets.values()) or seed_tickets()
    items: list[bytes] = []
    size = len(b'{"items":[]}')
    for n in itertools.count(1):
        if size >= target:
            break
        source = sources[(n - 1) % len(sources)]
        item = {"id": n, "ticket_id": source["id"], "subject": source["subject"],
                "requester": {"name": source["requester"]["name"], "email": source["requester"]["email"]},
                "body": source["body"]}
        items.append(json.dumps(item, ensure_ascii=False).encode())
        size += len(items[-1]) + (1 if n > 1 else 0)
    body = b'{"items":[' + b",".join(items) + b"]}"
    return web.Response(body=body, content_type="application/json", charset="utf-8")
