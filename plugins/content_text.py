"""Built-in content handler for plain text: the whole body is one part."""

from __future__ import annotations

from gateway.errors import BadRequestError
from gateway.hookspecs import hookimpl
from gateway.inspect.document import ContentHandler, Part


class TextDocument:
    def __init__(self, text: str, charset: str) -> None:
        self.charset = charset
        self.parts = [Part(path="body", text=text)]

    def serialize(self) -> bytes:
        # A replacement may hold characters the original charset lacks (tokens use ⟦ ⟧): the caller
        # learns the charset actually used from `charset` after this call.
        out = self.parts[0].output
        try:
            return out.encode(self.charset)
        except UnicodeEncodeError:
            self.charset = "utf-8"
            return out.encode("utf-8")


class TextHandler:
    name = "text"
    media_types = ("text/plain",)

    def parse(self, body: bytes, *, media_type: str, charset: str | None) -> TextDocument:
        charset = charset or "utf-8"
        try:
            return TextDocument(body.decode(charset), charset)
        except (UnicodeDecodeError, LookupError) as exc:
            raise BadRequestError("body is not valid text in its charset", reason="invalid_encoding") from exc


@hookimpl(trylast=True)
def aduana_content_handlers() -> list[ContentHandler]:
    return [TextHandler()]
