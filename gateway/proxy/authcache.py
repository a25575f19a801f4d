"""A short-lived in-memory cache of verified vendor credentials, so a busy vendor's requests skip the store.

Verifying an API key costs a trip to the store thread pool (the key's row, its keyed hash, the contract's
lifecycle state): on the pass-through path that hop is a good part of what the proxy adds. A cache hit
answers on the event loop instead; the pipeline then re-checks the key and its contract on the store thread
in the hop that writes the ``proxy.forwarding`` record, before anything is forwarded.

Rules this module keeps (docs/configuration.md, "auth"):
1. Only a success is cached (a principal whose contract was active when it was verified), never a refusal:
   an unknown, forged or revoked key is checked against the store every time.
2. An entry is keyed by a SHA-256 of the presented ``Authorization`` header and the peer certificate's
   fingerprint, under a random per-process salt: the cache holds no usable secret, and two callers share
   an entry only if they presented the same key over the same certificate.
3. An entry lives at most ``ttl`` seconds from the start of the verification that made it; ``ttl`` 0 turns
   the cache off. A revocation or termination is enforced on the next request whatever the cache holds,
   because the pipeline re-checks a cached principal before forwarding (``Pipeline._forwarding_record``);
   the ``ttl`` only bounds the work (inspection, vault writes) done for a revoked key before that check.
4. The cache is used only when every ``aduana_authenticate`` implementation is a built-in: those read
   nothing but the ``Authorization`` header, the peer certificate and the (static) config. A third-party
   authenticator may read any header, so with one installed every request is verified.
5. Bounded: at most ``max_entries`` entries; when full, the oldest verification is dropped.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from gateway.proxy.message import Principal
from gateway.proxy.peer import PeerCertificate

Clock = Callable[[], float]


class CredentialCache:
    """Principals of recently verified credentials, by a salted hash of what the caller presented."""

    def __init__(self, ttl: float, *, max_entries: int = 4096, clock: Clock = time.monotonic) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("ttl must be >= 0 and max_entries >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._salt = secrets.token_bytes(16)
        self._entries: OrderedDict[bytes, tuple[float, Principal]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def now(self) -> float:
        return self._clock()

    def key(self, authorization: str | None, peer: PeerCertificate | None) -> bytes | None:
        """The cache key of a request's credentials, or ``None`` (nothing to cache: no Authorization)."""
        if not self.enabled or not authorization:
            return None
        h = hashlib.sha256(self._salt)
        h.update(authorization.encode("utf-8", "surrogatepass"))
        h.update(b"\x00" + (peer.sha256.encode("ascii") if peer is not None else b"-"))
        return h.digest()

    def get(self, key: bytes | None) -> Principal | None:
        """The principal verified for ``key`` less than ``ttl`` seconds ago, or ``None``."""
        if key is None:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            verified_at, principal = entry
            if self._clock() - verified_at >= self.ttl:
                del self._entries[key]
                return None
            return principal

    def put(self, key: bytes | None, principal: Principal, verified_at: float) -> None:
        """Remember ``principal`` for ``key``; ``verified_at`` is when its verification *started* (rule 3)."""
        if key is None or self._clock() - verified_at >= self.ttl:
            return
        with self._lock:
            self._entries[key] = (verified_at, principal)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def forget(self, key: bytes | None) -> None:
        if key is not None:
            with self._lock:
                self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
