"""The vendor listener's TLS context, built once at start-up from ``listeners.vendor.tls``.

Rules this module keeps:
1. Refuse to start rather than serve weaker than configured: a missing or unreadable file, a key that
   does not match its certificate, or a bad CA bundle is a :class:`ConfigError` naming the field.
2. TLS 1.2 is the floor (``min_version`` may raise it to 1.3); no compression, no renegotiation, the
   server's cipher preference, Python's default (secure) cipher list.
3. With ``client_ca_file`` a client certificate is verified against those CAs only (never the system
   store), including its validity dates; with ``require_client_cert`` a client without one is refused
   in the handshake. Mapping a verified certificate to a contract is ``gateway/plugins/auth_mtls.py``'s job.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path

from gateway.config import TLSConfig
from gateway.errors import ConfigError

FIELD = "listeners.vendor.tls"
_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def _readable(resolve: Callable[[str], Path], field: str, value: str) -> Path:
    path = resolve(value)
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except FileNotFoundError as exc:
        raise ConfigError(f"{FIELD}.{field}: {path}: no such file") from exc
    except OSError as exc:
        raise ConfigError(f"{FIELD}.{field}: {path}: cannot be read ({exc.strerror})") from exc
    return path


def server_context(tls: TLSConfig, resolve: Callable[[str], Path]) -> ssl.SSLContext:
    """An ``SSLContext`` for the vendor listener; ``resolve`` turns config paths into files."""
    cert = _readable(resolve, "cert_file", tls.cert_file)
    key = _readable(resolve, "key_file", tls.key_file)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = _VERSIONS[tls.min_version]
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_CIPHER_SERVER_PREFERENCE | ssl.OP_NO_RENEGOTIATION
    try:
        context.load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        # OpenSSL names the mismatch "key values mismatch"; anything else is a file that is not PEM.
        if "mismatch" in str(exc).lower():
            raise ConfigError(f"{FIELD}.key_file: {key}: the key does not match cert_file {cert}") from exc
        raise ConfigError(f"{FIELD}.cert_file/key_file: {cert}, {key}: not a PEM certificate and key "
                          f"({exc.reason or 'unreadable'})") from exc
    if tls.client_ca_file is None:
        context.verify_mode = ssl.CERT_NONE
        return context
    ca = _readable(resolve, "client_ca_file", tls.client_ca_file)
    try:
        context.load_verify_locations(cafile=str(ca))
    except ssl.SSLError as exc:
        raise ConfigError(f"{FIELD}.client_ca_file: {ca}: not a PEM CA bundle ({exc.reason or 'unreadable'})") from exc
    if not context.get_ca_certs():
        raise ConfigError(f"{FIELD}.client_ca_file: {ca}: holds no CA certificate")
    context.verify_mode = ssl.CERT_REQUIRED if tls.require_client_cert else ssl.CERT_OPTIONAL
    return context
