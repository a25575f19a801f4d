"""Built-in master-key provider: ``env:VARIABLE``, the base64 key in an environment variable."""

from __future__ import annotations

from gateway.hookspecs import hookimpl
from gateway.keys.provider import EnvKeyProvider, KeyProvider


@hookimpl(trylast=True)
def aduana_key_provider(source: str) -> KeyProvider | None:
    scheme, _, rest = source.partition(":")
    return EnvKeyProvider(rest) if scheme == "env" else None
