"""``aduana plugins list``: built-ins, entry points and config modules, as a table and as JSON."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from gateway import __version__
from gateway.cli.plugins import command
from gateway.pluginmanager import DEFAULT_PLUGINS
from harness import gateway_config


def fake_distribution(site: Path, entry_point: str = "aduana_fake_plugin", dist: str = "aduana_fake") -> None:
    """An installed distribution ``aduana-fake`` 2.0 declaring an ``aduana`` entry point, as pip leaves it."""
    (site / "aduana_fake_plugin.py").write_text(textwrap.dedent("""
        from gateway.hookspecs import hookimpl

        @hookimpl
        def aduana_audit_record(record):
            pass
    """), encoding="utf-8")
    info = site / f"{dist}-2.0.dist-info"
    info.mkdir()
    name = dist.replace("_", "-")
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 2.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[aduana]\nfake = {entry_point}\n", encoding="utf-8")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(command, ["list", *args], catch_exceptions=False)
    return result.exit_code, result.output


def write_config(tmp_path: Path, plugins: list[str]) -> Path:
    path = tmp_path / "aduana.yaml"
    path.write_text(yaml.safe_dump({**gateway_config("http://127.0.0.1:9"), "plugins": plugins}), encoding="utf-8")
    return path


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.delenv("ADUANA_CONFIG", raising=False)
    return folder


def by_name(output: str) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in json.loads(output)}


def test_builtins_are_listed_with_aduanas_version(site: Path) -> None:
    code, output = run("--json")
    assert code == 0
    plugins = by_name(output)
    assert [n for n in plugins if n in DEFAULT_PLUGINS] == list(DEFAULT_PLUGINS)
    for name in DEFAULT_PLUGINS:
        assert (plugins[name]["source"], plugins[name]["version"]) == ("built-in", __version__)
        assert plugins[name]["hooks"] and all(h.startswith("aduana_") for h in plugins[name]["hooks"])


@pytest.mark.parametrize("as_json", [True, False])
def test_an_installed_distribution_is_found_by_its_entry_point(site: Path, as_json: bool) -> None:
    fake_distribution(site)
    code, output = run(*(["--json"] if as_json else []))
    assert code == 0
    if as_json:
        assert by_name(output)["fake"] == {"name": "fake", "version": "2.0", "source": "entry point (aduana-fake)",
                                           "module": "aduana_fake_plugin", "hooks": ["aduana_audit_record"]}
    else:
        (row,) = [line for line in output.splitlines() if " fake " in line]
        for cell in ("2.0", "entry point (aduana-fake)", "aduana_audit_record"):
            assert cell in row


def test_config_modules_are_listed_only_with_config(site: Path, tmp_path: Path) -> None:
    path = write_config(tmp_path, ["plugin_fixtures.veto"])
    assert "plugin_fixtures.veto" not in by_name(run("--json")[1])
    code, output = run("--config", str(path), "--json")
    assert code == 0
    veto = by_name(output)["plugin_fixtures.veto"]
    assert (veto["source"], veto["hooks"]) == ("config", ["aduana_before_upstream"])


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("config", "cannot be imported"),
        ("entry point", "failed to load"),
        ("misspelt", "does not exist"),
        ("same name", "two installed plugins are named 'fake'"),
    ],
)
def test_a_plugin_that_cannot_load_is_an_error(site: Path, tmp_path: Path, setup: str, message: str) -> None:
    args: list[str] = []
    if setup == "config":
        args = ["--config", str(write_config(tmp_path, ["plugin_fixtures.no_such_module"]))]
    elif setup == "entry point":
        fake_distribution(site, entry_point="aduana_fake_missing")
    elif setup == "same name":
        fake_distribution(site)
        fake_distribution(site, dist="aduana_other")
    else:
        args = ["--config", str(write_config(tmp_path, ["plugin_fixtures.misspelt_hook"]))]
    result = CliRunner().invoke(command, ["list", *args])
    assert result.exit_code == 2
    assert message in result.output
