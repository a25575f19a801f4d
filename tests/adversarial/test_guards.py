"""The guards' pure checks, table-driven: declared types, codings, response headers, raw paths."""

from __future__ import annotations

import pytest
from adversarial_support import PNG_MAGIC

from gateway.errors import AduanaError
from gateway.proxy import guards
from gateway.proxy.routes import check_raw_path


@pytest.mark.parametrize(
    ("body", "content_type", "refused"),
    [
        (PNG_MAGIC + b"\x00" * 8, "image/png", False),
        (b'{"customer": "x"}', "image/png", True),
        (b"%PDF-1.4\n", "application/pdf; charset=binary", False),
        (b"GIF89a", "image/jpeg", True),
        (b'{"a": 1}', "application/json", False),  # no signature known: the pack passed it on purpose
        (b"", "image/png", False),  # nothing to mislabel
    ],
)
def test_check_declared_type(body: bytes, content_type: str, refused: bool) -> None:
    if refused:
        with pytest.raises(AduanaError) as info:
            guards.check_declared_type(body, content_type)
        assert (info.value.status, info.value.reason) == (415, "content_type_mismatch")
    else:
        guards.check_declared_type(body, content_type)


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({}, False),
        ({"Transfer-Encoding": "chunked"}, False),
        ({"Content-Encoding": "identity"}, False),
        ({"Transfer-Encoding": "gzip, chunked"}, True),
        ({"Content-Encoding": "br"}, True),
        ({"Content-Encoding": "identity, gzip"}, True),
    ],
)
def test_check_codings(headers: dict[str, str], refused: bool) -> None:
    if refused:
        with pytest.raises(AduanaError) as info:
            guards.check_codings(headers)
        assert (info.value.status, info.value.reason) == (415, "compressed_body")
    else:
        guards.check_codings(headers)


def test_only_allow_listed_response_headers_pass() -> None:
    out = guards.response_headers({"Content-Type": "application/json", "ETag": '"1"',
                                   "X-Customer-Email": "a@example.com", "Set-Cookie": "s=1",
                                   "Content-Disposition": 'attachment; filename="Jane Doe.pdf"'})
    assert sorted(out) == ["Content-Type", "ETag"]


@pytest.mark.parametrize(
    "raw",
    ["/a/%c0%ae%c0%ae/x", "/a/%e0%80%ae/x", "/a/..;/b", "/a/b;jsessionid=1", "/a/%u002e%u002e/b", "/a/%zz",
     "/a/%", "/a/%ed%a0%80/x", "/a/../b", "/a//b", "/a/%2e/b"],
)
def test_raw_paths_refused(raw: str) -> None:
    with pytest.raises(AduanaError) as info:
        check_raw_path(raw)
    assert (info.value.status, info.value.reason) == (400, "path_rejected")


@pytest.mark.parametrize(("raw", "path"), [("/a/caf%C3%A9/b", "/a/café/b"), ("/a/b%20c", "/a/b c"), ("/a/", "/a/")])
def test_raw_paths_accepted(raw: str, path: str) -> None:
    assert check_raw_path(raw) == path
