"""Content handler for whole emails (``message/rfc822``): headers, text bodies and attachments as parts.

Paths, in message order (sections number MIME entities as IMAP does, ``1``, ``1.2``; a single-part body is
``1``; the headers of an email attached at section S read ``header:S:Subject``):

- ``header:Subject``: decoded from RFC 2047 encoded-words (``meta kind=header``, ``key`` the header name;
  headers are read and written back by content_email_headers).
- ``header:To/2/name``, ``header:To/2/address``: the 2nd mailbox of From, To, Cc, Reply-To, Sender or Bcc;
  ``header:To/group:1`` the name of a group (``Team: a@x, b@y;``), as these headers may hold groups.
- ``body:1.1``: a text/* leaf, quoted ``>`` lines included; an HTML leaf gives one part per visible text
  node or readable attribute instead (``body:1.2/html:7``, ``body:1.2/html:3@href``, see content_email_html).
- ``attachment:3:notes.txt`` (``meta kind=attachment, content_type, filename``): the text of a text
  attachment, else empty; ``drop`` replaces it by a short text/plain note. ``…/filename`` is its file name.
- ``preamble:0``, ``epilogue:1.2``: text around the parts of a multipart (0 is the top level), if any.

Writing back keeps the MIME tree, boundaries, header order and every part whose output equals its text.
A changed text leaf keeps its charset if the new text fits, else becomes UTF-8 (HTML keeps its charset
and uses character references, so a ``<meta charset>`` stays true); base64 and quoted-printable are kept,
7bit becomes quoted-printable when needed. Changed headers are written with encoded-words; an address
that is no longer an address (a token) goes inside ``<>`` as an encoded-word, as Python's email does.

Malformed (``BadRequestError``, ``malformed_body``): no email header block, a header block broken by a
non-header line, a multipart without its boundary, duplicate exposed or Content-* headers, 8-bit
Content-Type, a text part whose base64, transfer encoding or charset is unreadable. A missing *final*
boundary is tolerated: the stdlib reads the last part to the end, that is inspected, the output closes it.
"""

from __future__ import annotations

import base64
import codecs
import email
import email.policy
import io
import quopri
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email import errors
from email.generator import BytesGenerator
from email.message import EmailMessage
from functools import partial

from gateway.errors import BadRequestError, InspectionError
from gateway.hookspecs import hookimpl
from gateway.inspect.document import ContentHandler, Part

from .content_email_headers import Single, Slot, header_slots, malformed, one_line, unsmuggle
from .content_email_html import HtmlText, split_html

_POLICY = email.policy.default
#: At least one of these must be present for a body to count as an email.
_EMAIL_HEADERS = ("From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type")
#: Defects that mean the stdlib had to guess where headers or parts end (another parser may guess otherwise).
_FATAL_DEFECTS = (
    errors.MissingHeaderBodySeparatorDefect, errors.FirstHeaderLineIsContinuationDefect,
    errors.MisplacedEnvelopeHeaderDefect, errors.StartBoundaryNotFoundDefect, errors.NoBoundaryInMultipartDefect,
    errors.MultipartInvariantViolationDefect, errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect, errors.InvalidBase64LengthDefect,
)
_STRUCTURAL = ("content-type", "content-transfer-encoding")
_TRANSFER_ENCODINGS = ("7bit", "8bit", "binary", "quoted-printable", "base64")


def _check(entity: EmailMessage) -> None:
    """Refuse an entity whose structure is ambiguous."""
    if any(isinstance(defect, _FATAL_DEFECTS) for defect in entity.defects):
        raise malformed("the email's MIME structure is broken")
    for name in ("Content-Type", "Content-Transfer-Encoding", "Content-Disposition"):
        if len(entity.get_all(name, [])) > 1:
            raise malformed(f"an email part has more than one {name} header")
    if any(not value.isascii() for name, value in entity.raw_items() if name.lower() in _STRUCTURAL):
        raise malformed("an email part has 8-bit bytes in its Content-Type or Content-Transfer-Encoding")


