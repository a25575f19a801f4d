"""Leak scan: drive the demo's traffic with canary values through a real ``aduana serve`` process (on
SQLite, and on PostgreSQL), then search every byte Aduana wrote for any form of any canary.

Searched: every file under the gateway's directory (store with its WAL and journal, log, stderr,
audit exports and their manifests, the audit sink's copy), every file the gateway and CLI processes
wrote under their own ``TMPDIR``, a ``pg_dump`` of the PostgreSQL schema and the test cluster's files.
Forms: raw UTF-8, JSON-escaped, URL-encoded, hex, and base64 at each of the three alignments, of the
value and of its lower-case and separator-free spellings. Expected hits: zero.
"""

from __future__ import annotations

import base64
import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import aiohttp
import pytest
from gateway_process import Served, free_port, run_cli, write_config

from harness import bearer, start_helpdesk
from helpdesk import RECEIVED, make_ticket
from helpdesk.app import STORE

# Several `aduana` processes each load the detection models: generous under a loaded CI machine.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-leak-scan"), pytest.mark.timeout(600)]

CANARY = {
    "name": "Fermín Arrieta-Zubizarreta",
    "email": "fermin.leakscan@example.net",
    "phone": "+34 677 112 233",
    "dni": "39740191D",
    "iban": "ES66 2085 0731 1601 2345 6789",
    "card": "4556 7375 8689 9855",
    "secret": "canario-secreto-Ñandú-7741",
}


def spellings(value: str) -> set[str]:
    compact = re.sub(r"[\s.\-]", "", value)
    return {value, compact, value.lower(), compact.lower()}


def _b64_cores(raw: bytes) -> set[bytes]:
    """The part of base64(… + raw + …) that is the same wherever ``raw`` sits (three alignments)."""
    cores = set()
    for shift, skip in ((0, 0), (1, 2), (2, 3)):  # characters that mix in the bytes before ``raw``
        body = base64.b64encode(b"\0" * shift + raw).rstrip(b"=")[skip:-1]  # the last one mixes what follows
        cores |= {body, body.replace(b"+", b"-").replace(b"/", b"_")}
    return cores


def forms(value: str) -> set[bytes]:
    """Every encoding of ``value`` the scan looks for."""
    out: set[bytes] = set()
    for text in spellings(value):
        raw = text.encode("utf-8")
        out |= {raw, json.dumps(text)[1:-1].encode(), quote(text, safe="").encode(), quote_plus(text).encode(),
                raw.hex().encode(), raw.hex().upper().encode()}
        out |= _b64_cores(raw)
    return {f for f in out if len(f) >= 8}


def test_the_forms_catch_embedded_encodings() -> None:
    value = CANARY["name"]
    for prefix in (b"", b"x", b"xy", b"xyz"):
        blob = base64.b64encode(prefix + value.encode() + b" tail")
        assert any(f in blob for f in forms(value)), prefix
    assert any(f in json.dumps({"v": value}).encode() for f in forms(value))
    assert any(f in quote(f"q={value}").encode() for f in forms(value))


def _contents(files: list[Path]) -> Iterator[tuple[str, bytes]]:
    """Each file's bytes; a file the running server removed since it was listed (PostgreSQL's
    ``pg_internal.init``, a finished temporary file) held nothing left to leak."""
    for p in files:
        try:
            yield str(p), p.read_bytes()
        except FileNotFoundError:
            continue


def scan(files: list[Path], extra: dict[str, bytes]) -> list[str]:
    needles = {(name, f) for name, value in CANARY.items() for f in forms(value)}
    hits = []
    for where, data in [*_contents(files), *extra.items()]:
        hits += [f"{name} ({needle[:24]!r}…) in {where}" for name, needle in needles if needle in data]
    return hits


