"""The message/rfc822 handler: parts and paths, write-back, encodings, malformed input."""

from __future__ import annotations

import email
import email.policy
import html
import re
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.errors import BadRequestError
from gateway.inspect.document import ContentHandler, Part
from gateway.plugins import content_email
from gateway.plugins.content_email import EmailDocument, EmailHandler

EMAILS = Path(__file__).parent / "emails"
FIXTURES = sorted(path.name for path in EMAILS.glob("*.eml"))
PERSON = "⟦PERSON_1a2b3c4d⟧"
EMAIL = "⟦EMAIL_ADDRESS_5e6f7a8b⟧"
NIF = "⟦ES_NIF_0a1b2c3d⟧"


def load(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


def parse(raw: bytes) -> EmailDocument:
    return EmailHandler().parse(raw, media_type="message/rfc822", charset=None)


def reparse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def by_path(doc: EmailDocument) -> dict[str, Part]:
    return {part.path: part for part in doc.parts}


def replace_everywhere(doc: EmailDocument, changes: dict[str, str]) -> None:
    """Do what the transformer does: replace each finding inside every part's text."""
    for part in doc.parts:
        text = part.text
        for old, new in changes.items():
            text = text.replace(old, new)
        if text != part.text:
            part.replacement = text


def crlf_to_lf(text: str) -> str:
    return text.replace("\r\n", "\n")


def tree(message: EmailMessage) -> list[str]:
    return [part.get_content_type() for part in message.walk()]


def leaves(message: EmailMessage) -> list[EmailMessage]:
    return [p for p in message.walk() if not p.is_multipart()]


def readable(message: EmailMessage) -> str:
    """Every header decoded and every leaf decoded (base64/QP undone, charset applied, HTML unescaped)."""
    views = [str(value) for part in message.walk() for value in part.values()]
    for leaf in leaves(message):
        data = leaf.get_payload(decode=True)
        assert isinstance(data, bytes)
        if leaf.get_content_maintype() == "text":
            text = data.decode(leaf.get_content_charset() or "us-ascii")  # strict: the charset must be valid
            views += [text, html.unescape(text)]
        views += [data.decode("utf-8", "replace"), data.decode("latin-1")]
    return "\n".join(views)


# --- parsing: parts and paths ---------------------------------------------------------------------------

EXPECTED_PARTS = [
    ("reply_chain.eml", "header:To/1/name", "José Pérez"),
    ("reply_chain.eml", "header:Subject", "Re: Re: Pedido 4471 de José Pérez"),
    ("reply_chain.eml", "body:1", "> mi DNI es 12345678Z y el teléfono 612 345 678."),
    ("reply_chain.eml", "body:1", ">> Estimado José Pérez, su pedido 4471"),
    ("reply_chain.eml", "body:2/html:25@href", "mailto:jose.perez@correo.es"),
    ("reply_chain.eml", "body:2/html:34", "mi DNI es 12345678Z y el teléfono 612 345 678. ¿Pueden"),
    ("mixed_attachments.eml", "header:Reply-To/1/address", "helpdesk@example.com"),
    ("mixed_attachments.eml", "preamble:0", "This is a multi-part message in MIME format."),
    ("mixed_attachments.eml", "body:1.1", "Customer John Smith (john.smith@example.com, +1 415 555 0132)"),
    ("mixed_attachments.eml", "body:1.2/html:11", "John Smith"),
    ("mixed_attachments.eml", "body:1.2/html:17", "Invoice & call notes attached."),
    ("mixed_attachments.eml", "attachment:2:invoice-88213.pdf/filename", "invoice-88213.pdf"),
    ("mixed_attachments.eml", "attachment:3:call-notes.txt", "prefiere que le llame la Señora Muñoz."),
    ("latin1_8bit.eml", "header:To/1/name", "Señora Muñoz"),
    ("latin1_8bit.eml", "header:Subject", "Actualización de sus datos"),
    ("latin1_8bit.eml", "body:1", "Señora Muñoz, su DNI 12345678Z figura"),
    ("forwarded.eml", "body:1", "Forwarding the email from John Smith below."),
    ("forwarded.eml", "header:2:From/1/name", "Smith, John"),
    ("forwarded.eml", "body:2.1", "Hello, this is John Smith."),
]


@pytest.mark.parametrize(("fixture", "path", "text"), EXPECTED_PARTS)
def test_parts_expose_text_at_stable_paths(fixture: str, path: str, text: str) -> None:
    parts = by_path(parse(load(fixture)))
    assert text in parts[path].text


@pytest.mark.parametrize(
    ("fixture", "path", "meta"),
    [
        ("mixed_attachments.eml", "attachment:2:invoice-88213.pdf",
         {"kind": "attachment", "content_type": "application/pdf", "filename": "invoice-88213.pdf"}),
        ("mixed_attachments.eml", "attachment:3:call-notes.txt",
         {"kind": "attachment", "content_type": "text/plain", "filename": "call-notes.txt"}),
        ("mixed_attachments.eml", "body:1.2/html:11", {"kind": "html-text", "content_type": "text/html"}),
        ("reply_chain.eml", "header:To/1/address", {"kind": "address"}),
        ("reply_chain.eml", "body:1", {"kind": "body", "content_type": "text/plain"}),
    ],
)
def test_parts_carry_meta(fixture: str, path: str, meta: dict[str, str]) -> None:
    assert by_path(parse(load(fixture)))[path].meta == meta


@pytest.mark.parametrize("fixture", FIXTURES)
def test_headers_come_first_paths_are_unique_and_keys_name_headers(fixture: str) -> None:
    parts = parse(load(fixture)).parts
    assert len({p.path for p in parts}) == len(parts)
    assert parts[0].path == "header:From/1/name"
    assert all(p.key == p.path.split(":")[1].split("/")[0] for p in parts if p.path.startswith("header:From"))


def test_markup_is_never_a_part() -> None:
    texts = [p.text for p in parse(load("reply_chain.eml")).parts if p.path.startswith("body:2/")]
    assert not any("<" in t and ">" in t for t in texts)
    assert not any("gmail_quote" in t or "border-left" in t for t in texts)


# --- round trips ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", FIXTURES)
def test_no_replacement_gives_back_the_same_bytes(fixture: str) -> None:
    raw = load(fixture)
    assert parse(raw).serialize() == raw


REPLACEMENTS = [
    ("reply_chain.eml", {"José Pérez": PERSON, "jose.perez@correo.es": EMAIL, "12345678Z": NIF}),
    ("mixed_attachments.eml", {"John Smith": PERSON, "john.smith@example.com": EMAIL, "Señora Muñoz": PERSON}),
    ("mixed_attachments.eml", {"4111 1111 1111 1111": "XXXX XXXX XXXX 1111"}),
    ("latin1_8bit.eml", {"Señora Muñoz": PERSON, "12345678Z": NIF, "José Pérez": PERSON}),
    ("forwarded.eml", {"John Smith": PERSON, "Smith, John": PERSON, "john.smith@example.com": EMAIL}),
]


@pytest.mark.parametrize(("fixture", "changes"), REPLACEMENTS)
def test_replaced_values_are_gone_everywhere_and_the_rest_is_intact(fixture: str, changes: dict[str, str]) -> None:
    raw = load(fixture)
    doc = parse(raw)
    untouched = {p.path for p in doc.parts if not any(old in p.text for old in changes)}
    replace_everywhere(doc, changes)
    out = doc.serialize()
    before, after = reparse(raw), reparse(out)
    assert tree(after) == tree(before)
    seen = readable(after)
    for old, new in changes.items():
        assert new in seen
        assert old not in seen
        assert old.encode("utf-8") not in out and old.encode("latin-1") not in out
    again = by_path(parse(out))
    for path in untouched:
        assert again[path].text == by_path(doc)[path].text
    for old_leaf, new_leaf in zip(leaves(before), leaves(after), strict=True):
        if not any(old in readable(old_leaf) for old in changes):
            assert new_leaf.as_bytes() == old_leaf.as_bytes()
        assert new_leaf["Content-Transfer-Encoding"] == old_leaf["Content-Transfer-Encoding"] or (
            old_leaf["Content-Transfer-Encoding"] in (None, "7bit")
        )


def test_unexposed_headers_are_kept_exactly() -> None:
    raw = load("mixed_attachments.eml")
    doc = parse(raw)
    replace_everywhere(doc, {"John Smith": PERSON})
    out = doc.serialize()
    header_block = raw.split(b"\n\n", 1)[0]
    for line in header_block.split(b"\n"):
        if not line.startswith((b"Subject:", b"From:")):
            assert line in out


@pytest.mark.parametrize(
    ("fixture", "path", "new", "charset", "cte"),
    [
        ("latin1_8bit.eml", "body:1", "Señora García, gracias.\n", "iso-8859-1", "8bit"),  # still fits
        ("latin1_8bit.eml", "body:1", f"Señora {PERSON}, gracias.\n", "utf-8", "8bit"),  # token: UTF-8
        ("reply_chain.eml", "body:1", f"Hola {PERSON}\r\n", "utf-8", "quoted-printable"),
        ("mixed_attachments.eml", "body:1.1", f"Customer {PERSON}\n", "utf-8", "base64"),
        ("mixed_attachments.eml", "attachment:3:call-notes.txt", f"Caller: {PERSON}\n", "utf-8", "quoted-printable"),
        ("forwarded.eml", "body:1", "Forwarding an email.\n", "us-ascii", "7bit"),
        ("forwarded.eml", "body:1", f"From {PERSON}.\n", "utf-8", "quoted-printable"),  # 7bit cannot hold it
    ],
)
def test_charset_and_transfer_encoding_on_write(fixture: str, path: str, new: str, charset: str, cte: str) -> None:
    doc = parse(load(fixture))
    by_path(doc)[path].replacement = new
    out = doc.serialize()
    texts = [p for p in leaves(reparse(out)) if p.get_content_maintype() == "text"]
    leaf = next(p for p in texts if crlf_to_lf(p.get_content()) == crlf_to_lf(new))
    assert leaf.get_content_charset() == charset
    assert leaf.get("Content-Transfer-Encoding", "7bit") == cte
    assert crlf_to_lf(by_path(parse(out))[path].text) == crlf_to_lf(new)


def test_html_keeps_markup_and_writes_unencodable_text_as_character_references() -> None:
    message = EmailMessage()
    message["From"] = "a@example.com"
    source = '<p class="x">Hola Jos&eacute; P&eacute;rez &amp; Co</p><img alt="Foto de José Pérez" src="cid:1">'
    message.set_content(source, subtype="html", charset="iso-8859-1", cte="quoted-printable")
    doc = parse(message.as_bytes())
    replace_everywhere(doc, {"José Pérez": PERSON})
    leaf = reparse(doc.serialize())
    assert leaf.get_content_charset() == "iso-8859-1"
    written = leaf.get_content()
    assert written == '<p class="x">Hola &#10214;PERSON_1a2b3c4d&#10215; &amp; Co</p>' \
        '<img alt="Foto de &#10214;PERSON_1a2b3c4d&#10215;" src="cid:1">\n'
    assert re.findall(r"<(\w+)", written) == re.findall(r"<(\w+)", source)


def test_headers_are_written_as_encoded_words() -> None:
    doc = parse(load("latin1_8bit.eml"))
    replace_everywhere(doc, {"Señora Muñoz": PERSON, "m.munoz@correo.es": EMAIL, "Actualización": "Cambio"})
    out = doc.serialize()
    header_block = out.split(b"\n\n", 1)[0]
    assert header_block.isascii()
    assert b"=?utf-8?" in header_block
    message = reparse(out)
    assert message["To"].addresses[0].display_name == PERSON
    assert str(message["Subject"]) == "Cambio de sus datos"
    assert str(message["From"]) == "José Pérez <jose.perez@banco.example>"
    assert by_path(parse(out))["header:To/1/address"].text == EMAIL  # a restore finds the token again


def test_an_address_replaced_by_odd_text_still_gives_a_readable_header() -> None:
    doc = parse(load("reply_chain.eml"))  # CPython folds this one badly at 78 columns: written unfolded
    by_path(doc)["header:Cc/1/name"].replacement = f"Marta {PERSON} Ruiz de la Fuente y Gómez-Acebo"
    by_path(doc)["header:Cc/1/address"].replacement = f"marta.ruiz@tienda.example.A_Re=3A_Pedido{PERSON}"
    out = doc.serialize()
    again = by_path(parse(out))
    assert again["header:Cc/1/address"].text == f"marta.ruiz@tienda.example.A_Re=3A_Pedido{PERSON}"
    assert again["header:Cc/1/name"].text == f"Marta {PERSON} Ruiz de la Fuente y Gómez-Acebo"


def test_line_breaks_in_header_replacements_cannot_add_headers() -> None:
    doc = parse(load("latin1_8bit.eml"))
    by_path(doc)["header:Subject"].replacement = "Hola\r\nBcc: attacker@evil.example"
    by_path(doc)["header:To/1/name"].replacement = "X\nBcc: attacker@evil.example"
    message = reparse(doc.serialize())
    assert "Bcc" not in message
    assert str(message["Subject"]) == "Hola Bcc: attacker@evil.example"


def test_dropped_attachment_is_replaced_by_a_note_and_kept_ones_pass_unchanged() -> None:
    raw = load("mixed_attachments.eml")
    doc = parse(raw)
    by_path(doc)["attachment:2:invoice-88213.pdf"].drop = True
    out = doc.serialize()
    before, after = reparse(raw), reparse(out)
    note, size = leaves(after)[2], len(leaves(before)[2].get_payload(decode=True))
    assert note.get_content_type() == "text/plain"
    assert note.get_content() == \
        f"[attachment invoice-88213.pdf (application/pdf, {size} bytes) removed by Aduana policy]\n"
    assert b"%PDF" not in b"".join(p.get_payload(decode=True) or b"" for p in leaves(after))  # type: ignore[misc]
    assert tree(after) == [*tree(before)[:4], "text/plain", tree(before)[5]]
    assert leaves(after)[3].as_bytes() == leaves(before)[3].as_bytes()


def test_a_renamed_attachment_is_renamed_in_the_note_and_headers() -> None:
    doc = parse(load("mixed_attachments.eml"))
    by_path(doc)["attachment:3:call-notes.txt/filename"].replacement = f"notas-{PERSON}.txt"
    by_path(doc)["attachment:2:invoice-88213.pdf/filename"].replacement = f"{PERSON}.pdf"
    by_path(doc)["attachment:2:invoice-88213.pdf"].drop = True
    after = reparse(doc.serialize())
    assert leaves(after)[3].get_filename() == f"notas-{PERSON}.txt"
    assert f"[attachment {PERSON}.pdf (application/pdf" in leaves(after)[2].get_content()


def test_a_protected_address_is_restored_to_a_real_address() -> None:
    doc = parse(load("reply_chain.eml"))
    replace_everywhere(doc, {"José Pérez": PERSON, "jose.perez@correo.es": EMAIL})
    protected = doc.serialize()
    restoring = parse(protected)  # the vendor's reply comes back with the tokens
    replace_everywhere(restoring, {PERSON: "José Pérez", EMAIL: "jose.perez@correo.es"})
    message = reparse(restoring.serialize())
    assert str(message["To"]) == "José Pérez <jose.perez@correo.es>"
    assert not message["To"].defects


@pytest.mark.parametrize(
    ("drop", "expected"),
    [
        (("header:Cc/1/name", "header:Cc/1/address"), None),
        (("header:Cc/1/address",), "Marta Ruiz:;"),
        (("header:Cc/1/name",), "marta.ruiz@tienda.example"),
    ],
)
def test_dropping_address_parts(drop: tuple[str, ...], expected: str | None) -> None:
    doc = parse(load("reply_chain.eml"))
    for path in drop:
        by_path(doc)[path].drop = True
    cc = reparse(doc.serialize())["Cc"]
    assert (None if cc is None else str(cc)) == expected


def test_group_names_are_parts_too() -> None:
    raw = "From: a@example.com\nTo: Familia Pérez: jose@example.es, ana@example.es;, b@example.com\n\nHola\n"
    doc = parse(raw.encode())
    assert [(p.path, p.text) for p in doc.parts[2:5]] == [
        ("header:To/group:1", "Familia Pérez"), ("header:To/1/name", ""), ("header:To/1/address", "jose@example.es")]
    replace_everywhere(doc, {"Pérez": PERSON, "jose@example.es": EMAIL})
    assert str(reparse(doc.serialize())["To"]) == f"Familia {PERSON}: {EMAIL}, ana@example.es;, b@example.com"


def test_html_attachments_preambles_and_scripts() -> None:
    message = EmailMessage()
    message["From"] = "a@example.com"
    message.set_content("See attached, Jose Perez.\n")
    page = "<html><script>var who = 'Jose Perez';</script><p title='Jose Perez'>Jose Perez</p></html>\n"
    message.add_attachment(page, subtype="html", filename="Jose Perez.html")
    message.preamble = "Sent to Jose Perez by the helpdesk.\n"
    doc = parse(message.as_bytes())
    assert [p.path for p in doc.parts] == [
        "header:From/1/name", "header:From/1/address", "preamble:0", "body:1",
        "attachment:2:Jose Perez.html", "attachment:2:Jose Perez.html/filename",
        "attachment:2:Jose Perez.html/html:5@title", "attachment:2:Jose Perez.html/html:6",
    ]
    replace_everywhere(doc, {"Jose Perez": PERSON})
    out = doc.serialize()
    assert by_path(parse(out))["preamble:0"].text == f"Sent to {PERSON} by the helpdesk.\n"  # raw UTF-8
    after = reparse(out)
    attachment = leaves(after)[1]
    assert attachment.get_filename() == f"{PERSON}.html"
    assert attachment.get_content() == \
        f"<html><script>var who = 'Jose Perez';</script><p title='{PERSON}'>{PERSON}</p></html>\n"


def test_address_comments_are_not_passed_uninspected() -> None:
    raw = b"From: jose@example.es (Jose Perez)\nSubject: hi\n\nbody\n"
    doc = parse(raw)
    assert [p.text for p in doc.parts[:2]] == ["", "jose@example.es"]
    assert b"Jose Perez" not in doc.serialize()  # the comment was not a part, so it is not written back


def test_a_padded_transfer_encoding_is_decoded_before_inspection() -> None:
    raw = b"From: a@example.com\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64 \n\n" \
        b"Sm9zw6kgUMOpcmV6Cg==\n"  # the stdlib leaves " base64 " undecoded; mail clients decode it
    doc = parse(raw)
    assert doc.parts[-1].text == "José Pérez\n"
    replace_everywhere(doc, {"José Pérez": PERSON})
    assert reparse(doc.serialize()).get_content() == f"{PERSON}\n"


def test_serialize_reflects_the_current_replacements_each_time() -> None:
    doc = parse(load("latin1_8bit.eml"))
    part = by_path(doc)["body:1"]
    part.replacement = "uno\n"
    assert b"uno" in doc.serialize()
    part.replacement = None
    assert doc.serialize() == load("latin1_8bit.eml")


def test_missing_final_boundary_is_tolerated_and_closed_on_write() -> None:
    raw = (b"From: a@example.com\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n"
           b"--b\nContent-Type: text/plain\n\nJose Perez wrote this\n")
    doc = parse(raw)
    assert by_path(doc)["body:1"].text == "Jose Perez wrote this"  # the stdlib reads to the end
    replace_everywhere(doc, {"Jose Perez": PERSON})
    out = doc.serialize()
    assert out.rstrip().endswith(b"--b--")
    assert reparse(out).get_payload(0).get_content() == f"{PERSON} wrote this"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01",
        b'{"ticket": {"requester": "Jose Perez"}}',
        b"Just some text that a caller sent as message/rfc822.\n",
        b"From: a@example.com\nthis line is not a header\n\nbody\n",
        b"From: a@example.com\nContent-Type: multipart/mixed\n\n--x\n\nJose\n--x--\n",  # no boundary
        b"From: a@example.com\nContent-Type: multipart/mixed; boundary=b\n\nno parts, Jose Perez\n",
        b"From: a@example.com\nContent-Transfer-Encoding: base64\n\nSm9zZSBQZXJleg=*=\n",  # bad base64
        b"From: a@example.com\nContent-Type: text/plain; charset=x-no-such-charset\n\nJose\n",
        b"From: a@example.com\nContent-Type: text/plain; charset=utf-8\n\nJos\xe9\n",  # not UTF-8
        b"From: a@example.com\nContent-Transfer-Encoding: x-compress\n\nJose\n",
        b"From: a@example.com\nFrom: b@example.com\n\nbody\n",
        b"From: a@example.com\nContent-Type: text/plain\nContent-Type: text/html\n\nbody\n",
        b"From: a@example.com\nContent-Type: text/plain; ch\xe9rset=utf-8\n\nbody\n",  # 8-bit structure
    ],
)
def test_malformed_emails_are_rejected(raw: bytes) -> None:
    with pytest.raises(BadRequestError) as caught:
        parse(raw)
    assert caught.value.reason == "malformed_body"


