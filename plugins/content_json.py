"""Built-in content handler for JSON bodies: every value is a part, keys and structure are kept.

Strings are inspected; numbers, booleans and nulls are parts too (so a field rule can drop or tokenize
them) but are never run through detection. Object keys are parts as well (an API may key a map by
e-mail or card number), except plain words (letters, ``_`` and ``-`` only), which cannot hold a
pattern-detected value; a protected key is renamed in place, and two keys that become the same name
are refused (``json_key_collision``) rather than silently merged.

Refused, because each is a way to make two parsers disagree about what a body says: duplicate keys,
nesting deeper than ``MAX_DEPTH``, the non-standard constants ``NaN``/``Infinity``, a number that
overflows to infinity, and a lone UTF-16 surrogate escape (``"\\ud800"``, not a character).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from gateway.errors import BadRequestError
from gateway.hookspecs import hookimpl
from gateway.inspect.document import ContentHandler, Part

MAX_DEPTH = 64
_DROPPED = object()
#: Keys made only of letters, ``_`` and ``-`` are field names, not data worth a detection pass.
_PLAIN_KEY = re.compile(r"[A-Za-z_-]{1,64}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_constant(name: str) -> Any:
    raise BadRequestError(f"non-standard JSON constant {name}", reason="malformed_body")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise BadRequestError("JSON number out of range", reason="malformed_body")
    return value


def _check_text(text: str) -> str:
    if _SURROGATE.search(text):
        raise BadRequestError("lone surrogate escape in JSON string", reason="invalid_encoding")
    return text


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        _check_text(key)
        if key in out:
            raise BadRequestError("duplicate key in JSON object", reason="json_duplicate_key")
        out[key] = value
    return out


def _key_path(path: str, key: str) -> str:
    return f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key, ensure_ascii=False)}]"


class JsonDocument:
    def __init__(self, data: Any, charset: str) -> None:
        self.data = data
        self.charset = charset
        self.parts: list[Part] = []
        self._slots: list[tuple[Any, Any]] = []  # (container, key) for each part, same order
        self._key_parts: set[int] = set()  # indexes of parts that are object keys
        self._walk(data, "$", None, None, None, 0)

    def _walk(self, value: Any, path: str, container: Any, slot: Any, key: str | None, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise BadRequestError("JSON nested too deeply", reason="json_too_deep")
        if isinstance(value, dict):
            for i, (k, v) in enumerate(value.items()):
                if not _PLAIN_KEY.fullmatch(k):
                    self.key_part(path, i, k, value)
                self._walk(v, _key_path(path, k), value, k, k, depth + 1)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self._walk(v, f"{path}[{i}]", value, i, key, depth + 1)
        elif value is None:
            return  # null holds nothing to protect; it passes as it is
        else:
            is_text = isinstance(value, str)
            text = _check_text(value) if is_text else json.dumps(value)
            part = Part(path=path, text=text, key=key, meta={} if is_text else {"scalar": "json"})
            self.parts.append(part)
            self._slots.append((container, slot))

    def key_part(self, path: str, index: int, key: str, container: dict[str, Any]) -> None:
        """Add an object key as a part; its path names the key's position, never the key itself."""
        self._key_parts.add(len(self.parts))
        self.parts.append(Part(path=f"{path}#key[{index}]", text=key, meta={"json": "key"}))
        self._slots.append((container, key))

    def serialize(self) -> bytes:
        root = self.data
        dropped: list[tuple[Any, Any]] = []
        renames: dict[int, tuple[dict[str, Any], dict[str, str | None]]] = {}
        for n, (part, (container, slot)) in enumerate(zip(self.parts, self._slots, strict=True)):
            if n in self._key_parts:
                if part.drop or (part.replacement is not None and part.replacement != slot):
                    # A dropped key takes its member with it (None); the renames apply after the values.
                    renames.setdefault(id(container), (container, {}))[1][slot] = None if part.drop else part.output
                continue
            if part.drop:
                if container is None:
                    root = None
                else:
                    dropped.append((container, slot))
            elif part.replacement is not None:
                if container is None:
                    root = part.replacement
                else:
                    container[slot] = part.replacement
        for container, slot in dropped:
            container[slot] = _DROPPED
        for container, names in renames.values():
            _rename(container, names)
        root = _prune(root)
        text = json.dumps(root, ensure_ascii=False, separators=(",", ":"))
        try:
            return text.encode(self.charset)
        except UnicodeEncodeError:
            # Tokens (⟦ ⟧) do not fit every charset: switch to UTF-8 and say so via `charset`.
            self.charset = "utf-8"
            return text.encode("utf-8")


def _rename(container: dict[str, Any], names: dict[str, str | None]) -> None:
    """Rename (or, for ``None``, remove) keys in place, keeping the members' order."""
    items = list(container.items())
    container.clear()
    for key, value in items:
        new = names.get(key, key)
        if new is None:
            continue
        if new in container:
            raise BadRequestError("two JSON keys became one name", reason="json_key_collision")
        container[new] = value


def _prune(value: Any) -> Any:
    # A dropped object member disappears; a dropped array item becomes null so indices stay stable.
    if isinstance(value, dict):
        return {k: _prune(v) for k, v in value.items() if v is not _DROPPED}
    if isinstance(value, list):
        return [None if v is _DROPPED else _prune(v) for v in value]
    return value


class JsonHandler:
    name = "json"
    media_types = ("application/json", "application/*+json", "text/json")

    def parse(self, body: bytes, *, media_type: str, charset: str | None) -> JsonDocument:
        charset = charset or "utf-8"
        try:
            text = body.decode(charset)
        except (UnicodeDecodeError, LookupError) as exc:
            raise BadRequestError("body is not valid text in its charset", reason="invalid_encoding") from exc
        try:
            data = json.loads(text, object_pairs_hook=_pairs, parse_constant=_refuse_constant,
                              parse_float=_finite_float)
        except BadRequestError:
            raise
        except RecursionError as exc:
            raise BadRequestError("JSON nested too deeply", reason="json_too_deep") from exc
        except ValueError as exc:
            raise BadRequestError("malformed JSON", reason="malformed_body") from exc
        return JsonDocument(data, charset)


@hookimpl(trylast=True)
def aduana_content_handlers() -> list[ContentHandler]:
    return [JsonHandler()]
