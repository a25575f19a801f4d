"""Aduana's hook specifications: every extension point a plugin can implement.

Hooks are named after the stage of a message's trip (``aduana_before_upstream``) or what they add
(``aduana_register_recognizers``). Built-in behaviour in ``gateway.plugins`` implements these same hooks
with ``trylast=True`` so a user's plugin is called first. ``docs/plugins.md`` has a section per hook.

Guarantees the gateway keeps (enforced in :mod:`gateway.pluginmanager`):

1. On the inspection path (recognizers, actions, content handlers, authentication, before/after
   upstream) an implementation that raises fails the message closed: nothing is forwarded or released,
   the caller gets an error whose reason code is ``plugin_failed:<plugin>``, and the event is audited.
2. Elsewhere (audit sinks, lifecycle events) a failing implementation is logged and audited, the other
   implementations still run, and the gateway keeps serving. These hooks are notifications: they are
   called after the change they describe is durable and can never undo it.
3. A plugin cannot weaken a policy: it may add, veto or be stricter, never let personal data through
   that the policy protects (see "Guards" in ``docs/plugins.md``).
4. Aduana calls each implementation itself, so hook wrappers (``wrapper=True``/``hookwrapper=True``) are
   refused at start-up. Only ``aduana_before_upstream`` and ``aduana_after_upstream`` may be ``async``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

    from gateway.config import Contract
    from gateway.credentials import Credentials
    from gateway.inspect.document import ContentHandler
    from gateway.inspect.findings import Action
    from gateway.keys.provider import KeyProvider
    from gateway.proxy.message import Message, Principal
    from gateway.proxy.peer import PeerCertificate

PROJECT = "aduana"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --- what inspection uses (called at start-up) ------------------------------------------------------


@hookspec
def aduana_register_recognizers() -> Sequence[EntityRecognizer]:
    """Add Presidio recognizers to the detection registry.

    Called at start-up, once in the gateway process and once in each inspection worker process. Only
    recognizers whose entity types the effective policy of a contract names are run for that contract.
    Results of every implementation are used (user plugins' first). A recognizer only adds findings:
    Presidio keeps every other recognizer's results, so returning nothing (or a low score) over a span
    another recognizer reports hides nothing. A recognizer that raises while analyzing a message fails
    that message closed.

    :returns: Presidio ``EntityRecognizer`` instances (e.g. ``PatternRecognizer`` subclasses), each with
        its ``supported_language`` set; an empty list is fine.
    """


@hookspec
def aduana_register_actions() -> Sequence[Action]:
    """Add actions (what to do with a finding), by name.

    Called at start-up. Results of every implementation are used; for a name registered twice the
    first (a user's plugin before the built-ins) is used, but only if its ``rank`` is not lower than any
    later registration of that name, otherwise start-up fails: a plugin cannot weaken an action. A
    plugin's action that raises, or returns text containing the value it was given, fails the message
    closed.

    :returns: objects following :class:`gateway.inspect.findings.Action`.
    """


@hookspec
def aduana_content_handlers() -> Sequence[ContentHandler]:
    """Add content handlers that split a body into inspectable text parts and write it back.

    Called at start-up. Results of every implementation are used; when two handlers claim the same
    media type, the first (a user's plugin before the built-ins) wins. A plugin's handler that raises,
    exposes no text for a body that has letters or digits, or marks text as never inspected fails the
    message closed.

    :returns: objects following :class:`gateway.inspect.document.ContentHandler`.
    """


@hookspec
def aduana_policy_packs() -> Sequence[Path]:
    """Ship policy packs: return the paths of pack YAML files this plugin provides.

    Called at start-up and by ``aduana policy`` commands. Results of every implementation are used. A
    contract names packs by their ``name``; a pack from a plugin is used exactly like a shipped one, and
    a pack whose name is already taken (``baseline``…) is an error, never a replacement.

    :returns: paths to YAML files.
    """


# --- a message's trip (called per request) ------------------------------------------------------------


@hookspec(firstresult=True)
def aduana_authenticate(
    authorization: str | None,
    headers: Mapping[str, str],
    credentials: Credentials,
    peer_cert: PeerCertificate | None,
    contracts: Mapping[str, Contract],
) -> Principal | None:
    """Identify the caller of a vendor request.

    Called once per request, first thing, on a store thread (it may block briefly, e.g. on the store).
    Stops at first non-None result: a user's plugin is asked before the built-in checks (client
    certificate bindings, then API keys). Return ``None`` to let the next implementation try; raise
    :class:`gateway.errors.AuthenticationError` to refuse outright (401) or
    :class:`gateway.errors.ForbiddenError` for a known caller who may not come this way (403). An
    implementation may leave out arguments it does not use.

    :param authorization: the raw ``Authorization`` header, or ``None``.
    :param headers: all request headers (read-only).
    :param credentials: the store of API keys (``credentials.verify(key)``), for plugins that use it.
    :param peer_cert: the client certificate the TLS layer verified against
        ``listeners.vendor.tls.client_ca_file``, or ``None`` (plain HTTP, or no certificate sent).
    :param contracts: the configured contracts by name (read-only), e.g. for their ``client_certificates``.
    :returns: the authenticated :class:`gateway.proxy.message.Principal`, or ``None``.
    """


@hookspec
def aduana_before_upstream(message: Message) -> Awaitable[None] | None:
    """Inspect, annotate or veto a request after it was inspected and before it is forwarded.

    Every forwarded request passes here exactly once, on the event loop: an implementation may be
    ``async`` (do I/O that way, never blocking calls). All implementations are called, a user's plugin
    first. A hook may add ``message.annotations`` (recorded in the audit trail by name) or veto by
    raising :class:`gateway.errors.PolicyBlockedError` (422 ``policy_block``, audited). It cannot change
    the message: a changed body, header or status is refused with ``plugin_failed:<plugin>`` and nothing
    is forwarded.

    :param message: the request as it will be sent upstream (body already protected or restored).
    :returns: ``None``, or an awaitable when the implementation is ``async``.
    """


@hookspec
def aduana_after_upstream(message: Message) -> Awaitable[None] | None:
    """Inspect, annotate or veto an upstream response before it is released to the vendor.

    Every response that reaches the vendor passes here exactly once; the same rules as
    :func:`aduana_before_upstream` apply (a veto or a failure means nothing is released).

    :param message: the response as it will be released (body already protected or restored).
    :returns: ``None``, or an awaitable when the implementation is ``async``.
    """


# --- around the trip (not on the inspection path) --------------------------------------------------


@hookspec
def aduana_audit_record(record: Mapping[str, Any]) -> None:
    """Receive every audit record after it was durably written (forward it to a SIEM, a webhook…).

    Called on a store thread, synchronously, right after the record is committed: keep it short and
    give network calls a timeout of a few seconds. Every implementation is called. A sink that raises is
    logged, and its failure is audited once per outage; the request the record describes is not
    affected, because the record is already safe in the store.

    :param record: the audit record (types and counts, never values); your own copy.
    """


@hookspec(firstresult=True)
def aduana_key_provider(source: str) -> KeyProvider | None:
    """Return a master-key provider for a ``keys.master_key`` source string such as ``file:/path``.

    Called at start-up and by ``aduana keys`` commands. Stops at first non-None result. Return ``None``
    when the scheme is not yours. An implementation that raises stops start-up.

    :param source: the configured master-key source (``scheme:rest``).
    :returns: a :class:`gateway.keys.provider.KeyProvider`, or ``None``.
    """


@hookspec
def aduana_contract_terminated(contract: str, certificate: Mapping[str, Any]) -> None:
    """Be told that a contract was terminated and its data destroyed.

    Called once, after the destruction is durable and the certificate is signed: the notification can
    never undo it. Every implementation is called; one that raises is logged and audited, and the others
    still run.

    :param contract: the terminated contract's name.
    :param certificate: the signed destruction certificate (what was destroyed, counts, the audit
        head, the signature), as its JSON object; your own copy.
    """


@hookspec
def aduana_keys_rotated(contract: str | None, kind: str, old_version: str, new_version: str) -> None:
    """Be told that a key was rotated.

    Called once, after the new key is durable (for a data key: after the rotation finished and old
    versions were retired). Every implementation is called; one that raises is logged and audited, and
    never undoes the rotation.

    :param contract: the contract whose key rotated, or ``None`` for the store-wide master key.
    :param kind: ``"data"`` (a contract's data key) or ``"master"`` (the master key).
    :param old_version: the version before, as text: a data key's number (``"3"``) or a master key's id
        (its public fingerprint, never key material).
    :param new_version: the version after, in the same form.
    """


@hookspec
def aduana_retention_run(contract: str | None, counts: Mapping[str, int]) -> None:
    """Be told that a retention run destroyed what its periods expired.

    Called once per run and contract, after the deletions committed (including runs that removed
    nothing). Every implementation is called; one that raises is logged and audited, and never undoes
    the run.

    :param contract: the contract the run covered, or ``None`` for store-wide data (the audit trail).
    :param counts: what was removed, by data class (``{"vault": 12, "audit": 0}``); your own copy.
    """
