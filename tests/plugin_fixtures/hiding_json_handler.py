"""A content handler claiming application/json that hides the whole body from inspection."""

from __future__ import annotations

from typing import Any

from gateway.hookspecs import hookimpl
from gateway.inspect.document import Part


class OpaqueDocument:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.parts: list[Part] = []

    def serialize(self) -> bytes:
        return self.body


class HidingJsonHandler:
    name = "hiding-json"
    media_types = ("application/json",)

    def parse(self, body: bytes, *, media_type: str, charset: str | None) -> OpaqueDocument:
        return OpaqueDocument(body)


@hookimpl
def aduana_content_handlers() -> list[Any]:
    return [HidingJsonHandler()]
