"""The exposed headers of an email as parts, and how their outputs are written back (for ``content_email``).

``From``, ``To``, ``Cc``, ``Reply-To``, ``Sender`` and ``Bcc`` give one part per group name, mailbox name and
address; ``Subject`` one part. A changed header is rewritten (encoded-words where needed); an address
header whose text the parts do not show whole (comments, parse defects) is always rebuilt from them, so
nothing the parts did not show survives. Header values never hold line breaks (no header injection).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email import errors
from email.header import decode_header
from email.headerregistry import Address, AddressHeader, BaseHeader, Group
from email.message import EmailMessage
from functools import partial

from gateway.errors import BadRequestError
from gateway.inspect.document import Part

EXPOSED_HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Sender", "Bcc")
_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def malformed(detail: str) -> BadRequestError:
    return BadRequestError(detail, reason="malformed_body")


def unsmuggle(text: str) -> str:
    """Turn raw 8-bit header or preamble bytes (kept as surrogates by the parser) into text."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is not an escaped byte
        return text.encode("utf-8", "replace").decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def one_line(text: str) -> str:
    """Header values cannot hold line breaks (they would inject headers): turn them into spaces."""
    return " ".join(text.splitlines())


@dataclass
class Slot:
    """Parts that go back to one place of the message; ``write`` puts their outputs there."""

    parts: list[Part]

    def write(self, parts: Sequence[Part]) -> None:
        raise NotImplementedError


@dataclass
class Single(Slot):
    """One part written back through ``put`` when it changed: an unstructured header, a preamble."""

    put: Callable[[str], None] = field(repr=False)

    def write(self, parts: Sequence[Part]) -> None:
        if parts[0].output != parts[0].text:
            self.put(parts[0].output)


@dataclass
class AddressSlot(Slot):
    message: EmailMessage = field(repr=False)
    name: str
    groups: tuple[Group, ...]
    #: Comments or parse defects: the text the parts show is not all there is, so always rebuild.
    unclean: bool

    def write(self, parts: Sequence[Part]) -> None:
        if not self.unclean and all(part.output == part.text for part in parts):
            return
        outputs = iter(parts)
        rebuilt: list[Group] = []
        for group in self.groups:
            label = None if group.display_name is None else one_line(next(outputs).output)
            members: list[Address] = []
            for _ in group.addresses:
                name, address = one_line(next(outputs).output), one_line(next(outputs).output)
                if address:
                    members.append(_address(name, address))
                elif name and not label:  # a name without an address can only stand as an empty group
                    rebuilt.append(Group(name, []))
            if label:
                rebuilt.append(Group(label, members))
            else:
                rebuilt.extend(Group(None, [member]) for member in members)
        if rebuilt:
            self.message.replace_header(self.name, rebuilt)
        else:
            del self.message[self.name]


def _address(name: str, address: str) -> Address:
    try:
        return Address(display_name=name, addr_spec=address)
    except (ValueError, IndexError, errors.HeaderParseError):
        return Address(display_name=name, username=address, domain="")


def header_slots(message: EmailMessage, section: str) -> Iterator[Slot]:
    prefix = f"header:{section}:" if section else "header:"
    raw = {name.lower(): value for name, value in message.raw_items()}
    for name in EXPOSED_HEADERS:
        if name not in message:
            continue
        if len(message.get_all(name, [])) > 1:
            raise malformed(f"the email has more than one {name} header")
        header = message[name]
        if not isinstance(header, AddressHeader):
            part = Part(prefix + name, unsmuggle(str(header)), key=name, meta={"kind": "header"})
            yield Single([part], partial(_replace_header, message, name))
            continue
        slot_parts, number = [], 0  # in the order write() reads them: each group's name, then its mailboxes
        for index, group in enumerate(header.groups, 1):
            if group.display_name is not None:  # "Team: a@x, b@y;" or "undisclosed-recipients:;"
                label, meta = unsmuggle(group.display_name), {"kind": "address-group"}
                slot_parts.append(Part(f"{prefix}{name}/group:{index}", label, key=name, meta=meta))
            for mailbox in group.addresses:
                number += 1
                address = _ENCODED_WORD.sub(_decode_word, mailbox.addr_spec if mailbox.domain else mailbox.username)
                for what, text in (("name", mailbox.display_name), ("address", address)):
                    meta = {"kind": "address-name" if what == "name" else "address"}
                    slot_parts.append(Part(f"{prefix}{name}/{number}/{what}", unsmuggle(text), key=name, meta=meta))
        unclean = not isinstance(header, BaseHeader) or bool(header.defects) or "(" in raw[name.lower()]
        yield AddressSlot(slot_parts, message, name, header.groups, unclean)


def _decode_word(match: re.Match[str]) -> str:
    """Decode an encoded-word found inside an address, where Python's email writes odd replacements."""
    try:
        return "".join(data.decode(charset or "ascii") if isinstance(data, bytes) else data
                       for data, charset in decode_header(match.group(0)))
    except (LookupError, UnicodeDecodeError, errors.HeaderParseError):
        return match.group(0)


def _replace_header(message: EmailMessage, name: str, value: str) -> None:
    message.replace_header(name, one_line(value))