def _parse(body: bytes) -> EmailMessage:
    """Parse and refuse what is not an email or is ambiguous anywhere in its tree."""
    if not body.strip():
        raise malformed("the body is empty, not an email")
    message = email.message_from_bytes(body, policy=_POLICY)
    if not any(name in message for name in _EMAIL_HEADERS):
        raise malformed("the body has no email header block")
    for part in message.walk():
        _check(part)
    return message


def _codec(charset: str) -> str:
    try:
        return codecs.lookup(charset).name
    except LookupError:
        raise malformed("an email part declares an unknown charset") from None


def _set_around(entity: EmailMessage, which: str, value: str) -> None:
    setattr(entity, which, value.encode().decode("ascii", "surrogateescape"))


@dataclass
class _Leaf(Slot):
    """A non-multipart entity: a text body, a text attachment or an opaque attachment."""

    entity: EmailMessage = field(repr=False)
    attached: bool
    filename: str | None
    text: str | None  #: decoded text of a text/* entity
    html: HtmlText | None
    boundaries: tuple[str, ...]

    def write(self, parts: Sequence[Part]) -> None:
        rest = list(parts)
        if self.attached:
            main, rest = rest[0], rest[1:]
            name = self.filename
            if self.filename is not None:
                name = one_line(rest.pop(0).output)
            if main.drop:
                self._replace_by_note(name)
                return
            if name != self.filename:
                self._rename(name or "unnamed")
            rest = rest if self.html else [main]
        if self.text is None:
            return
        new = self.html.render([p.output for p in rest]) if self.html else rest[0].output
        if new != self.text:
            self._set_text(new)

    def _replace_by_note(self, name: str | None) -> None:
        content_type = self.entity.get_content_type()
        payload = self.entity.get_payload(decode=True)
        size = len(payload) if isinstance(payload, bytes) else len(self.entity.as_bytes())
        note = f"[attachment {name or 'unnamed'} ({content_type}, {size} bytes) removed by Aduana policy]\n"
        cte = "7bit" if note.isascii() else "quoted-printable"
        _POLICY.content_manager.set_content(self.entity, note, subtype="plain", charset="utf-8", cte=cte)

    def _rename(self, name: str) -> None:
        charset = None if name.isascii() else "utf-8"
        for header, param in (("Content-Disposition", "filename"), ("Content-Type", "name")):
            if self.entity.get_param(param, header=header) is not None:
                self.entity.set_param(param, name, header=header, charset=charset, replace=True)

    def _set_text(self, new: str) -> None:
        """Encode ``new`` into the entity: same charset and transfer encoding where possible."""
        entity = self.entity
        switched = False
        try:
            charset = _codec(entity.get_content_charset() or "us-ascii")
            data = new.encode(charset, "xmlcharrefreplace" if self.html else "strict")
        except UnicodeEncodeError:
            switched, data = True, new.encode("utf-8")
        old_cte = entity.get("Content-Transfer-Encoding", "7bit").strip().lower()
        cte = old_cte
        if cte == "7bit" and not data.isascii():
            cte = "quoted-printable"
        if cte == "base64" or _collides(data, self.boundaries):
            cte, payload = "base64", base64.encodebytes(data).decode("ascii")
        elif cte == "quoted-printable":
            payload = quopri.encodestring(data).decode("ascii")
        else:  # 7bit (ASCII), 8bit or binary: the bytes themselves, as the parser keeps them
            payload = data.decode("ascii", "surrogateescape")
        entity.set_payload(payload)
        if switched and "Content-Type" in entity:
            entity.set_param("charset", "utf-8", replace=True)
        elif switched:  # a message without MIME headers: it becomes a MIME message
            if "MIME-Version" not in entity:
                entity["MIME-Version"] = "1.0"
            entity["Content-Type"] = 'text/plain; charset="utf-8"'
        if cte != old_cte:
            _set_header(entity, "Content-Transfer-Encoding", cte)


