"""Helpers the adversarial tests share: raw HTTP on loopback, audit look-ups, a lying upstream, fix markers.

Fixtures live in ``conftest.py``; this module holds plain functions and classes so test modules can
import them by name.
"""

from __future__ import annotations

import asyncio
import gzip
import html
import json
import logging
import re
import sqlite3
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiohttp import web

from gateway.audit import verify_store
from gateway.audit.log import AuditLog
from gateway.runtime import Runtime
from gateway.store.base import Database
from gateway.vault import VAULT
from harness import GatewayHarness
from helpdesk import RECEIVED

ROOT: Final = Path(__file__).resolve().parents[2]

# --- values and their obvious variants --------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
#: Look-alikes an attacker would use, folded to ASCII (Cyrillic and Greek letters shaped like Latin ones).
_HOMOGLYPHS = str.maketrans("асеіјорхуАВЕКМНОРСТХαοτνΑΒΕΗΙΚΜΝΟΡΤΧΥΖ", "aceijopxyABEKMHOPCTXaotvABEHIKMNOPTXYZ")

# A message that arrives while a replacement inspection worker loads spaCy waits for it; on a busy 2-core
# machine that load has taken over 20 s. A liveness bound for those tests, not a speed target.
WARM_UP_BOUND = 75.0


def reveal(text: str) -> str:
    """What a reader gets back from ``text`` with obvious tricks undone, compacted to letters and digits.

    HTML entities decoded, NFKC (full-width digits), zero-width characters dropped, homoglyphs folded,
    then everything but letters, digits and ``@`` removed and lower-cased: separators, case and line
    breaks do not hide a value from this comparison.
    """
    text = unicodedata.normalize("NFKC", html.unescape(text)).translate(_ZERO_WIDTH).translate(_HOMOGLYPHS)
    return re.sub(r"[^0-9a-z@]", "", text.lower())


def leaked(value: str, text: str) -> bool:
    """True when ``value`` (or a variant: separators changed, other case) can be read in ``text``."""
    return reveal(value) in reveal(text)


# --- raw HTTP ---------------------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def reason(self) -> str | None:
        """The gateway's reason code, or ``None`` when the body is not its JSON error."""
        try:
            return str(self.json()["error"]["reason"])
        except (ValueError, KeyError, TypeError):
            return None


def build_request(method: str, path: str, *, key: str | None, headers: list[tuple[str, str]] | None = None,
                  body: bytes = b"", raw_headers: bytes = b"", content_length: bool = True) -> bytes:
    """An HTTP/1.1 request as bytes, with ``Connection: close`` and exactly the framing asked for."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if key is not None:
        lines.append(f"Authorization: Bearer {key}")
    lines += [f"{k}: {v}" for k, v in headers or []]
    if content_length and body and not any(k.lower() == "transfer-encoding" for k, _ in headers or []):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n").encode("latin-1") + raw_headers + b"\r\n" + body


def chunked(body: bytes, size: int = 4096) -> bytes:
    """``body`` in HTTP/1.1 chunked framing."""
    pieces = [body[i:i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


async def send_raw(port: int, data: bytes, *, timeout: float = 20, half_close: bool = False) -> RawResponse:
    """Write ``data`` to the port; read one answer (to its Content-Length, or to the close), within ``timeout``."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if half_close:
            writer.write_eof()
        raw = await asyncio.wait_for(_read_answer(reader), timeout)
    finally:
        writer.close()
    return parse_response(raw)


async def _read_answer(reader: asyncio.StreamReader) -> bytes:
    # Not to the close only: after an early answer aiohttp keeps reading the unsent rest of a body.
    raw = b""
    while chunk := await reader.read(65536):
        raw += chunk
        head, sep, body = raw.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        if sep and length and len(body) >= int(length.group(1)):
            break
    return raw


def parse_response(raw: bytes) -> RawResponse:
    if not raw:
        return RawResponse(0, {}, b"", raw)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse(int(status_line.split()[1]), headers, body, raw)


# --- logs -------------------------------------------------------------------------------------------


@contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Every log line written meanwhile, ours (``aduana``) and every library's, tracebacks included."""
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(logging.Formatter("%(name)s %(message)s").format(record))

    handler = Capture(logging.DEBUG)
    loggers = [logging.getLogger(), logging.getLogger("aduana")]  # ``aduana`` does not propagate
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addHandler(handler)
        lg.setLevel(min(lg.level or logging.DEBUG, logging.INFO))
    try:
        yield lines
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeHandler(handler)
            lg.setLevel(level)


# --- the audit trail --------------------------------------------------------------------------------


def audit_records(db: Database, after_seq: int = 0) -> list[dict[str, Any]]:
    """Audit record bodies after ``after_seq``, in order (with their ``seq``)."""
    with db.transaction() as tx:
        rows = tx.fetchall("SELECT seq, body FROM audit_records WHERE seq > ? ORDER BY seq", (after_seq,))
    return [{**json.loads(body), "seq": int(seq)} for seq, body in rows]


def audit_head(db: Database) -> int:
    with db.transaction() as tx:
        row = tx.fetchone("SELECT COALESCE(MAX(seq), 0) FROM audit_records")
    return int(row[0]) if row else 0