def canary_ticket(ticket_id: int) -> dict[str, object]:
    return make_ticket(
        ticket_id=ticket_id, subject="Consulta sobre mi factura", language="es", name=CANARY["name"],
        email=CANARY["email"], phone=CANARY["phone"], national_id=CANARY["dni"], iban=CANARY["iban"],
        card_number=CANARY["card"], address="Calle de Alcalá 99, 2º A, 28009 Madrid",
        body=(f"Hola:\n\nMe llamo {CANARY['name']} y mi DNI es {CANARY['dni']}. Pagué con la tarjeta "
              f"{CANARY['card']} y quiero la devolución en la cuenta {CANARY['iban']}. Llamadme al "
              f"{CANARY['phone']} o escribidme a {CANARY['email']}.\n\nUn saludo,\n{CANARY['name']}"),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def test_no_canary_in_anything_aduana_wrote(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    store_url = "sqlite:///aduana.db" if backend == "sqlite" else str(request.getfixturevalue("pg_url"))
    server, app = await start_helpdesk()
    app[STORE].tickets[7301] = canary_ticket(7301)
    gw, tmp = tmp_path / "gw", tmp_path / "tmpdir"
    tmp.mkdir()
    vendor_port, admin_port = free_port(), free_port()
    config = write_config(gw, str(server.make_url("")).rstrip("/"), store_url, vendor_port=vendor_port,
                          admin_port=admin_port)
    env = {"TMPDIR": str(tmp), "ADUANA_AUDIT_JSONL": str(gw / "audit-sink.jsonl")}
    run_cli(config, "keys", "init", env=env)
    run_cli(config, "store", "migrate", env=env)
    key = run_cli(config, "vendor", "issue-key", "acme", env=env).stdout.strip()
    served = Served(config, env=env)
    vendor = f"http://127.0.0.1:{vendor_port}"
    try:
        await served.wait_ready(f"http://127.0.0.1:{admin_port}")
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{vendor}/helpdesk/api/tickets/7301", headers=bearer(key)) as resp:
                assert resp.status == 200
                ticket = await resp.json()
            tokens = re.findall(r"⟦[A-Z_]+_[0-9a-f]{12,32}⟧", json.dumps(ticket, ensure_ascii=False))
            assert len(set(tokens)) >= 3, ticket  # the vault really holds canaries now
            for value in CANARY.values():
                assert value not in json.dumps(ticket, ensure_ascii=False)
            async with s.get(f"{vendor}/helpdesk/api/tickets/7301/summary.txt", headers=bearer(key)) as resp:
                assert resp.status == 200
            reply = f"Hola {ticket['requester']['name']}, escriba a {ticket['requester']['email']}"
            async with s.post(f"{vendor}/helpdesk/api/tickets/7301/comments", headers=bearer(key),
                              json={"author": "Agent 7", "body": reply}) as resp:
                assert resp.status == 201
            assert CANARY["name"] in app[RECEIVED][-1]["body"]  # restored for the helpdesk
            async with s.post(f"{vendor}/helpdesk/api/tickets/7301/comments", headers=bearer(key),
                              json={"author": CANARY["name"], "body": f"{CANARY['secret']} {CANARY['dni']}"}) as resp:
                assert resp.status in (201, 422)
            async with s.get(f"{vendor}/helpdesk/api/customers", headers=bearer(key),
                             params={"email": CANARY["email"]}) as resp:
                assert resp.status in (200, 404)
            refusals = [(f"/helpdesk/admin/{quote(CANARY['email'])}", bearer(key)),
                        (f"/nowhere/{CANARY['dni']}", bearer(key)),
                        ("/helpdesk/api/tickets/7301", {"Authorization": f"Bearer {CANARY['email']}"}),
                        (f"/helpdesk/api/tickets/{quote(CANARY['iban'])}", bearer(key))]
            for path, headers in refusals:
                async with s.get(vendor + path, headers=headers) as resp:
                    assert resp.status >= 400 or resp.status == 200
    finally:
        assert served.stop(signal.SIGTERM) == 0, served.stderr()
        await server.close()
    run_cli(config, "audit", "checkpoint", env=env)
    run_cli(config, "audit", "export", "--format", "jsonl", "--out", str(gw / "export.jsonl"), env=env)
    run_cli(config, "audit", "export", "--format", "csv", "--out", str(gw / "export.csv"), env=env)
    run_cli(config, "keys", "status", env=env)

    files = [p for p in [*gw.rglob("*"), *tmp.rglob("*")] if p.is_file()]
    names = {p.name for p in files}
    assert {"aduana.log", "serve.err", "export.jsonl", "export.jsonl.manifest.json", "export.csv",
            "audit-sink.jsonl"} <= names
    if backend == "sqlite":
        assert "aduana.db" in names
    assert (gw / "aduana.log").stat().st_size > 0 and (gw / "audit-sink.jsonl").stat().st_size > 0
    extra: dict[str, bytes] = {}
    if backend == "postgresql":
        from pg import pg_dump, state

        dump = pg_dump(store_url)
        assert b"COPY" in dump and b"vault" in dump
        extra["pg_dump"] = dump
        data_dir = state().get("data_dir")
        if data_dir:  # the local test cluster: its heap, WAL and server log too
            files += [p for p in Path(data_dir).parent.rglob("*") if p.is_file()]
    assert scan(files, extra) == []