def _set_header(entity: EmailMessage, name: str, value: str) -> None:
    if name in entity:
        entity.replace_header(name, value)
    else:
        entity[name] = value


def _collides(data: bytes, boundaries: Sequence[str]) -> bool:
    """Whether a line of new text would read as a MIME boundary (then base64 keeps the tree intact)."""
    lines = data.splitlines()
    return any(line.startswith(b"--" + b.encode("ascii", "replace")) for b in boundaries for line in lines)


def _decode_text(entity: EmailMessage) -> str:
    raw_cte = str(entity.get("Content-Transfer-Encoding", "7bit"))
    if (cte := raw_cte.strip().lower()) not in _TRANSFER_ENCODINGS:
        raise malformed("a text part uses a transfer encoding this gateway cannot inspect")
    if cte != raw_cte.lower():  # the stdlib would not decode " base64 " while mail clients do: normalise
        entity.replace_header("Content-Transfer-Encoding", cte)
    payload = entity.get_payload(decode=True)
    _check(entity)  # decoding records base64 defects
    if not isinstance(payload, bytes):
        raise malformed("a text part has no readable payload")
    declared = entity.get_content_charset()
    for charset in (declared,) if declared else ("us-ascii", "utf-8"):  # undeclared 8-bit text is UTF-8
        try:
            return payload.decode(_codec(charset))
        except UnicodeDecodeError:
            continue
    raise malformed("a text part does not decode in its charset")


def _leaf(entity: EmailMessage, section: str, boundaries: tuple[str, ...]) -> _Leaf:
    content_type = entity.get_content_type()
    filename = None if (raw_name := entity.get_filename()) is None else one_line(unsmuggle(raw_name))
    is_text = entity.get_content_maintype() == "text"
    attached = entity.is_attachment() or filename is not None or not is_text
    text = _decode_text(entity) if is_text else None
    printable = "".join(char if char.isprintable() else "?" for char in filename or "")
    base = f"attachment:{section}:{printable}" if attached else f"body:{section}"
    html: HtmlText | None = None
    if content_type == "text/html" and text is not None:
        try:
            html = split_html(text, prefix=f"{base}/html:")
        except (ValueError, AssertionError) as exc:
            raise malformed("an HTML part could not be split into text and markup") from exc
    parts: list[Part] = []
    if attached:
        meta = {"kind": "attachment", "content_type": content_type, "filename": filename or ""}
        parts.append(Part(base, text if text is not None and html is None else "", meta=meta))
        if filename is not None:
            parts.append(Part(f"{base}/filename", filename, key="filename", meta={"kind": "filename"}))
    elif html is None:
        parts.append(Part(base, text or "", meta={"kind": "body", "content_type": content_type}))
    if html is not None:
        meta = {"content_type": content_type}
        parts.extend(Part(p.path, p.text, meta={"kind": p.kind, **meta}) for p in html.pieces)
    return _Leaf(parts, entity, attached, filename, text, html, boundaries)


def _walk_message(message: EmailMessage, section: str, boundaries: tuple[str, ...]) -> Iterator[Slot]:
    """Slots of one email (the top level or an attached one): its headers, then its body."""
    yield from header_slots(message, section)
    if message.get_content_maintype() != "multipart":
        section = f"{section}.1" if section else "1"
    yield from _walk_entity(message, section, boundaries)


