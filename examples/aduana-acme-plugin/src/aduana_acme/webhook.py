"""Post each Aduana audit record, as JSON, to ACME's audit webhook.

Configured by the environment (read at each record, so a restart is not needed to change it):

- ``ACME_AUDIT_WEBHOOK_URL``: where to ``POST`` (``http://`` or ``https://``). Unset: do nothing.
- ``ACME_AUDIT_WEBHOOK_TOKEN``: sent as ``Authorization: Bearer …`` when set.
- ``ACME_AUDIT_WEBHOOK_TIMEOUT``: seconds before giving up (default 2).

Why plain ``urllib`` and no queue: Aduana calls ``aduana_audit_record`` on its store thread, never on the
event loop, right after the record is committed. A blocking call with a short timeout therefore stalls
no other request's I/O; it delays only the response whose record it is, by at most the timeout while
the webhook is down. Every failure raises, so Aduana logs it and audits the outage
(``audit.sink-failed``); the record itself is already safe in Aduana's store, and ``aduana audit
export`` hands over what the webhook missed.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from aduana_acme import __version__

URL_ENV = "ACME_AUDIT_WEBHOOK_URL"
TOKEN_ENV = "ACME_AUDIT_WEBHOOK_TOKEN"
TIMEOUT_ENV = "ACME_AUDIT_WEBHOOK_TIMEOUT"
DEFAULT_TIMEOUT = 2.0


class WebhookError(Exception):
    """The webhook did not accept a record (unreachable, too slow, or not a 2xx answer)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could send audit records somewhere nobody configured: treat it as a failure.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def post_record(url: str, record: Mapping[str, Any], *, token: str | None = None,
                timeout: float = DEFAULT_TIMEOUT) -> None:
    """POST ``record`` as a JSON object to ``url``.

    :raises ValueError: ``url`` is not http(s) or ``timeout`` is not positive (a configuration mistake).
    :raises WebhookError: the webhook did not answer 2xx within ``timeout`` seconds.
    """
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"{URL_ENV} must be an http:// or https:// URL")
    if not timeout > 0:
        raise ValueError(f"{TIMEOUT_ENV} must be a positive number of seconds")
    body = json.dumps(dict(record), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": f"aduana-acme/{__version__}",
    })
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"the audit webhook answered {exc.code}") from exc
    except (urllib.error.URLError, OSError) as exc:  # refused, DNS, TLS, timeout
        raise WebhookError(f"the audit webhook is unreachable: {type(exc).__name__}") from exc
    if not 200 <= status < 300:
        raise WebhookError(f"the audit webhook answered {status}")


def post_from_environment(record: Mapping[str, Any]) -> None:
    """Post ``record`` where the environment says; do nothing when ``ACME_AUDIT_WEBHOOK_URL`` is unset."""
    url = os.environ.get(URL_ENV, "").strip()
    if not url:
        return
    try:
        timeout = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT))
    except ValueError as exc:
        raise ValueError(f"{TIMEOUT_ENV} must be a number of seconds") from exc
    post_record(url, record, token=os.environ.get(TOKEN_ENV) or None, timeout=timeout)