def test_the_hook_registers_the_handler() -> None:
    (handler,) = content_email.aduana_content_handlers()
    assert isinstance(handler, ContentHandler)
    assert handler.media_types == ("message/rfc822",)


# --- property: any text body survives -------------------------------------------------------------------

BODY_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r"), max_size=300)


@settings(max_examples=150, deadline=None)
@given(text=BODY_TEXT, new=BODY_TEXT, charset=st.sampled_from(["utf-8", "iso-8859-1"]),
       cte=st.sampled_from(["quoted-printable", "base64", "8bit", "7bit"]), nested=st.booleans())
def test_any_text_body_survives_parse_serialize_parse(text: str, new: str, charset: str, cte: str,
                                                     nested: bool) -> None:
    if cte == "7bit" and not text.isascii():
        cte = "quoted-printable"
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        charset = "utf-8"
    leaf = EmailMessage()
    leaf.set_content(text, charset=charset, cte=cte)
    message = EmailMessage()
    message["From"] = "José Pérez <jose@example.es>"
    if nested:
        message.set_content("first part\n")
        message.add_attachment(leaf.get_content(), charset=charset, cte=cte, disposition="inline")
    else:
        message.set_content(text, charset=charset, cte=cte)
    raw = message.as_bytes()
    doc = parse(raw)
    body = [p for p in doc.parts if p.path.startswith("body:")][-1]
    assert body.text == leaf.get_content()
    assert doc.serialize() == raw
    body.replacement = new
    out = doc.serialize()
    assert [p.text for p in parse(out).parts if p.path == body.path] == [new]
    assert tree(reparse(out)) == tree(reparse(raw))
