"""Checks on what the HTTP layer lets through: body framing and codings, declared types, response headers.

Rules this module keeps:
1. A request body is read whole, within the size limit and a deadline, or refused. A client that stops
   sending cannot hold a handler forever, and broken framing is a 400 (``malformed_body``), never a 500.
2. Only the identity coding passes: a compressed content coding, or a transfer coding other than
   ``chunked``, is refused before a byte of the body is read (``compressed_body``), so no bomb expands.
3. A body that the policy lets pass uninspected must look like what it says it is: when its declared
   type has a known signature (:data:`SIGNATURES`), its first bytes must carry it. A ``Content-Type:
   image/png`` whose body is JSON is refused (``content_type_mismatch``). A passed type without a
   known signature (a pack that passes ``application/json`` on purpose) is the pack author's choice.
4. Response headers reach the vendor only from an allow-list: a header is data inspection never sees
   (``X-Customer-Email``, a ``Content-Disposition`` file name holding a patient's name).

A request aiohttp's own HTTP parser refuses (bad framing, oversized or injected headers) never reaches
these checks: ``gateway/server/protocol.py`` answers and records it (``http_malformed``).

See ``docs/reliability.md`` for the catalogue of inputs these rules answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from gateway.errors import AduanaError, BadRequestError, PayloadTooLargeError, UnsupportedMediaError

#: How long a vendor may take to send a request body once its headers arrived.
BODY_DEADLINE_SECONDS = 30.0
_CHUNK = 65536

#: Response headers a vendor may see. Everything else the upstream sends is dropped: it was not inspected.
SAFE_RESPONSE_HEADERS = frozenset({
    "content-type", "content-language", "cache-control", "expires", "last-modified", "etag", "date",
    "retry-after", "vary", "age", "pragma", "allow",
})

#: First bytes of the types a policy may let pass uninspected (RFC 2083, JFIF, GIF89a, RIFF, PDF, ...).
SIGNATURES: Mapping[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "image/bmp": (b"BM",),
    "image/tiff": (b"II*\x00", b"MM\x00*"),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
    "application/gzip": (b"\x1f\x8b",),
    "audio/mpeg": (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"),
    "video/mp4": (b"\x00\x00\x00",),
}


def check_codings(headers: Mapping[str, str]) -> None:
    """Refuse a body that is compressed, as a content coding or a transfer coding (rule 2)."""
    content = headers.get("Content-Encoding", "identity").strip().lower()
    if content not in ("identity", ""):
        raise UnsupportedMediaError("compressed request body", reason="compressed_body")
    transfer = [t.strip().lower() for t in headers.get("Transfer-Encoding", "").split(",") if t.strip()]
    if any(t != "chunked" for t in transfer):
        raise UnsupportedMediaError("compressed transfer coding", reason="compressed_body")


async def read_body(request: web.BaseRequest, limit: int, *, deadline: float | None = None) -> bytes:
    """The whole request body, at most ``limit`` bytes, within ``deadline`` seconds (rules 1 and 2)."""
    check_codings(request.headers)
    declared = request.content_length
    if declared is not None and declared > limit:
        raise PayloadTooLargeError("declared body over the limit")
    try:
        async with asyncio.timeout(BODY_DEADLINE_SECONDS if deadline is None else deadline):
            body = await read_capped(request.content, limit, lambda: PayloadTooLargeError("body over the limit"))
    except TimeoutError as exc:
        raise BadRequestError("body not received in time", reason="body_timeout", status=408) from exc
    except (aiohttp.ClientPayloadError, web.RequestPayloadError, ConnectionError, EOFError) as exc:
        raise BadRequestError(f"malformed body framing: {type(exc).__name__}", reason="malformed_body") from exc
    if declared is not None and len(body) != declared:
        raise BadRequestError("body shorter than its Content-Length", reason="malformed_body")
    return body


async def read_capped(content: aiohttp.StreamReader, limit: int, too_large: Callable[[], AduanaError]) -> bytes:
    """A body read whole, refused with ``too_large()`` as soon as it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def check_response_coding(headers: Mapping[str, str]) -> None:
    """Refuse an upstream response with a compressed content coding: inspection reads identity only."""
    if headers.get("Content-Encoding", "identity").strip().lower() not in ("identity", ""):
        raise UnsupportedMediaError("upstream sent a compressed body", reason="upstream_compressed")


def check_declared_type(body: bytes, content_type: str | None) -> None:
    """Refuse an uninspected body whose first bytes do not match its declared type (rule 3)."""
    if not body:
        return
    media_type = (content_type or "application/octet-stream").split(";", 1)[0].strip().lower()
    signatures = SIGNATURES.get(media_type)
    if signatures is not None and not body.startswith(signatures):
        raise UnsupportedMediaError(f"body is not {media_type}", reason="content_type_mismatch")


def response_headers(headers: Mapping[str, str]) -> CIMultiDict[str]:
    """The upstream's response headers a vendor may see (rule 4)."""
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() in SAFE_RESPONSE_HEADERS)
