"""The vendor's client certificate, as authentication sees it.

Rules this module keeps:
1. Only a certificate the TLS layer already verified against ``listeners.vendor.tls.client_ca_file``
   (chain and validity dates) is ever reported: OpenSSL gives the peer certificate only after it passed.
2. A certificate is identified by the SHA-256 of its DER bytes (what ``openssl x509 -fingerprint
   -sha256`` prints); its names are read with pyca/cryptography, never parsed by hand.
3. A certificate that cannot be parsed is refused as unauthenticated (401), not ignored.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from ssl import SSLObject, SSLSocket

from aiohttp import web
from cryptography import x509
from cryptography.x509.oid import NameOID

from gateway.errors import AuthenticationError, ForbiddenError
from gateway.proxy.message import Principal


@dataclass(frozen=True)
class PeerCertificate:
    """A verified client certificate: what it says about its holder, and its fingerprint."""

    #: Subject common name, or ``None`` when the subject has none.
    common_name: str | None
    #: Subject alternative names (DNS names, e-mail addresses, URIs and IP addresses, as text).
    sans: tuple[str, ...]
    #: SHA-256 of the DER encoding, lower-case hex without separators.
    sha256: str

    @classmethod
    def from_der(cls, der: bytes) -> PeerCertificate:
        """Read a DER certificate; raise :class:`AuthenticationError` if it cannot be parsed."""
        try:
            cert = x509.load_der_x509_certificate(der)
            names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            common_name = str(names[0].value) if names else None
            try:
                ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                sans = tuple(str(v) for t in (x509.DNSName, x509.RFC822Name, x509.UniformResourceIdentifier,
                                              x509.IPAddress) for v in ext.get_values_for_type(t))
            except x509.ExtensionNotFound:
                sans = ()
        except ValueError as exc:
            raise AuthenticationError("client certificate cannot be parsed") from exc
        return cls(common_name=common_name, sans=sans, sha256=hashlib.sha256(der).hexdigest())

    @property
    def short(self) -> str:
        """The first 16 hex digits of the fingerprint: enough to name it in a log or an audit record."""
        return self.sha256[:16]


@functools.lru_cache(maxsize=256)
def _parsed(der: bytes) -> PeerCertificate:
    """A certificate parsed once per process, not per request (a refusal raises and is not kept)."""
    return PeerCertificate.from_der(der)


def peer_certificate(request: web.Request) -> PeerCertificate | None:
    """The verified client certificate of ``request``'s connection, or ``None`` (no TLS, none sent)."""
    transport = request.transport
    if transport is None:
        return None
    ssl_object = transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, SSLObject | SSLSocket):
        return None
    der = ssl_object.getpeercert(binary_form=True)
    return _parsed(der) if der else None


class CertificateRefused(ForbiddenError):
    """A valid API key that came without the client certificate its contract requires, or with another
    contract's certificate: refused (403) and audited under the key's contract and credential."""

    public_message = "This credential needs its contract's client certificate on this connection."

    def __init__(self, principal: Principal, reason: str) -> None:
        super().__init__(f"client certificate refused for {principal.contract}", reason=reason)
        self.contract = principal.contract
        self.credential_id = principal.credential_id
