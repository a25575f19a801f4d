"""What flows through the pipeline: who is calling (Principal) and the message hooks see (Message)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from multidict import CIMultiDict


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a credential of one contract."""

    contract: str
    credential_id: str
    method: str = "api-key"


@dataclass
class Message:
    """A request on its way upstream, or a response on its way back, as plugins see it.

    ``body`` is the body after inspection (protected or restored). Hooks may add ``annotations``
    (recorded in the audit trail by name only) or veto by raising
    :class:`gateway.errors.PolicyBlockedError`.
    """

    request_id: str
    contract: str
    route: str
    direction: str  # "request" or "response"
    method: str
    path_template: str
    headers: CIMultiDict[str]
    body: bytes
    content_type: str
    status: int | None = None
    annotations: dict[str, Any] = field(default_factory=dict)
