"""Master-key providers: where the key-encryption key comes from.

Built in: ``file:PATH`` (a 0600 file made by ``aduana keys init``) and ``env:VARIABLE`` (base64 in the
environment). A KMS is a plugin implementing ``aduana_key_provider``.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path
from typing import Protocol, runtime_checkable

from gateway.errors import KeyError_
from gateway.keys.crypto import KEY_BYTES, new_key


@runtime_checkable
class KeyProvider(Protocol):
    """Supplies the 32-byte master key. ``describe()`` says where from, without revealing it."""

    def master_key(self) -> bytes: ...

    def describe(self) -> str: ...


def _decode(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KeyError_(f"the master key in {where} is not valid base64") from exc
    if len(key) != KEY_BYTES:
        raise KeyError_(f"the master key in {where} must be {KEY_BYTES} bytes, found {len(key)}")
    return key


class FileKeyProvider:
    def __init__(self, path: Path) -> None:
        self.path = path

    def master_key(self) -> bytes:
        try:
            mode = self.path.stat().st_mode
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError as exc:
            raise KeyError_(
                f"master key file {self.path} does not exist: create it with `aduana keys init`"
            ) from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyError_(f"master key file {self.path} cannot be read: {exc}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyError_(f"master key file {self.path} is readable by others: chmod 600 it")
        return _decode(text, str(self.path))

    def describe(self) -> str:
        return f"file {self.path}"


class EnvKeyProvider:
    def __init__(self, variable: str) -> None:
        self.variable = variable

    def master_key(self) -> bytes:
        value = os.environ.get(self.variable)
        if not value:
            raise KeyError_(f"environment variable {self.variable} holding the master key is not set")
        return _decode(value, f"${self.variable}")

    def describe(self) -> str:
        return f"environment variable {self.variable}"


def init_key_file(path: Path) -> None:
    """Create a new random master key file with mode 0600; refuse to overwrite anything."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeyError_(f"{path} already exists: refusing to overwrite a master key") from exc
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(base64.b64encode(new_key()).decode("ascii") + "\n")
