"""Split an HTML body into markup, kept byte for byte, and the text a reader sees, which is inspected.

The email handler uses this for ``text/html`` leaves. Recognizers must never see or touch tags (a match
inside markup would break the document), so the source is cut into nodes with :class:`html.parser.HTMLParser`
and only these become inspectable *pieces*:

- visible text nodes (``html:7``), entity references unescaped for inspection and escaped again on write;
- the values of attributes a person reads or follows (``html:3@href``: ``mailto:`` links, ``alt`` and
  ``title`` text) and of ``data-*`` attributes, because they carry the same personal data as the text.

Kept unchanged and not inspected: tags and all other attributes, comments, declarations, and the
contents of ``<script>`` and ``<style>`` (mail clients do not show them). A piece whose output equals
its text is written back exactly as it was in the source.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser

#: Attribute values that are text or links for people; inspected like text nodes (so are ``data-*``).
TEXT_ATTRIBUTES = frozenset(
    {"alt", "title", "href", "src", "value", "placeholder", "aria-label", "label", "cite"}
)
_HIDDEN = frozenset({"script", "style"})

# The tolerant start-tag grammar of CPython's html.parser, used only to find *where* each attribute value
# sits in the tag; every scan is checked against what HTMLParser itself parsed.
_TAG_NAME = re.compile(r"<[a-zA-Z][^\t\n\r\f />\x00]*(?:\s|/(?!>))*")
_ATTRIBUTE = re.compile(
    r"((?<=['\"\s/])[^\s/>][^\s/=>]*)(\s*=+\s*('[^']*'|\"[^\"]*\"|(?!['\"])[^>\s]*))?(?:\s|/(?!>))*"
)


@dataclass(frozen=True)
class Piece:
    """One inspectable run of an HTML source: a text node, or one attribute value inside a tag."""

    path: str  #: ``html:<node>`` or ``html:<node>@<attribute>``; nodes are numbered from 1
    text: str  #: unescaped, as a reader sees it
    node: int  #: index into :attr:`HtmlText.nodes`
    span: tuple[int, int] | None  #: where an attribute value sits in its node (quotes excluded)
    quoted: bool  #: whether that value was quoted in the source

    @property
    def kind(self) -> str:
        return "html-text" if self.span is None else "html-attribute"


@dataclass(frozen=True)
class HtmlText:
    """An HTML source as raw nodes (which concatenate back to it) plus its inspectable pieces."""

    nodes: tuple[str, ...]
    pieces: tuple[Piece, ...]

    def render(self, outputs: Sequence[str]) -> str:
        """Return the source with each piece's output in place (one output per piece, in order)."""
        nodes = list(self.nodes)
        changed = [(p, out) for p, out in zip(self.pieces, outputs, strict=True) if out != p.text]
        # Right to left within a node, so the spans of earlier attributes stay valid.
        for piece, out in sorted(changed, key=lambda c: (c[0].node, -(c[0].span or (0, 0))[0])):
            if piece.span is None:
                nodes[piece.node] = html.escape(out, quote=False)
                continue
            start, end = piece.span
            value = html.escape(out, quote=True)
            raw = nodes[piece.node]
            nodes[piece.node] = raw[:start] + (value if piece.quoted else f'"{value}"') + raw[end:]
        return "".join(nodes)


