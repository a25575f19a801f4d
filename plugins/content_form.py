"""Built-in content handler for HTML form bodies (``application/x-www-form-urlencoded``)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from gateway.errors import BadRequestError
from gateway.hookspecs import hookimpl
from gateway.inspect.document import ContentHandler, Part


class FormDocument:
    def __init__(self, pairs: list[tuple[str, str]], charset: str) -> None:
        self.charset = charset
        self.parts = [Part(path=f"form:{name}", text=value, key=name) for name, value in pairs]

    def serialize(self) -> bytes:
        pairs = [(p.key or "", p.output) for p in self.parts if not p.drop]
        return urlencode(pairs, encoding="utf-8").encode("ascii")


class FormHandler:
    name = "form"
    media_types = ("application/x-www-form-urlencoded",)

    def parse(self, body: bytes, *, media_type: str, charset: str | None) -> FormDocument:
        try:
            text = body.decode("ascii")
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), encoding="utf-8",
                              errors="strict", max_num_fields=10_000)
        except (UnicodeDecodeError, ValueError) as exc:
            raise BadRequestError("malformed form body", reason="malformed_body") from exc
        return FormDocument(pairs, "utf-8")


@hookimpl(trylast=True)
def aduana_content_handlers() -> list[ContentHandler]:
    return [FormHandler()]
