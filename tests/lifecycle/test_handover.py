"""The handover bundle: round trips for both key kinds, chunk boundaries, and every way a bundle can be wrong."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from gateway.lifecycle import handover
from gateway.lifecycle.handover import (
    CHUNK_ENTRIES,
    Entry,
    HandoverError,
    generate_rsa,
    generate_x25519,
    load_private_key,
    load_recipient,
    open_bundle,
    write_bundle,
    write_bundle_file,
)

KEYS = {"x25519": generate_x25519(), "rsa": generate_rsa(2048)}


def entries(n: int) -> list[Entry]:
    return [Entry(f"⟦PERSON_{i:012x}⟧", "PERSON", f"Persona Número {i} — Ñandú", "2025-01-01T00:00:00+00:00")
            for i in range(n)]


def bundle(n: int, kind: str = "x25519", contract: str = "acme") -> bytes:
    out = io.BytesIO()
    write_bundle(out, load_recipient(KEYS[kind][1]), contract, "Acme", "2025-06-01T00:00:00Z", entries(n))
    return out.getvalue()


def opened(data: bytes, kind: str = "x25519") -> list[dict[str, object]]:
    return list(open_bundle(io.BytesIO(data), load_private_key(KEYS[kind][0])))


@pytest.mark.parametrize("kind", ["x25519", "rsa"])
@pytest.mark.parametrize("n", [0, 1, CHUNK_ENTRIES - 1, CHUNK_ENTRIES, CHUNK_ENTRIES + 1, 2 * CHUNK_ENTRIES + 3])
def test_round_trip(kind: str, n: int) -> None:
    data = bundle(n, kind)
    got = opened(data, kind)
    assert [e["value"] for e in got] == [e.value for e in entries(n)]
    lines = data.splitlines()
    assert len(lines) == 1 + max(1, -(-n // CHUNK_ENTRIES))  # header + chunks (one, maybe empty)
    assert json.loads(lines[-1])["final"] is True
    assert b"Persona" not in data and "Ñandú".encode() not in data


def test_unreadable_entries_are_marked() -> None:
    out = io.BytesIO()
    info = write_bundle(out, load_recipient(KEYS["x25519"][1]), "acme", None, "t",
                        [Entry("⟦PERSON_000000000001⟧", "PERSON", None, "t")])
    assert info.unreadable == 1 and info.entries == 1
    (entry,) = opened(out.getvalue())
    assert entry["value"] is None and entry["error"] == "integrity"


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True)


def _header_with(data: bytes, **changes: object) -> bytes:
    lines = _lines(data)
    header = json.loads(lines[0])
    header.update(changes)
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode() + b"\n" + b"".join(lines[1:])


def _flip(data: bytes) -> bytes:
    lines = _lines(data)
    chunk = json.loads(lines[1])
    raw = bytearray(base64.b64decode(chunk["ct"]))
    raw[-1] ^= 1
    chunk["ct"] = base64.b64encode(bytes(raw)).decode()
    return lines[0] + json.dumps(chunk).encode() + b"\n" + b"".join(lines[2:])


def _final_flag(data: bytes) -> bytes:
    lines = _lines(data)
    chunk = json.loads(lines[1])
    chunk["final"] = True
    return lines[0] + json.dumps(chunk).encode() + b"\n"


TAMPERS: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("truncated after a chunk", lambda d: b"".join(_lines(d)[:2])),
    ("header only", lambda d: _lines(d)[0]),
    ("chunks swapped", lambda d: b"".join([_lines(d)[0], _lines(d)[2], _lines(d)[1], *_lines(d)[3:]])),
    ("a chunk repeated", lambda d: b"".join([*_lines(d)[:2], _lines(d)[1], *_lines(d)[2:]])),
    ("ciphertext flipped", _flip),
    ("contract renamed", lambda d: _header_with(d, contract="globex")),
    ("time changed", lambda d: _header_with(d, created_at="2030-01-01T00:00:00Z")),
    ("format changed", lambda d: _header_with(d, format="aduana-handover-v2")),
    ("scheme changed", lambda d: _header_with(d, scheme="rsa-oaep-sha256-aes256gcm")),
    ("first chunk marked final", _final_flag),
    ("data after the last chunk", lambda d: d + _lines(d)[1]),
    ("not JSON", lambda d: b"garbage\n" + d),
    ("empty", lambda d: b""),
]


@pytest.mark.parametrize(("what", "tamper"), TAMPERS, ids=[t[0] for t in TAMPERS])
def test_a_damaged_bundle_fails_with_one_error(what: str, tamper: Callable[[bytes], bytes]) -> None:
    data = bundle(2 * CHUNK_ENTRIES + 3)
    with pytest.raises(HandoverError):
        opened(tamper(data))


def test_another_contracts_bundle_cannot_pass_for_this_one() -> None:
    ours, theirs = _lines(bundle(3, contract="acme")), _lines(bundle(3, contract="globex"))
    with pytest.raises(HandoverError):
        opened(ours[0] + theirs[1])


@pytest.mark.parametrize(("bundle_kind", "key_kind"), [("x25519", "rsa"), ("rsa", "x25519")])
def test_the_wrong_kind_of_key_fails(bundle_kind: str, key_kind: str) -> None:
    with pytest.raises(HandoverError):
        opened(bundle(2, bundle_kind), key_kind)


@pytest.mark.parametrize("kind", ["x25519", "rsa"])
def test_another_key_of_the_same_kind_fails(kind: str) -> None:
    other = generate_x25519()[0] if kind == "x25519" else generate_rsa(2048)[0]
    with pytest.raises(HandoverError):
        list(open_bundle(io.BytesIO(bundle(2, kind)), load_private_key(other)))


def test_recipient_keys_are_checked() -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    for key, message in ((small, "at least 2048"), (ec_key, "X25519")):
        pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        with pytest.raises(ValueError, match=message):
            load_recipient(pem)
    with pytest.raises(ValueError, match="PEM"):
        load_recipient(b"not a key")


def test_an_encrypted_private_key_needs_its_password() -> None:
    private = load_private_key(KEYS["x25519"][0])
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(b"s3cret"))
    with pytest.raises(TypeError):
        load_private_key(pem)
    with pytest.raises(HandoverError):
        load_private_key(pem, b"wrong")
    assert opened(bundle(1)) and load_private_key(pem, b"s3cret") is not None


def test_the_file_is_written_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.bundle"
    info = write_bundle_file(target, load_recipient(KEYS["x25519"][1]), "acme", None, "t", entries(3))
    assert info.entries == 3 and (target.stat().st_mode & 0o077) == 0
    assert not (tmp_path / "out.bundle.partial").exists()

    def failing() -> Iterator[Entry]:
        yield entries(1)[0]
        raise RuntimeError("store failed mid-way")

    with pytest.raises(RuntimeError):
        write_bundle_file(tmp_path / "second.bundle", load_recipient(KEYS["x25519"][1]), "acme", None, "t",
                          failing())
    assert not (tmp_path / "second.bundle").exists() and not (tmp_path / "second.bundle.partial").exists()
    assert handover.fingerprint(load_recipient(KEYS["x25519"][1])) == info.recipient