class _Scanner(HTMLParser):
    """Records where each construct starts; ``HTMLParser.getpos`` points at it while its handler runs."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self._line_starts = [0] + [match.end() for match in re.finditer("\n", source)]
        self._hidden: str | None = None
        #: (offset, kind, attributes) with kind "text", "hidden", "tag" or "markup".
        self.events: list[tuple[int, str, list[tuple[str, str | None]]]] = []

    def _at(self, kind: str, attrs: list[tuple[str, str | None]] | None = None) -> None:
        line, column = self.getpos()
        self.events.append((self._line_starts[line - 1] + column, kind, attrs or []))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._at("tag", attrs)
        if tag in _HIDDEN:
            self._hidden = tag

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._at("tag", attrs)

    def handle_endtag(self, tag: str) -> None:
        self._at("markup")
        if tag == self._hidden:
            self._hidden = None

    def handle_data(self, data: str) -> None:
        self._at("hidden" if self._hidden else "text")

    def handle_entityref(self, name: str) -> None:
        self._at("text")

    def handle_charref(self, name: str) -> None:
        self._at("text")

    def handle_comment(self, data: str) -> None:
        self._at("markup")

    def handle_decl(self, decl: str) -> None:
        self._at("markup")

    def handle_pi(self, data: str) -> None:
        self._at("markup")

    def unknown_decl(self, data: str) -> None:
        self._at("markup")


def _nodes(source: str) -> list[tuple[str, str, list[tuple[str, str | None]]]]:
    """Cut the source into (kind, raw, attributes) nodes; adjacent text runs merge into one node."""
    scanner = _Scanner(source)
    scanner.feed(source)
    scanner.close()
    events = scanner.events
    if not events or events[0][0] != 0:
        events.insert(0, (0, "text", []))
    spans: list[tuple[str, int, int, list[tuple[str, str | None]]]] = []
    bounds = [start for start, _, _ in events[1:]] + [len(source)]
    for (start, kind, attrs), end in zip(events, bounds, strict=True):
        if kind in ("tag", "markup") and not source.endswith(">", start, end):
            # Whatever the parser skipped after a construct is treated as text, so it is inspected.
            cut = source.rfind(">", start, end) + 1
            if cut:
                spans.append((kind, start, cut, attrs))
            kind, start, attrs = "text", max(start, cut), []
        if kind == "text" and spans and spans[-1][0] == "text" and spans[-1][2] == start:
            spans[-1] = ("text", spans[-1][1], end, [])
        elif start < end:
            spans.append((kind, start, end, attrs))
    return [(kind, source[start:end], attrs) for kind, start, end, attrs in spans]


def _attribute_pieces(prefix: str, index: int, raw: str, parsed: list[tuple[str, str | None]]) -> list[Piece]:
    """Locate the attribute values of one start tag; fail if the scan disagrees with the parser."""
    found: list[tuple[str, str | None]] = []
    pieces: list[Piece] = []
    name_match = _TAG_NAME.match(raw)
    position = name_match.end() if name_match else len(raw)
    while position < len(raw) and (match := _ATTRIBUTE.match(raw, position)):
        name = match.group(1).lower()
        value: str | None = None
        if match.group(2):
            start, end = match.span(3)
            quoted = raw[start:start + 1] in ("'", '"') and end - start >= 2 and raw[start] == raw[end - 1]
            if quoted:
                start, end = start + 1, end - 1
            value = html.unescape(raw[start:end])
            if (name in TEXT_ATTRIBUTES or name.startswith("data-")) and value.strip():
                path = f"{prefix}{index + 1}@{name}"
                if any(p.path == path for p in pieces):
                    path = f"{path}#{len(pieces) + 1}"
                pieces.append(Piece(path, value, index, (start, end), quoted))
        found.append((name, value))
        position = match.end()
    if found != parsed:
        raise ValueError("an HTML start tag could not be split into attributes")
    return pieces


def split_html(source: str, prefix: str = "html:") -> HtmlText:
    """Split ``source`` into nodes and inspectable pieces; raise ``ValueError`` on HTML it cannot place."""
    nodes = _nodes(source)
    if "".join(raw for _, raw, _ in nodes) != source:
        raise ValueError("the HTML source could not be split into nodes")
    pieces: list[Piece] = []
    for index, (kind, raw, attrs) in enumerate(nodes):
        if kind == "tag":
            pieces.extend(_attribute_pieces(prefix, index, raw, attrs))
        elif kind == "text" and (text := html.unescape(raw)).strip():
            pieces.append(Piece(f"{prefix}{index + 1}", text, index, None, quoted=False))
    return HtmlText(tuple(raw for _, raw, _ in nodes), tuple(pieces))
