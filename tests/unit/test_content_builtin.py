"""The built-in JSON, text and form handlers."""

from __future__ import annotations

import json

import pytest

from gateway.errors import BadRequestError
from gateway.plugins.content_form import FormHandler
from gateway.plugins.content_json import JsonHandler
from gateway.plugins.content_text import TextHandler


def test_json_walks_values_and_keeps_structure() -> None:
    body = json.dumps({"a": "x", "n": 5, "b": [{"c": "y"}, True], "weird key": "z", "none": None}).encode()
    doc = JsonHandler().parse(body, media_type="application/json", charset=None)
    assert [(p.path, p.text, p.key, p.meta.get("scalar")) for p in doc.parts] == [
        ("$.a", "x", "a", None), ("$.n", "5", "n", "json"), ("$.b[0].c", "y", "c", None),
        ("$.b[1]", "true", "b", "json"), ("$#key[3]", "weird key", None, None),
        ('$["weird key"]', "z", "weird key", None),
    ]
    doc.parts[0].replacement = "⟦PERSON_0123456789ab⟧"
    doc.parts[1].drop = True
    doc.parts[3].drop = True
    doc.parts[4].replacement = "⟦PERSON_ba9876543210⟧"  # a key that held a value is renamed in place
    assert json.loads(doc.serialize()) == {
        "a": "⟦PERSON_0123456789ab⟧", "b": [{"c": "y"}, None], "⟦PERSON_ba9876543210⟧": "z", "none": None}


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"{", "malformed_body"), (b'{"a": 1, "a": 2}', "json_duplicate_key"), (b"\xff", "invalid_encoding"),
     (b"[" * 100 + b"]" * 100, "json_too_deep"), (b"[" * 10_000 + b"]" * 10_000, "json_too_deep"),
     (b'{"n": NaN}', "malformed_body"), (b'{"n": -Infinity}', "malformed_body"), (b'{"n": 1e999}', "malformed_body"),
     (b'{"s": "\\udc00"}', "invalid_encoding"), (b'{"\\ud800": 1}', "invalid_encoding")],
)
def test_json_refuses_ambiguous_or_broken_bodies(body: bytes, reason: str) -> None:
    with pytest.raises(BadRequestError) as info:
        JsonHandler().parse(body, media_type="application/json", charset=None)
    assert info.value.reason == reason


def test_json_refuses_two_keys_that_become_one_name() -> None:
    doc = JsonHandler().parse(b'{"m": {"a@x.org": 1, "b@x.org": 2}}', media_type="application/json", charset=None)
    for part in doc.parts:
        if part.meta.get("json") == "key":
            part.replacement = "<EMAIL_ADDRESS>"
    with pytest.raises(BadRequestError) as info:
        doc.serialize()
    assert info.value.reason == "json_key_collision"


def test_json_switches_to_utf8_when_a_token_does_not_fit_the_charset() -> None:
    doc = JsonHandler().parse('{"a": "Muñoz"}'.encode("latin-1"), media_type="application/json", charset="latin-1")
    doc.parts[0].replacement = "⟦PERSON_0123456789ab⟧"
    assert json.loads(doc.serialize().decode("utf-8")) == {"a": "⟦PERSON_0123456789ab⟧"}
    assert doc.charset == "utf-8"


def test_text_and_form() -> None:
    text = TextHandler().parse(b"Hola Ana", media_type="text/plain", charset="utf-8")
    text.parts[0].replacement = "Hola <PERSON>"
    assert text.serialize() == b"Hola <PERSON>"
    form = FormHandler().parse(b"author=Ana+Gil&note=hola%20%C3%B1", media_type="application/x-www-form-urlencoded",
                               charset=None)
    assert [(p.key, p.text) for p in form.parts] == [("author", "Ana Gil"), ("note", "hola ñ")]
    form.parts[0].replacement = "⟦PERSON_0123456789ab⟧"
    form.parts[1].drop = True
    assert form.serialize() == b"author=%E2%9F%A6PERSON_0123456789ab%E2%9F%A7"
    with pytest.raises(BadRequestError):
        FormHandler().parse(b"a=%ff", media_type="application/x-www-form-urlencoded", charset=None)
