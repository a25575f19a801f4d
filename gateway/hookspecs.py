"""Aduana's hook specifications: every extension point a plugin can implement.

Hooks are named after the stage of a message's trip (``aduana_before_upstream``) or what they add
(``aduana_register_recognizers``). Built-in behaviour in ``gateway.plugins`` implements these same hooks
with ``trylast=True`` so a user's plugin is called first.

Guarantees the gateway keeps for every hook on the inspection path (recognizers, actions, content
handlers, authentication, before/after upstream): if an implementation raises, the message is not
forwarded, the caller gets an error whose reason code names the plugin, and the event is audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

    from gateway.credentials import Credentials
    from gateway.inspect.document import ContentHandler
    from gateway.inspect.findings import Action
    from gateway.keys.provider import KeyProvider
    from gateway.proxy.message import Message, Principal

PROJECT = "aduana"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def aduana_register_recognizers() -> Sequence[EntityRecognizer]:
    """Add Presidio recognizers to the detection registry.

    Called once per inspection worker at start-up. Only recognizers whose entity types the effective
    policy of a contract names are run for that contract.

    :returns: Presidio ``EntityRecognizer`` instances (e.g. ``PatternRecognizer`` subclasses), each with
        its ``supported_language`` set; an empty list is fine.
    """


@hookspec
def aduana_register_actions() -> Sequence[Action]:
    """Add actions (what to do with a finding) by name.

    Called once at start-up. A later registration of the same name replaces an earlier one only if it
    is at least as restrictive (its ``rank`` is not lower): a plugin cannot weaken an action.

    :returns: objects following :class:`gateway.inspect.findings.Action`.
    """


@hookspec
def aduana_content_handlers() -> Sequence[ContentHandler]:
    """Add content handlers that split a body into inspectable text parts and write it back.

    Called once at start-up. When two handlers claim the same media type, the first registered (a
    user's plugin before the built-ins) wins.

    :returns: objects following :class:`gateway.inspect.document.ContentHandler`.
    """


@hookspec
def aduana_policy_packs() -> Sequence[Path]:
    """Ship policy packs: return paths of pack YAML files this plugin provides.

    A contract names packs by their ``name``; a pack from a plugin is used exactly like a shipped one.

    :returns: paths to YAML files.
    """


@hookspec(firstresult=True)
def aduana_authenticate(
    authorization: str | None, headers: Mapping[str, str], credentials: Credentials
) -> Principal | None:
    """Identify the caller of a vendor request.

    Stops at first non-None result. Return ``None`` to let the next implementation try; raise
    :class:`gateway.errors.AuthenticationError` to refuse outright.

    :param authorization: the raw ``Authorization`` header, or ``None``.
    :param headers: all request headers (read-only).
    :param credentials: the store of API keys (``credentials.verify(key)``), for plugins that use it.
    :returns: the authenticated :class:`gateway.proxy.message.Principal`, or ``None``.
    """


@hookspec
def aduana_before_upstream(message: Message) -> None:
    """Inspect, annotate or veto a message after it was protected and before it is forwarded.

    Every forwarded request passes here exactly once. A hook may add annotations
    (``message.annotations``) or veto by raising :class:`gateway.errors.PolicyBlockedError`. It cannot
    un-protect: the body it sees is the protected one, and changes it makes are inspected again.

    :param message: the request as it will be sent upstream.
    """


@hookspec
def aduana_after_upstream(message: Message) -> None:
    """Inspect, annotate or veto an upstream response before it is released to the vendor.

    Every response that reaches the vendor passes here exactly once; the same rules as
    :func:`aduana_before_upstream` apply.

    :param message: the response as it will be released.
    """


@hookspec
def aduana_audit_record(record: Mapping[str, Any]) -> None:
    """Receive every audit record after it was durably written (forward it to a SIEM, a file…).

    A sink that raises is logged and audited as a sink failure; the request it describes is not
    affected, because the record is already safe in the store.

    :param record: the audit record (types and counts, never values).
    """


@hookspec(firstresult=True)
def aduana_key_provider(source: str) -> KeyProvider | None:
    """Return a master-key provider for a ``master_key`` source string such as ``file:/path``.

    Stops at first non-None result. Return ``None`` when the scheme is not yours.

    :param source: the configured master-key source (``scheme:rest``).
    :returns: a :class:`gateway.keys.provider.KeyProvider`, or ``None``.
    """
