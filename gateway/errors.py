"""Aduana's errors, by fault domain.

Every error carries a stable ``reason`` code (what the audit trail and the caller see) and an HTTP
``status``. The message of an error that reaches a vendor is the class's ``public_message``: never the
internal detail, which may mention a value or a path. Internal detail goes to ``str(error)`` and is
logged only through the redacting logger.
"""

from __future__ import annotations


class AduanaError(Exception):
    """Base of every error Aduana raises on purpose."""

    reason: str = "internal_error"
    status: int = 500
    public_message: str = "The gateway could not process this request."

    def __init__(self, detail: str = "", *, reason: str | None = None, status: int | None = None) -> None:
        super().__init__(detail or self.public_message)
        if reason is not None:
            self.reason = reason
        if status is not None:
            self.status = status


class ConfigError(AduanaError):
    """The configuration file or a policy pack is invalid (raised at load, never mid-request)."""

    reason = "config_invalid"


# --- the request path: caller mistakes (4xx) ---------------------------------------------------------


class AuthenticationError(AduanaError):
    reason = "unauthenticated"
    status = 401
    public_message = "A valid API key is required (Authorization: Bearer <key>)."


class ForbiddenError(AduanaError):
    reason = "forbidden"
    status = 403
    public_message = "This credential may not make this request."


class NotFoundError(AduanaError):
    reason = "no_route"
    status = 404
    public_message = "No route matches this path."


class BadRequestError(AduanaError):
    reason = "bad_request"
    status = 400
    public_message = "The request could not be inspected."


class MalformedRequestError(BadRequestError):
    """aiohttp refused the request's HTTP before the pipeline saw it (``gateway/server/protocol.py``)."""

    reason = "http_malformed"
    public_message = "The request is not well-formed HTTP, so it was not read."


class PayloadTooLargeError(AduanaError):
    reason = "body_too_large"
    status = 413
    public_message = "The body is larger than this gateway inspects."


class UnsupportedMediaError(AduanaError):
    reason = "content_type_blocked"
    status = 415
    public_message = "The policy does not let this content type through."


class PolicyBlockedError(AduanaError):
    """The policy's ``block`` action fired: the whole message is refused."""

    reason = "policy_block"
    status = 422
    public_message = "The message holds data the policy forbids sending."


# --- the inspection machinery failing (fail closed, 5xx) ----------------------------------------------


class InspectionError(AduanaError):
    reason = "inspection_failed"
    status = 500
    public_message = "The message could not be inspected, so it was not forwarded."


class InspectionTimeout(InspectionError):
    reason = "inspection_timeout"
    status = 503
    public_message = "Inspection took longer than its time budget, so the message was not forwarded."


class InspectionBusy(InspectionError):
    reason = "inspection_busy"
    status = 503


class PluginError(InspectionError):
    """A plugin raised on the inspection path; ``reason`` names the plugin."""

    def __init__(self, plugin: str, detail: str = "") -> None:
        super().__init__(detail, reason=f"plugin_failed:{plugin}")
        self.plugin = plugin


# --- upstream ----------------------------------------------------------------------------------------


class UpstreamError(AduanaError):
    reason = "upstream_unreachable"
    status = 502
    public_message = "The upstream service could not be reached."


class UpstreamTimeout(UpstreamError):
    reason = "upstream_timeout"
    status = 504
    public_message = "The upstream service did not answer in time."


# --- storage, keys, audit ----------------------------------------------------------------------------


class StoreError(AduanaError):
    reason = "store_unavailable"
    status = 503
    public_message = "The gateway's store is unavailable, so nothing was forwarded."


class KeyError_(AduanaError):
    """A key is missing, wrong or cannot be unwrapped (named with a trailing _ to keep the builtin)."""

    reason = "key_unavailable"
    status = 503
    public_message = "The gateway's keys are unavailable, so nothing was forwarded."


class IntegrityError(AduanaError):
    """A stored ciphertext failed authentication: tampered, moved or corrupted."""

    reason = "record_integrity"
    status = 500
    public_message = "A stored record failed its integrity check, so nothing was forwarded."


class AuditError(AduanaError):
    reason = "audit_write_failed"
    status = 503
    public_message = "The audit record could not be written, so nothing was released."
