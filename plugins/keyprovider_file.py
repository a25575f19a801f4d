"""Built-in master-key provider: ``file:PATH``, a 0600 file holding the base64 key."""

from __future__ import annotations

from pathlib import Path

from gateway.hookspecs import hookimpl
from gateway.keys.provider import FileKeyProvider, KeyProvider


@hookimpl(trylast=True)
def aduana_key_provider(source: str) -> KeyProvider | None:
    scheme, _, rest = source.partition(":")
    return FileKeyProvider(Path(rest)) if scheme == "file" else None
