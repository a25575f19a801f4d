"""The credential cache alone: what it remembers, for how long, under which key (``tests/e2e/test_authcache.py``
has the gateway that uses it)."""

from __future__ import annotations

import pytest

from gateway.pluginmanager import load_plugins
from gateway.proxy.authcache import CredentialCache
from gateway.proxy.message import Principal
from gateway.proxy.peer import PeerCertificate
from gateway.proxy.pipeline import _builtin_authenticators_only

ACME = Principal(contract="acme", credential_id="k_000000000001")


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def peer(fingerprint: str) -> PeerCertificate:
    return PeerCertificate(common_name="vendor", sans=(), sha256=fingerprint * 64)


# --- the cache alone ----------------------------------------------------------------------------------


def test_an_entry_lives_ttl_seconds_from_the_start_of_its_verification() -> None:
    clock = FakeClock()
    cache = CredentialCache(2.0, clock=clock)
    key = cache.key("Bearer adu_x", None)
    started = clock()
    clock.t += 0.5  # the verification took half a second
    cache.put(key, ACME, started)
    assert cache.get(key) == ACME
    clock.t += 1.4
    assert cache.get(key) == ACME
    clock.t += 0.1  # 2.0 s after the verification started
    assert cache.get(key) is None
    assert len(cache) == 0


def test_a_verification_older_than_ttl_is_not_remembered() -> None:
    clock = FakeClock()
    cache = CredentialCache(1.0, clock=clock)
    key = cache.key("Bearer adu_x", None)
    started = clock()
    clock.t += 1.0  # a verification that queued behind others for a whole ttl
    cache.put(key, ACME, started)
    assert cache.get(key) is None


@pytest.mark.parametrize(("a", "b"), [
    (("Bearer adu_x", None), ("Bearer adu_y", None)),
    (("Bearer adu_x", None), ("bearer adu_x", None)),
    (("Bearer adu_x", "a"), ("Bearer adu_x", "b")),
    (("Bearer adu_x", "a"), ("Bearer adu_x", None)),
])
def test_different_credentials_or_certificates_never_share_an_entry(
    a: tuple[str, str | None], b: tuple[str, str | None]
) -> None:
    cache = CredentialCache(5.0)
    key_a = cache.key(a[0], peer(a[1]) if a[1] else None)
    key_b = cache.key(b[0], peer(b[1]) if b[1] else None)
    assert key_a != key_b
    cache.put(key_a, ACME, cache.now())
    assert cache.get(key_b) is None


def test_the_key_is_a_salted_hash_not_the_secret() -> None:
    one, two = CredentialCache(5.0), CredentialCache(5.0)
    key = one.key("Bearer adu_k_000000000001_secret", None)
    assert key is not None and b"secret" not in key and len(key) == 32
    assert key != two.key("Bearer adu_k_000000000001_secret", None)  # a per-process salt


def test_off_when_ttl_is_zero_or_without_credentials() -> None:
    off = CredentialCache(0.0)
    assert not off.enabled and off.key("Bearer adu_x", None) is None
    off.put(None, ACME, off.now())
    assert off.get(None) is None and len(off) == 0
    assert CredentialCache(5.0).key(None, None) is None


def test_bounded_dropping_the_oldest_verification() -> None:
    clock = FakeClock()
    cache = CredentialCache(60.0, max_entries=2, clock=clock)
    keys = [cache.key(f"Bearer adu_{i}", None) for i in range(3)]
    for key in keys:
        cache.put(key, ACME, clock())
        clock.t += 1
    assert len(cache) == 2
    assert cache.get(keys[0]) is None and cache.get(keys[1]) == ACME and cache.get(keys[2]) == ACME
    cache.forget(keys[1])
    assert cache.get(keys[1]) is None


def test_a_third_party_authenticator_turns_the_cache_off() -> None:
    # header_auth reads X-Test-Vendor: two requests with one Authorization header may be different callers.
    assert _builtin_authenticators_only(load_plugins(entry_points=False))
    assert not _builtin_authenticators_only(load_plugins(["plugin_fixtures.header_auth"], entry_points=False))