async def wait_for_records(db: Database, after_seq: int, n: int = 1, timeout: float = 5) -> list[dict[str, Any]]:
    """Records after ``after_seq``, waiting up to ``timeout`` for at least ``n`` (some are written late)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        records = audit_records(db, after_seq)
        if len(records) >= n or asyncio.get_running_loop().time() > deadline:
            return records
        await asyncio.sleep(0.05)


def assert_store_whole(rt: Runtime) -> None:
    """Integrity check, audit chain and vault: what must hold after any fault."""
    path = rt.config.store_url.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    audit = AuditLog(rt.db, rt.keyring)
    report = verify_store(rt.db, audit.public_keys())
    assert report.ok, report.problems
    with rt.db.transaction() as tx:
        rows = tx.fetchall("SELECT contract, token, key_version, ciphertext FROM vault")
    for contract, token, version, blob in rows:  # raises IntegrityError on a damaged row
        rt.keyring.open_record(VAULT, contract, token, int(version), bytes(blob))


# --- a lying upstream --------------------------------------------------------------------------------

PNG_MAGIC: Final = b"\x89PNG\r\n\x1a\n"
#: Personal values the lying upstream serves; none may reach the vendor.
SECRET_PERSON: Final = {"name": "Margaret Ellison", "email": "margaret.ellison@example.com",
                        "card": "4111 1111 1111 1111"}
LIAR_RECEIVED: Final = web.AppKey("liar.received", list[dict[str, Any]])


def _secret_json() -> bytes:
    return json.dumps({"customer": SECRET_PERSON}).encode()


def liar_app() -> web.Application:
    """An upstream that lies about what it sends; it records every request it receives."""
    app = web.Application()
    app[LIAR_RECEIVED] = []

    async def record(request: web.Request) -> None:
        request.app[LIAR_RECEIVED].append({"path": request.raw_path, "headers": dict(request.headers),
                                           "body": await request.read()})

    async def png_json(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(body=_secret_json(), headers={"Content-Type": "image/png"})

    async def png_real(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(body=PNG_MAGIC + b"\x00\x00\x00\rIHDR" + bytes(17), content_type="image/png")

    async def no_type(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.Response(body=_secret_json())
        response.headers.popall("Content-Type", None)
        return response

    async def header_leak(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.json_response({"ok": True}, headers={
            "X-Customer-Email": SECRET_PERSON["email"],
            "Content-Disposition": f'attachment; filename="{SECRET_PERSON["name"]} invoice.pdf"',
        })

    async def reset(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "4096"})
        await response.prepare(request)
        await response.write(b'{"customer": {"name": "' + SECRET_PERSON["name"].encode() + b'", "pad": "' + b"x" * 40)
        assert request.transport is not None
        request.transport.abort()
        return response

    async def gzip_bomb(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.Response(body=gzip.compress(b"0" * (8 * 1024 * 1024)),
                            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})

    async def anything(request: web.Request) -> web.StreamResponse:
        await record(request)
        return web.json_response({"ok": True})

    for path, handler in (("/png-json", png_json), ("/png-real", png_real), ("/no-type", no_type),
                          ("/header-leak", header_leak), ("/reset", reset), ("/gzip-bomb", gzip_bomb)):
        app.router.add_get(path, handler)
    app.router.add_route("*", "/{tail:.*}", anything)
    return app


def bombs() -> dict[str, tuple[str, bytes]]:
    """Compressed request bodies that expand ~1000x: (Content-Encoding, bytes) by name."""
    payload = b'{"author": "x", "body": "' + b"A" * (16 * 1024 * 1024) + b'"}'
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS)
    return {"gzip": ("gzip", gzip.compress(payload, 9)),
            "deflate": ("deflate", deflate.compress(payload) + deflate.flush())}


#: A policy pack that lets images through uninspected (a route serving avatars), written by the env.
PASS_IMAGES_PACK: Final = """\
name: pass-images
version: "1.0.0"
description: Test pack. A route that serves avatars lets images through uninspected.
content_types:
  inspect: []
  pass: ["image/*"]
  block: []
"""


MAX_BODY = 64 * 1024


class Env:
    """The catalogue's gateway, its two upstreams and a vendor key for each contract."""

    def __init__(self, gw: GatewayHarness, helpdesk: Any, liar: Any) -> None:
        self.gw = gw
        self.helpdesk = helpdesk
        self.liar = liar
        self.key = gw.issue_key("acme")
        self.other_key = gw.issue_key("globex")

    @property
    def port(self) -> int:
        assert self.gw.vendor is not None and self.gw.vendor.port is not None
        return self.gw.vendor.port

    @property
    def db(self) -> Database:
        assert self.gw.runtime is not None
        return self.gw.runtime.db

    def forwarded(self) -> list[dict[str, Any]]:
        """Everything either upstream received since the last :meth:`clear`."""
        return list(self.helpdesk[RECEIVED]) + list(self.liar[LIAR_RECEIVED])

    def clear(self) -> None:
        self.helpdesk[RECEIVED].clear()
        self.liar[LIAR_RECEIVED].clear()
