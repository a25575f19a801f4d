"""The audit record: its schema, its canonical bytes and the hash chain that links records.

Rules this module keeps (docs/audit.md states them for auditors, byte for byte):

1. A record's *body* holds only the fields in :data:`FIELDS`: types, counts, identifiers, templates.
   Never a personal value, never a value from a path or a query string.
2. The canonical form of a JSON value is ``json.dumps(value, sort_keys=True, separators=(",", ":"),
   ensure_ascii=False)`` encoded as UTF-8. Only strings, integers, booleans, null, arrays and objects
   with ASCII keys are allowed — no floats, so every language produces the same bytes.
3. ``digest = SHA-256("aduana-audit-body-v1\\n" || canonical(body))`` and
   ``hash = SHA-256("aduana-audit-v1\\n" || prev_hash || digest)`` with both hashes as 32 raw bytes.
   The first record's ``prev_hash`` is :data:`GENESIS` (32 zero bytes), or the hash a signed retention
   anchor names. Hashing the body's digest rather than the body lets an export replace a record of
   another contract by its digest and still prove the chain is unbroken (see ``export.py``).
4. Sequence numbers start at 1 and grow by exactly one; the writer assigns them under the chain's lock.
5. Every domain label ends in a newline and differs from every other label Aduana hashes or signs, so
   bytes made for one purpose can never be taken for another.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

SCHEMA_VERSION: Final = 1
BODY_DOMAIN: Final = b"aduana-audit-body-v1\n"
CHAIN_DOMAIN: Final = b"aduana-audit-v1\n"
GENESIS: Final = "0" * 64

Kind = Literal["request", "admin", "retention", "lifecycle"]
Decision = Literal["forwarded", "blocked", "failed", "done"]
KINDS: Final = ("request", "admin", "retention", "lifecycle")
DECISIONS: Final = ("forwarded", "blocked", "failed", "done")

#: The body's fields in the order exports list them, with their type: ``str``/``int`` never null,
#: ``str?``/``int?`` may be null, ``json`` is an object or array (written as canonical JSON in CSV).
FIELDS: Final[tuple[tuple[str, str], ...]] = (
    ("v", "int"),
    ("seq", "int"),
    ("time", "str"),
    ("kind", "str"),
    ("action", "str"),
    ("request_id", "str?"),
    ("contract", "str?"),
    ("vendor", "str?"),
    ("credential_id", "str?"),
    ("route", "str?"),
    ("method", "str?"),
    ("path_template", "str?"),
    ("decision", "str"),
    ("reason", "str?"),
    ("upstream_status", "int?"),
    ("entities", "json"),
    ("policy", "json"),
    ("bytes_in", "int?"),
    ("bytes_out", "int?"),
    ("latency_us", "int?"),
    ("actor", "str?"),
    ("details", "json"),
)
FIELD_NAMES: Final = tuple(name for name, _ in FIELDS)
FIELD_TYPES: Final = dict(FIELDS)

_NAME = re.compile(r"^[A-Za-z0-9_.:@/+-]{1,64}$")  # entity types, action names, detail keys
_ACTION = re.compile(r"^[a-z][a-z0-9_.-]{0,63}$")
_METHOD = re.compile(r"^[A-Z]{1,16}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_STR = 512
_MAX_INT = 2**63 - 1


# --- canonical bytes and hashes ------------------------------------------------------------------


def _check_json(value: object, where: str) -> None:
    """Refuse anything but str, int, bool, None, list/tuple and dicts with ASCII string keys."""
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if item is None or isinstance(item, str | bool):
            continue
        if isinstance(item, int):
            if not -_MAX_INT - 1 <= item <= _MAX_INT:
                raise ValueError(f"{where}: integer out of range")
            continue
        if isinstance(item, list | tuple):
            stack.extend(item)
            continue
        if isinstance(item, dict):
            for key in item:
                if not isinstance(key, str) or not key.isascii():
                    raise ValueError(f"{where}: object keys must be ASCII strings")
            stack.extend(item.values())
            continue
        raise TypeError(f"{where}: {type(item).__name__} is not allowed in an audit record")


def canonical_json(value: object, *, check: bool = True) -> bytes:
    """The canonical bytes of a JSON value (rule 2); raise TypeError/ValueError for anything else.

    ``check=False`` skips the type walk for a value already checked (the verifier's hot path).
    """
    if check:
        _check_json(value, "value")
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def body_digest(body: Mapping[str, Any], *, check: bool = True) -> bytes:
    return canonical_digest(canonical_json(dict(body), check=check))


def canonical_digest(canonical: bytes) -> bytes:
    """The digest of a body from its canonical bytes (when the caller needs both, encode once)."""
    return hashlib.sha256(BODY_DOMAIN + canonical).digest()


def link_hash(prev_hash: str, digest: bytes) -> str:
    """The chain hash of a record (rule 3), as lowercase hex."""
    return hashlib.sha256(CHAIN_DOMAIN + bytes.fromhex(prev_hash) + digest).hexdigest()


def record_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    return link_hash(prev_hash, body_digest(body))


def is_hash(value: object) -> bool:
    return isinstance(value, str) and _HEX64.match(value) is not None


# --- time ----------------------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with microseconds, e.g. ``2025-06-01T12:00:00.000000Z``."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """Read an RFC 3339 time or a date (``2025-01-31``, midnight UTC); naive times are UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{text!r} is not an RFC 3339 time or a date (e.g. 2025-01-31T00:00:00Z)") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


# --- the event a caller records ------------------------------------------------------------------


def _opt_str(name: str, value: str | None) -> str | None:
    if value is None or value == "":
        return None  # one spelling for "absent", so CSV round-trips exactly
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string or None")
    if len(value) > _MAX_STR or _CONTROL.search(value):
        raise ValueError(f"{name} must be at most {_MAX_STR} characters without control characters")
    return value


def _opt_int(name: str, value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer or None")
    if not 0 <= value <= _MAX_INT:
        raise ValueError(f"{name} must be a non-negative integer")
    return value


def _entities(value: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for entity_type, actions in value.items():
        if not isinstance(entity_type, str) or not _NAME.match(entity_type):
            raise ValueError(f"entities: bad entity type {entity_type!r}")
        if not isinstance(actions, Mapping):
            raise TypeError("entities: each entity type maps action names to counts")
        counts: dict[str, int] = {}
        for action, count in actions.items():
            if not isinstance(action, str) or not _NAME.match(action):
                raise ValueError(f"entities: bad action name {action!r}")
            checked = _opt_int(f"entities.{entity_type}.{action}", count)
            if checked is None:
                raise TypeError("entities: counts must be integers")
            counts[action] = checked
        out[entity_type] = counts
    return out


def _policy(value: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    out = []
    for pack in value:
        if not isinstance(pack, Mapping) or set(pack) != {"name", "version", "digest"}:
            raise ValueError("policy: each pack is {'name', 'version', 'digest'}")
        entry = {}
        for key in ("name", "version", "digest"):
            checked = _opt_str(f"policy.{key}", pack[key])
            if checked is None:
                raise ValueError(f"policy: {key} may not be empty")
            entry[key] = checked
        out.append(entry)
    return out


def _details(value: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _NAME.match(key):
            raise ValueError(f"details: bad key {key!r}")
        items = item if isinstance(item, list | tuple) else [item]
        for one in items:
            if isinstance(one, str):
                _opt_str(f"details.{key}", one)
            elif one is not None and not isinstance(one, int):
                raise TypeError(f"details.{key}: only counts, ids, booleans and null (or lists of them)")
        out[key] = list(item) if isinstance(item, list | tuple) else item  # a copy: the caller keeps theirs
    _check_json(out, "details")
    return out


@dataclass(frozen=True)
class AuditEvent:
    """One decision to record. The writer adds ``seq``, ``time`` and the chain hashes.

    ``details`` holds counts and identifiers only; validation refuses floats, nested objects and
    control characters, but cannot tell a name from an id: callers must never put a value there.
    """

    kind: Kind
    action: str
    decision: Decision = "done"
    reason: str | None = None
    request_id: str | None = None
    contract: str | None = None
    vendor: str | None = None
    credential_id: str | None = None
    route: str | None = None
    method: str | None = None
    path_template: str | None = None
    upstream_status: int | None = None
    entities: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    policy: Sequence[Mapping[str, str]] = ()
    bytes_in: int | None = None
    bytes_out: int | None = None
    latency_ms: float | None = None
    actor: str | None = None
    details: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        if self.decision not in DECISIONS:
            raise ValueError(f"decision must be one of {', '.join(DECISIONS)}")
        if not isinstance(self.action, str) or not _ACTION.match(self.action):
            raise ValueError(f"action {self.action!r} must look like 'proxy' or 'vendor.issue-key'")
        if self.method is not None and self.method != "" and not _METHOD.match(self.method):
            raise ValueError("method must be an upper-case HTTP method")
        template = self.path_template
        if template and (not template.startswith("/") or "?" in template or "#" in template):
            raise ValueError("path_template must be a path template starting with / and without a query")
        if self.upstream_status is not None and not (
            isinstance(self.upstream_status, int) and 100 <= self.upstream_status <= 599
        ):
            raise ValueError("upstream_status must be an HTTP status (100-599) or None")
        if self.latency_ms is not None and (
            isinstance(self.latency_ms, bool)
            or not isinstance(self.latency_ms, int | float)
            or not math.isfinite(self.latency_ms)
            or self.latency_ms < 0
        ):
            raise ValueError("latency_ms must be a non-negative number")
        # Validate every field now, not inside the chain's lock, and keep the result: what is written is
        # exactly what was validated, even if a caller later changes a mapping it passed in.
        object.__setattr__(self, "_checked", self._check())

    def body(self, seq: int, time: str) -> dict[str, Any]:
        """The record body for position ``seq`` written at ``time`` (the bytes the chain hashes).

        Every value in it is a str, int, bool, None, or a list or dict of those, checked when the event
        was made: its canonical JSON needs no second check (``canonical_json(..., check=False)``).
        """
        checked: dict[str, Any] = self.__dict__["_checked"]
        body = dict(checked, seq=seq, time=time)
        # Fresh containers, so a record handed to sinks and callers shares nothing with this event.
        body["entities"] = {t: dict(counts) for t, counts in checked["entities"].items()}
        body["policy"] = [dict(pack) for pack in checked["policy"]]
        body["details"] = {k: list(v) if isinstance(v, list) else v for k, v in checked["details"].items()}
        return body

    def _check(self) -> dict[str, Any]:
        latency_us = None if self.latency_ms is None else round(self.latency_ms * 1000)
        return {
            "v": SCHEMA_VERSION,
            "seq": 0,
            "time": "",
            "kind": self.kind,
            "action": self.action,
            "request_id": _opt_str("request_id", self.request_id),
            "contract": _opt_str("contract", self.contract),
            "vendor": _opt_str("vendor", self.vendor),
            "credential_id": _opt_str("credential_id", self.credential_id),
            "route": _opt_str("route", self.route),
            "method": _opt_str("method", self.method),
            "path_template": _opt_str("path_template", self.path_template),
            "decision": self.decision,
            "reason": _opt_str("reason", self.reason),
            "upstream_status": _opt_int("upstream_status", self.upstream_status),
            "entities": _entities(self.entities),
            "policy": _policy(self.policy),
            "bytes_in": _opt_int("bytes_in", self.bytes_in),
            "bytes_out": _opt_int("bytes_out", self.bytes_out),
            "latency_us": _opt_int("latency_us", latency_us),
            "actor": _opt_str("actor", self.actor),
            "details": _details(self.details),
        }


# --- checking and converting records that come back from a file or the store -----------------------


class MalformedRecord(ValueError):
    """A record read back does not follow the schema (treated as tampering by the verifier)."""


def check_body(body: Mapping[str, Any]) -> None:
    """Raise :class:`MalformedRecord` unless ``body`` has exactly the schema's fields and types."""
    if set(body) != set(FIELD_NAMES):
        raise MalformedRecord("the record's fields are not the schema's")
    for name, kind in FIELDS:
        value = body[name]
        if value is None and kind in ("int?", "str?"):
            continue
        if kind[:3] == "int":
            ok = type(value) is int
        elif kind[:3] == "str":
            ok = type(value) is str and value != ""
        else:
            ok = type(value) is dict or type(value) is list
        if not ok:
            raise MalformedRecord(f"field {name} has the wrong type")
    if body["v"] != SCHEMA_VERSION:
        raise MalformedRecord(f"unknown record version {body['v']!r}")
    try:
        _check_json(dict(body), "record")
    except (TypeError, ValueError) as exc:
        raise MalformedRecord(str(exc)) from exc


def split_record(record: Mapping[str, Any]) -> tuple[dict[str, Any], str, str]:
    """A stored or exported record → (body, prev_hash, hash)."""
    body = {k: v for k, v in record.items() if k not in ("prev_hash", "hash")}
    prev_hash, own = record.get("prev_hash"), record.get("hash")
    if not is_hash(prev_hash) or not is_hash(own):
        raise MalformedRecord("prev_hash and hash must be 64 lowercase hex digits")
    check_body(body)
    assert isinstance(prev_hash, str) and isinstance(own, str)
    return body, prev_hash, own


def to_cell(name: str, value: object) -> str:
    """One CSV cell: null → empty, integer → decimal, object/array → canonical JSON."""
    if value is None:
        return ""
    if FIELD_TYPES.get(name) == "json":
        return canonical_json(value).decode("utf-8")
    return str(value)


def from_cell(name: str, text: str) -> object:
    """Invert :func:`to_cell` for a schema field (``prev_hash``/``hash`` are plain strings)."""
    kind = FIELD_TYPES.get(name, "str")
    try:
        if kind == "json":
            return json.loads(text)
        if kind in ("int", "int?"):
            if text == "" and kind == "int?":
                return None
            if not re.fullmatch(r"-?[0-9]+", text):
                raise MalformedRecord(f"field {name} is not an integer")
            return int(text)
    except json.JSONDecodeError as exc:
        raise MalformedRecord(f"field {name} is not JSON") from exc
    return None if text == "" and kind == "str?" else text
