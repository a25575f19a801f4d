"""Built-in client-certificate binding: a contract that lists ``client_certificates`` is reached only
with its API key *and* one of its certificates (docs/configuration.md, "TLS and client certificates").

Rules this plugin keeps:
1. A certificate is a second factor, never a credential on its own: without an API key this plugin
   passes and the API-key check refuses (401). A certificate cannot be revoked at run time (only by
   the config and its CA); an API key can, and every audit record names the key that was used.
2. A contract with ``client_certificates`` refuses its API key without one of them (403
   ``client_certificate_required``), whoever issued the certificate that was sent.
3. A certificate bound to contract A with an API key of contract B is refused (403
   ``certificate_wrong_contract``), whether or not B lists certificates: a vendor's certificate never
   travels with another contract's key.
4. The refusal is audited under the key's contract and credential, with the reason code; the record
   never holds the certificate, only its effect.

It is asked before ``auth_apikey`` (both are ``trylast``; it is listed first in ``DEFAULT_PLUGINS``) and
reuses its key check, so an unknown, revoked or ended key is refused exactly as there.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway.config import Contract
from gateway.credentials import Credentials
from gateway.hookspecs import hookimpl
from gateway.proxy.message import Principal
from gateway.proxy.peer import CertificateRefused, PeerCertificate

from .auth_apikey import api_key_principal

METHOD = "api-key+client-certificate"


def bound_contract(peer_cert: PeerCertificate | None, contracts: Mapping[str, Contract]) -> str | None:
    """The contract ``peer_cert`` is bound to (by fingerprint first, then common name), or ``None``."""
    if peer_cert is None:
        return None
    for name, contract in contracts.items():
        if any(c.sha256 == peer_cert.sha256 for c in contract.client_certificates):
            return name
    if peer_cert.common_name is None:
        return None
    for name, contract in contracts.items():
        if any(c.common_name == peer_cert.common_name for c in contract.client_certificates):
            return name
    return None


@hookimpl(trylast=True)
def aduana_authenticate(
    authorization: str | None, credentials: Credentials, peer_cert: PeerCertificate | None,
    contracts: Mapping[str, Contract],
) -> Principal | None:
    if peer_cert is None and not any(c.client_certificates for c in contracts.values()):
        return None  # no certificate anywhere: the API key alone decides
    principal = api_key_principal(authorization, credentials)
    if principal is None:
        return None  # rule 1
    bound = bound_contract(peer_cert, contracts)
    if bound is not None and bound != principal.contract:
        raise CertificateRefused(principal, "certificate_wrong_contract")
    contract = contracts.get(principal.contract)
    if contract is not None and contract.client_certificates and bound != principal.contract:
        raise CertificateRefused(principal, "client_certificate_required")
    if bound is None:
        return principal
    return Principal(contract=principal.contract, credential_id=principal.credential_id, method=METHOD)
