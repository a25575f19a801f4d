"""Shared fixtures for the policy tests: plugins, one analyzer per session, a throwaway sandbox, pack writers."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

# The helpers module beside this file is imported by the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from policy_support import WritePack

from gateway.inspect.analyzer import Analyzer
from gateway.pluginmanager import Plugins, load_plugins
from gateway.policy.loader import PackLibrary
from gateway.policy.sandbox import Sandbox


@pytest.fixture(scope="session")
def plugins() -> Plugins:
    return load_plugins(entry_points=False)


@pytest.fixture(scope="session")
def analyzer(plugins: Plugins) -> Analyzer:
    # spaCy takes a few seconds to load: once per session.
    return Analyzer(plugins.recognizers())


@pytest.fixture(scope="session")
def sandbox(plugins: Plugins, analyzer: Analyzer) -> Iterator[Sandbox]:
    with Sandbox.open(plugins, analyzer) as sb:
        yield sb


@pytest.fixture(scope="session")
def library(plugins: Plugins) -> PackLibrary:
    return PackLibrary(plugins.policy_packs())


@pytest.fixture
def write_pack(tmp_path: Path) -> WritePack:
    """Write a pack file from dedented YAML text; return its path."""

    def write(name: str, text: str) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
        return path

    return write
