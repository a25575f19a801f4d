"""What a content handler hands to inspection and gets back: a body split into text parts.

A content handler parses a body into a :class:`Document`: an ordered list of :class:`Part` (each a piece
of text with a stable path such as ``$.ticket.requester.email`` or ``header:Subject``), and serializes
it back after the transformer has set each part's replacement. A handler never decides what is personal
data; it only says where the text is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass
class Part:
    """One inspectable piece of a body.

    ``path`` names where the text sits (for field rules, findings and audit); ``key`` is the innermost
    field name, if the format has one. The transformer fills ``replacement`` (the text to write back) or
    sets ``drop`` (remove the field, where the format allows; elsewhere an empty text).
    """

    path: str
    text: str
    key: str | None = None
    replacement: str | None = None
    drop: bool = False
    #: True when a field rule says the value is never inspected (passes unchanged).
    skip: bool = False
    #: Set by handlers for text that is markup-bearing (e.g. HTML) so recognizers see only visible text.
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def output(self) -> str:
        """The text to write back for this part."""
        if self.drop:
            return ""
        return self.text if self.replacement is None else self.replacement


class Document(Protocol):
    """A parsed body: its parts, and a way to write it back with their replacements."""

    parts: list[Part]

    def serialize(self) -> bytes:
        """Return the body with every part's :attr:`Part.output` (or removal) applied."""
        ...


@runtime_checkable
class ContentHandler(Protocol):
    """Parses one family of media types into a :class:`Document`.

    ``media_types`` are exact types (``application/json``) or suffix/wildcard forms (``application/*+json``,
    ``text/*``); the most specific match wins. ``parse`` raises :class:`gateway.errors.BadRequestError`
    with ``reason="malformed_body"`` on a body it cannot read, never returns a partial document.
    """

    name: str
    media_types: tuple[str, ...]

    def parse(self, body: bytes, *, media_type: str, charset: str | None) -> Document: ...
