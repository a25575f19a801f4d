"""The example helpdesk over real HTTP on loopback: every endpoint, auth, and the received log."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from helpdesk import (
    RECEIVED,
    STORE,
    ReceivedHeaders,
    make_app,
    make_ticket,
    seed_tickets,
)

TOKEN = "test-helpdesk-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2024, 6, 1, 12, 30, tzinfo=UTC)


@pytest.fixture
def app() -> web.Application:
    return make_app(api_token=TOKEN, clock=lambda: NOW)


@pytest.fixture
async def client(app: web.Application) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


Client = TestClient[web.Request, web.Application]


async def get_json(client: Client, path: str, status: int = 200, **kwargs: Any) -> Any:
    response = await client.get(path, headers=AUTH, **kwargs)
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    return await response.json()


# --- auth and health ------------------------------------------------------------------------------------


async def test_healthz_needs_no_token(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"ok": True}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": TOKEN},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer helpdesk-secret-token"},  # the default token, not this app's
        {"X-Api-Token": TOKEN},
    ],
    ids=["none", "wrong", "no-scheme", "basic", "default-token", "other-header"],
)
@pytest.mark.parametrize("path", ["/api/tickets", "/api/tickets/1001", "/api/customers?email=x", "/api/nope"])
async def test_api_refuses_requests_without_the_token(
    client: Client, headers: dict[str, str], path: str
) -> None:
    response = await client.get(path, headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="helpdesk"'
    assert (await response.json())["error"] == "unauthorized"


async def test_unknown_routes_and_methods_answer_json(client: Client) -> None:
    assert (await get_json(client, "/api/nope", 404))["error"] == "not_found"
    assert (await get_json(client, "/api/tickets/abc", 404))["error"] == "not_found"
    response = await client.delete("/api/tickets/1001", headers=AUTH)
    assert response.status == 405
    assert "GET" in response.headers["Allow"]
    assert (await response.json())["error"] == "method_not_allowed"


# --- tickets --------------------------------------------------------------------------------------------


async def test_list_tickets_gives_one_short_line_per_ticket(client: Client) -> None:
    tickets = (await get_json(client, "/api/tickets"))["tickets"]
    assert [t["id"] for t in tickets] == [t["id"] for t in seed_tickets()]
    for ticket in tickets:
        assert set(ticket) == {"id", "subject", "status", "language", "requester"}
        assert set(ticket["requester"]) == {"name", "email"}
    assert {t["language"] for t in tickets} == {"en", "es"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"email": "lucia.fernandez@example.org"}, [1004]),
        ({"email": "LUCIA.Fernandez@Example.org"}, [1004]),
        ({"email": "lucia.fernandez@example"}, []),  # exact match, not a prefix
        ({"email": "nobody@example.com"}, []),
        ({"q": "order"}, [1001, 1007]),
        ({"q": "PED-2024"}, [1006]),
        ({"q": "cuenta"}, [1004, 1005]),
        ({"q": "cuenta", "email": "andrei.popescu@example.com"}, [1005]),
        ({"q": ""}, [t["id"] for t in seed_tickets()]),
    ],
)
async def test_list_tickets_filters(client: Client, query: dict[str, str], expected: list[int]) -> None:
    tickets = (await get_json(client, "/api/tickets", params=query))["tickets"]
    assert [t["id"] for t in tickets] == expected


async def test_get_ticket_returns_the_full_ticket(client: Client) -> None:
    response = await client.get("/api/tickets/1004", headers=AUTH)
    assert response.status == 200
    assert response.charset == "utf-8"
    assert "Lucía Fernández".encode() in await response.read()  # UTF-8, not \u escapes
    ticket = await response.json()
    assert set(ticket) == {
        "id", "subject", "status", "priority", "language", "created_at", "requester", "body", "payment",
        "comments", "tags", "custom_fields",
    }
    assert set(ticket["requester"]) == {"name", "email", "phone", "national_id", "address"}
    assert ticket["requester"]["national_id"] == "12345678Z"
    assert ticket["payment"]["card_number"] == "4000 0566 5566 5556"
    assert ticket["payment"]["iban"] == "ES91 2100 0418 4502 0005 1332"
    assert all(set(c) == {"id", "author", "body", "created_at"} for c in ticket["comments"])
    assert ticket["custom_fields"] == {"order_number": "PED-2024-31877", "amount_eur": 89.95, "vip": False}
    assert ticket == seed_tickets()[3]


async def test_get_missing_ticket_is_404_json(client: Client) -> None:
    body = await get_json(client, "/api/tickets/999", 404)
    assert body == {"error": "not_found", "message": "no ticket 999"}


async def test_posted_comment_is_stored_and_returned(client: Client, app: web.Application) -> None:
    comment = {"author": "Vendor Agent", "body": "Hola Lucía, ya hemos hecho la devolución."}
    response = await client.post("/api/tickets/1004/comments", json=comment, headers=AUTH)
    assert response.status == 201
    stored = await response.json()
    assert stored == {**comment, "id": stored["id"], "created_at": "2024-06-01T12:30:00Z"}
    ticket = await get_json(client, "/api/tickets/1004")
    assert ticket["comments"][-1] == stored
    assert stored["id"] > max(c["id"] for c in seed_tickets()[3]["comments"])
    second = await client.post("/api/tickets/1001/comments", json=comment, headers=AUTH)
    assert (await second.json())["id"] == stored["id"] + 1
    assert app[STORE].tickets[1004]["comments"][-1] == stored


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'"a comment"',
        b'{"body": "no author"}',
        b'{"author": "A"}',
        b'{"author": "A", "body": "   "}',
        b'{"author": 7, "body": "x"}',
        b'\xff\xfe{"author": "A", "body": "x"}',
    ],
)
async def test_malformed_comment_is_400_json(client: Client, body: bytes) -> None:
    headers = {**AUTH, "Content-Type": "application/json"}
    response = await client.post("/api/tickets/1001/comments", data=body, headers=headers)
    assert response.status == 400
    assert (await response.json())["error"] == "malformed_body"
    assert len((await get_json(client, "/api/tickets/1001"))["comments"]) == 2


async def test_comment_needs_json_and_an_existing_ticket(client: Client) -> None:
    form = await client.post("/api/tickets/1001/comments", data={"author": "A", "body": "x"}, headers=AUTH)
    assert form.status == 415
    missing = await client.post("/api/tickets/999/comments", json={"author": "A", "body": "x"}, headers=AUTH)
    assert missing.status == 404


async def test_summary_is_plain_text_with_the_contact_details(client: Client) -> None:
    response = await client.get("/api/tickets/1004/summary.txt", headers=AUTH)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    text = await response.text()
    for value in ("Lucía Fernández Ortega", "lucia.fernandez@example.org", "+34 612 345 678"):
        assert value in text
    assert "PED-2024-31877" in text
    assert (await client.get("/api/tickets/999/summary.txt", headers=AUTH)).status == 404


async def test_note_is_taken_as_a_form(client: Client, app: web.Application) -> None:
    form = {"author": "Vendor Agent", "note": "Customer Margaret Ellison called back."}
    response = await client.post("/api/tickets/1001/notes", data=form, headers=AUTH)
    assert response.status == 201
    note = await response.json()
    assert note == {**form, "id": note["id"], "ticket_id": 1001, "created_at": "2024-06-01T12:30:00Z"}
    assert app[STORE].notes[1001] == [note]
    app[STORE].tickets[5] = make_ticket(ticket_id=5)  # added after start, as the e2e tests do
    assert (await client.post("/api/tickets/5/notes", data=form, headers=AUTH)).status == 201
    assert "notes" not in await get_json(client, "/api/tickets/1001")  # internal: not in the ticket JSON


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": {"author": "A"}}, 400),
        ({"data": {"author": "A", "note": ""}}, 400),
        ({"json": {"author": "A", "note": "x"}}, 415),
    ],
)
async def test_bad_note_is_refused(client: Client, kwargs: dict[str, Any], status: int) -> None:
    response = await client.post("/api/tickets/1001/notes", headers=AUTH, **kwargs)
    assert response.status == status
    assert "error" in await response.json()


async def test_attachment_is_opaque_binary(client: Client) -> None:
    response = await client.get("/api/tickets/1001/attachment", headers=AUTH)
    assert response.status == 200
    assert response.content_type == "application/octet-stream"
    assert "ticket-1001-invoice.pdf" in response.headers["Content-Disposition"]
    body = await response.read()
    assert body.startswith(b"%PDF-1.4\n")
    assert body.rstrip().endswith(b"%%EOF")
    assert 200 <= len(body) <= 1000
    assert b"Margaret Ellison" in body  # why it must not pass uninspected


@pytest.mark.parametrize("email", ["daniel.okafor@example.net", "Daniel.Okafor@EXAMPLE.net"])
async def test_customer_lookup(client: Client, email: str) -> None:
    customer = await get_json(client, "/api/customers", params={"email": email})
    assert customer == {
        "name": "Daniel Okafor", "email": "daniel.okafor@example.net", "phone": "(217) 555-0147"
    }


async def test_customer_lookup_errors(client: Client) -> None:
    unknown = await get_json(client, "/api/customers", 404, params={"email": "x@example.com"})
    assert unknown["error"] == "not_found"
    assert (await get_json(client, "/api/customers", 400))["error"] == "missing_parameter"


async def test_email_is_a_proper_rfc822_message_in_spanish(client: Client) -> None:
    response = await client.get("/api/tickets/1004/email", headers=AUTH)
    assert response.status == 200
    assert response.content_type == "message/rfc822"
    raw = await response.read()
    assert b"\r\n" in raw
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends, as RFC 5322 wants
    assert "Fernández".encode() not in raw  # encoded words and quoted-printable, as mail clients send it
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert message["From"].addresses[0].display_name == "Lucía Fernández Ortega"
    assert message["From"].addresses[0].addr_spec == "lucia.fernandez@example.org"
    assert message["To"].addresses[0].addr_spec == "support@helpdesk.example"
    assert message["Subject"] == "Cargo duplicado y devolución a mi cuenta"
    assert message["Content-Language"] == "es"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n").rstrip("\n") == seed_tickets()[3]["body"]


async def test_email_in_english(client: Client) -> None:
    raw = await (await client.get("/api/tickets/1007/email", headers=AUTH)).read()
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert str(message["From"]) == "Kevin Marsh <kevin.marsh@example.com>"
    assert message["Subject"] == "Where is my order ORD-2024-60117?"
    assert "1Z999AA10123456784" in message.get_content()


async def test_slow_waits_then_answers(client: Client) -> None:
    started = time.monotonic()
    assert await get_json(client, "/api/slow", params={"seconds": "0.2"}) == {}
    assert time.monotonic() - started >= 0.2
    with pytest.raises(asyncio.TimeoutError):
        await client.get(
            "/api/slow", params={"seconds": "5"}, headers=AUTH, timeout=aiohttp.ClientTimeout(total=0.2)
        )


@pytest.mark.parametrize("seconds", ["abc", "-1", "nan", "inf", "1e9"])
async def test_slow_refuses_bad_durations(client: Client, seconds: str) -> None:
    assert (await get_json(client, "/api/slow", 400, params={"seconds": seconds}))["error"] == "bad_parameter"


@pytest.mark.parametrize("kb", [0, 1, 100, 1024])
async def test_big_returns_about_n_kib_of_ticket_text(client: Client, kb: int) -> None:
    response = await client.get("/api/big", params={"kb": str(kb)}, headers=AUTH)
    body = await response.read()
    assert kb * 1024 <= len(body) < kb * 1024 + 2048
    items = json.loads(body)["items"]
    assert all(set(item) == {"id", "ticket_id", "subject", "requester", "body"} for item in items)
    if kb:
        assert items[0]["requester"]["name"] == "Margaret Ellison"


@pytest.mark.parametrize("kb", ["-1", "x", "1.5", str(64 * 1024 + 1)])
async def test_big_refuses_bad_sizes(client: Client, kb: str) -> None:
    assert (await get_json(client, "/api/big", 400, params={"kb": kb}))["error"] == "bad_parameter"


# --- the received log and isolation ---------------------------------------------------------------------


async def test_received_log_records_what_arrived(client: Client, app: web.Application) -> None:
    assert app[RECEIVED] == []
    await client.post("/api/tickets/1001/comments?via=test", json={"author": "A", "body": "Hi Margaret"},
                      headers={**AUTH, "X-Trace": "1"})
    await client.get("/api/tickets", headers={"Authorization": "Bearer vendor-credential"})
    await client.get("/healthz")
    first, refused, health = app[RECEIVED]
    assert first["method"] == "POST"
    assert first["path"] == "/api/tickets/1001/comments"
    assert first["query"] == {"via": "test"}
    assert first["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert first["headers"]["authorization"] == f"Bearer {TOKEN}"  # names are looked up ignoring case
    assert first["headers"].get("X-TRACE") == "1"
    assert "content-type" in first["headers"]
    assert "X-Trace" in json.loads(json.dumps(first))["headers"]  # kept as sent, serializes as a dict
    assert json.loads(first["body"]) == {"author": "A", "body": "Hi Margaret"}
    assert refused["headers"]["authorization"] == "Bearer vendor-credential"  # logged even though refused
    assert (health["method"], health["path"], health["body"]) == ("GET", "/healthz", "")


async def test_received_log_records_refused_oversized_bodies(client: Client, app: web.Application) -> None:
    big = io.BytesIO(json.dumps({"author": "A", "body": "x" * (2 * 1024 * 1024)}).encode())
    response = await client.post("/api/tickets/1001/comments", data=big,
                                 headers={**AUTH, "Content-Type": "application/json"})
    assert response.status == 413
    assert (await response.json())["error"] == "request_entity_too_large"
    assert [(r["path"], r["body"]) for r in app[RECEIVED]] == [("/api/tickets/1001/comments", "")]


def test_received_headers_join_repeats_and_ignore_case() -> None:
    headers = ReceivedHeaders()
    headers.add("Accept", "text/plain")
    headers.add("accept", "application/json")
    headers.add("X-Request-Id", "abc")
    assert headers == {"Accept": "text/plain, application/json", "X-Request-Id": "abc"}
    assert headers["ACCEPT"] == "text/plain, application/json"
    assert headers.get("x-request-id") == "abc"
    assert headers.get("missing", "-") == "-"
    assert "x-request-id" in headers
    with pytest.raises(KeyError):
        headers["Authorization"]


async def test_recording_can_be_turned_off() -> None:
    app = make_app(record=False)
    async with TestClient(TestServer(app)) as test_client:
        assert (await test_client.get("/healthz")).status == 200
    assert app[RECEIVED] == []


async def test_each_app_has_its_own_tickets(client: Client) -> None:
    other = make_app(api_token=TOKEN)
    await client.post("/api/tickets/1001/comments", json={"author": "A", "body": "only here"}, headers=AUTH)
    assert len(other[STORE].tickets[1001]["comments"]) == 2
    assert len(seed_tickets()[0]["comments"]) == 2


async def test_given_tickets_are_served_and_copied() -> None:
    canary = make_ticket(
        ticket_id=7, name="Zed Canary", email="zed.canary@example.com", phone="(415) 555-0188"
    )
    tickets = [canary]
    app = make_app(api_token=TOKEN, tickets=tickets)
    async with TestClient(TestServer(app)) as test_client:
        listed = await get_json(test_client, "/api/tickets")
        assert listed["tickets"] == [{
            "id": 7, "subject": canary["subject"], "status": "open", "language": "en",
            "requester": {"name": "Zed Canary", "email": "zed.canary@example.com"},
        }]
        await test_client.post("/api/tickets/7/comments", json={"author": "A", "body": "x"}, headers=AUTH)
    assert tickets[0]["comments"] == []  # the caller's list is not changed
    assert make_app(tickets=[])[STORE].tickets == {}


def test_make_app_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="duplicate ticket id"):
        make_app(tickets=[make_ticket(ticket_id=1), make_ticket(ticket_id=1)])
    with pytest.raises(ValueError, match="api_token"):
        make_app(api_token="")
