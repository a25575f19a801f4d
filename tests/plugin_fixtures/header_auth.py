"""Authentication by a header (as an SSO proxy in front of the gateway would add): wins over API keys."""

from __future__ import annotations

from collections.abc import Mapping

from gateway.credentials import Credentials
from gateway.errors import AuthenticationError
from gateway.hookspecs import hookimpl
from gateway.proxy.message import Principal

HEADER = "X-Test-Vendor"
SECRET = "acme-sso-assertion"


@hookimpl
def aduana_authenticate(
    authorization: str | None, headers: Mapping[str, str], credentials: Credentials
) -> Principal | None:
    presented = headers.get(HEADER)
    if presented is None:
        return None  # not ours: let the API-key check try
    if presented != SECRET:
        raise AuthenticationError("bad assertion")
    return Principal(contract="acme", credential_id="sso:test", method="header")
