"""Route resolution: which contract's route a path belongs to, and whether it is allowed.

Paths are checked on their raw (still percent-encoded) form before anything else, so an encoded
``..`` or ``/`` can never slip past a pattern: such paths are refused, not normalized.

Rules :func:`check_raw_path` keeps (each refusal is a 400 ``path_rejected``):
1. No encoded dot, slash, backslash, percent (double encoding) or control character, no backslash.
2. No ``%`` that does not start a valid escape (``%u002e``, ``%zz``), and the decoded bytes are valid,
   shortest-form UTF-8: an overlong ``%c0%ae`` is not a dot in disguise, it is refused.
3. No ``;`` path parameters: servers such as Tomcat read ``..;`` as ``..``, so a route pattern and the
   upstream would disagree about which resource is meant.
4. No ``.`` or ``..`` segment and no empty segment after decoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from gateway.config import Config, Route
from gateway.errors import BadRequestError, ForbiddenError, NotFoundError

# Encoded dot, slash, backslash or percent (double encoding), and control characters.
_SUSPICIOUS = re.compile(r"%(2e|2f|5c|25|0[0-9a-f]|1[0-9a-f]|7f)", re.IGNORECASE)
# A percent sign not followed by two hex digits: IIS's %u002e, or a broken escape.
_MALFORMED_ESCAPE = re.compile(r"%(?![0-9a-f]{2})", re.IGNORECASE)


@dataclass(frozen=True)
class Match:
    contract: str
    route: Route
    #: The path below the prefix, decoded, e.g. ``/api/tickets/17``.
    rest: str
    #: The path as a template, e.g. ``/helpdesk/api/tickets/{id}`` (never holds a value).
    template: str
    #: Indexes (into ``rest``'s segments) that matched a ``{param}``: these carry values.
    param_segments: tuple[int, ...]


def check_raw_path(raw_path: str) -> str:
    """Validate the raw path; return it decoded. Refuses traversal and encoded separators."""
    if _SUSPICIOUS.search(raw_path) or _MALFORMED_ESCAPE.search(raw_path) or "\\" in raw_path:
        raise BadRequestError("suspicious encoding in path", reason="path_rejected")
    if ";" in raw_path:
        raise BadRequestError("path parameters are not accepted", reason="path_rejected")
    try:  # Python's UTF-8 decoder refuses overlong forms and surrogates
        path = unquote_to_bytes(raw_path).decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise BadRequestError("path is not valid UTF-8", reason="path_rejected") from exc
    segments = path.split("/")
    if any(s in (".", "..") for s in segments) or "//" in path:
        raise BadRequestError("path traversal", reason="path_rejected")
    return path


class Router:
    def __init__(self, config: Config) -> None:
        # Longest prefix first, so /helpdesk/admin wins over /helpdesk.
        self._routes = sorted(
            ((name, route) for name, c in config.contracts.items() for route in c.routes),
            key=lambda item: len(item[1].prefix),
            reverse=True,
        )

    def resolve(self, path: str, method: str, contract: str) -> Match:
        """Find the route for ``path``; 404 when none, 403 when it is not this caller's or not allowed."""
        for owner, route in self._routes:
            prefix = route.prefix.rstrip("/")
            if path != prefix and not path.startswith(prefix + "/"):
                continue
            if owner != contract:
                raise ForbiddenError("route belongs to another contract", reason="wrong_contract")
            rest = path[len(prefix):] or "/"
            if method not in route.methods:
                raise ForbiddenError("method not allowed on this route", reason="method_not_allowed")
            template, params = _match_pattern(route, rest)
            return Match(owner, route, rest, prefix + template, params)
        raise NotFoundError("no route for path")


def _match_pattern(route: Route, rest: str) -> tuple[str, tuple[int, ...]]:
    if not route.paths:
        return "/*", ()
    segments = rest.strip("/").split("/") if rest.strip("/") else []
    for pattern in route.paths:
        pieces = pattern.strip("/").split("/") if pattern.strip("/") else []
        if len(pieces) != len(segments):
            continue
        params = []
        for i, (piece, segment) in enumerate(zip(pieces, segments, strict=True)):
            if piece.startswith("{"):
                if not segment:
                    break
                params.append(i)
            elif piece != segment:
                break
        else:
            return pattern, tuple(params)
    raise ForbiddenError("path not allowed on this route", reason="path_not_allowed")
