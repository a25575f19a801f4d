"""Built-in content handler for JSON bodies: every value is a part, keys and structure are kept.

Strings are inspected; numbers, booleans and nulls are parts too (so a field rule can drop or tokenize
them) but are never run through detection. Duplicate keys and nesting deeper than ``MAX_DEPTH`` are
refused: both are ways to make two parsers disagree about what a body says.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.errors import BadRequestError
from gateway.hookspecs import hookimpl
from gateway.inspect.document import ContentHandler, Part

MAX_DEPTH = 64
_DROPPED = object()


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
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
        self._walk(data, "$", None, None, None, 0)

    def _walk(self, value: Any, path: str, container: Any, slot: Any, key: str | None, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise BadRequestError("JSON nested too deeply", reason="json_too_deep")
        if isinstance(value, dict):
            for k, v in value.items():
                self._walk(v, _key_path(path, k), value, k, k, depth + 1)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                self._walk(v, f"{path}[{i}]", value, i, key, depth + 1)
        elif value is None:
            return  # null holds nothing to protect; it passes as it is
        else:
            is_text = isinstance(value, str)
            text = value if is_text else json.dumps(value)
            part = Part(path=path, text=text, key=key, meta={} if is_text else {"scalar": "json"})
            self.parts.append(part)
            self._slots.append((container, slot))

    def serialize(self) -> bytes:
        root = self.data
        dropped: list[tuple[Any, Any]] = []
        for part, (container, slot) in zip(self.parts, self._slots, strict=True):
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
        root = _prune(root)
        text = json.dumps(root, ensure_ascii=False, separators=(",", ":"))
        try:
            return text.encode(self.charset)
        except UnicodeEncodeError:
            # Tokens (⟦ ⟧) do not fit every charset: switch to UTF-8 and say so via `charset`.
            self.charset = "utf-8"
            return text.encode("utf-8")


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
            data = json.loads(text, object_pairs_hook=_pairs)
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
