"""Fixtures for the plugin's tests: Aduana loaded with this plugin, once per session (spaCy is slow)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from gateway.pluginmanager import Plugins, load_plugins

# Aduana never fetches tldextract's suffix list during tests.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

PLUGIN = "aduana_acme.plugin"


@pytest.fixture(scope="session")
def plugins() -> Plugins:
    """Aduana's built-ins plus this plugin, named as a config file would name it (no install needed)."""
    return load_plugins([PLUGIN], entry_points=False)


@pytest.fixture(scope="session")
def sandbox(plugins: Plugins) -> Iterator[object]:
    """Aduana's policy sandbox: the real detection and transformation, a throwaway vault."""
    from gateway.policy.sandbox import Sandbox

    with Sandbox.open(plugins) as sb:
        yield sb
