"""Built-in vendor authentication: ``Authorization: Bearer <API key>`` issued by ``aduana vendor issue-key``."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.credentials import Credentials
from gateway.errors import AuthenticationError
from gateway.hookspecs import hookimpl
from gateway.lifecycle.state import ended_credential
from gateway.proxy.message import Principal


def api_key_principal(authorization: str | None, credentials: Credentials) -> Principal | None:
    """The principal of a bearer API key; ``None`` without one; raise for an unknown or ended key."""
    if authorization is None:
        return None
    scheme, _, presented = authorization.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return None
    credential = credentials.verify(presented.strip())
    if credential is None:
        # A key of a terminated contract is refused as such (403 contract_terminated), not as unknown.
        ended = ended_credential(credentials, presented.strip())
        if ended is not None:
            raise ended
        raise AuthenticationError("unknown or revoked API key")
    return Principal(contract=credential.contract, credential_id=credential.key_id)


@hookimpl(trylast=True)
def aduana_authenticate(
    authorization: str | None, headers: Mapping[str, str], credentials: Credentials
) -> Principal | None:
    return api_key_principal(authorization, credentials)