def _walk_entity(entity: EmailMessage, section: str, boundaries: tuple[str, ...]) -> Iterator[Slot]:
    if entity.get_content_maintype() == "multipart":
        if not entity.is_multipart():
            raise malformed("a multipart part has no parts")
        yield from _around(entity, "preamble", section or "0")
        for number, child in enumerate(entity.iter_parts(), 1):
            assert isinstance(child, EmailMessage)  # the default policy's message factory
            child_section = f"{section}.{number}" if section else str(number)
            yield from _walk_entity(child, child_section, boundaries)
        yield from _around(entity, "epilogue", section or "0")
    elif _encapsulated(entity):  # message/rfc822 and kin: an email inside the email
        inner = entity.get_payload(0)
        assert isinstance(inner, EmailMessage)
        yield from _walk_message(inner, section, boundaries)
    else:
        yield _leaf(entity, section, boundaries)


def _encapsulated(entity: EmailMessage) -> bool:
    payload = entity.get_payload()
    return (entity.get_content_maintype() == "message" and entity.get_content_type() != "message/delivery-status"
            and isinstance(payload, list) and len(payload) == 1)


def _around(entity: EmailMessage, which: str, section: str) -> Iterator[Slot]:
    """A multipart's preamble or epilogue: not shown by mail clients, but it travels with the message."""
    value = getattr(entity, which)
    if value and value.strip():
        part = Part(f"{which}:{section}", unsmuggle(value), meta={"kind": f"mime-{which}"})
        yield Single([part], partial(_set_around, entity, which))


def _slots(message: EmailMessage) -> list[Slot]:
    boundaries = tuple(b for p in message.walk() if p.is_multipart() and (b := p.get_boundary()))
    slots = list(_walk_message(message, "", boundaries))
    paths = [part.path for slot in slots for part in slot.parts]
    if len(set(paths)) != len(paths):
        raise malformed("two parts of the email would share a path")
    return slots


def _shape(message: EmailMessage) -> list[tuple[str, list[str]]]:
    """Each entity's content type and header names: what must survive writing."""
    return [(part.get_content_type(), [name.lower() for name in part]) for part in message.walk()]


class EmailDocument:
    """A parsed email. ``serialize`` parses the original again and writes the parts' outputs into it."""

    def __init__(self, body: bytes, slots: list[Slot]) -> None:
        self._body = body
        self._groups = [slot.parts for slot in slots]
        self.parts: list[Part] = [part for group in self._groups for part in group]
        first_line = body.split(b"\n", 1)[0]
        self._linesep = "\r\n" if first_line.endswith(b"\r") else "\n"

    def serialize(self) -> bytes:
        """Return the email with every part's output applied; only changed places are re-encoded."""
        message = _parse(self._body)
        fresh = _slots(message)
        for slot, parts in zip(fresh, self._groups, strict=True):
            slot.write(parts)
        expected = _shape(message)
        # CPython can fold an odd address into a line without leading space; then write headers unfolded.
        for max_line_length in (78, None):
            policy = _POLICY.clone(linesep=self._linesep, refold_source="none", max_line_length=max_line_length)
            buffer = io.BytesIO()
            generator = BytesGenerator(buffer, mangle_from_=False, policy=policy)
            try:
                generator.flatten(message, unixfrom=message.get_unixfrom() is not None)
                reparsed = _parse(output := buffer.getvalue())
            except (BadRequestError, UnicodeError, ValueError, errors.MessageError):
                continue  # never send what this handler could not read back itself
            if _shape(reparsed) == expected:
                return output
        raise InspectionError("the rewritten email would not keep its structure")


class EmailHandler:
    """Splits ``message/rfc822`` bodies into headers, text bodies and attachments."""

    name = "email"
    media_types: tuple[str, ...] = ("message/rfc822",)

    def parse(self, body: bytes, *, media_type: str, charset: str | None) -> EmailDocument:
        """Parse ``body``; the ``charset`` argument is ignored (an email declares its own per part)."""
        try:
            return EmailDocument(body, _slots(_parse(body)))
        except BadRequestError:
            raise
        except Exception as exc:  # the stdlib raises many types on hostile input; all mean the same here
            raise malformed("the body could not be read as an email") from exc


@hookimpl(trylast=True)
def aduana_content_handlers() -> list[ContentHandler]:
    return [EmailHandler()]
