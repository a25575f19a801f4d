"""The config file: validation errors name file, line, field and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main
from gateway.config import load_config
from gateway.errors import ConfigError

GOOD = """\
contracts:
  acme:
    vendor: Acme
    policy_packs: [gdpr]
    routes:
      - name: helpdesk
        prefix: /helpdesk
        upstream: http://127.0.0.1:9000
        methods: [GET]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aduana.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.listeners.admin.host == "127.0.0.1"
    assert config.store_url == f"sqlite:///{tmp_path / 'aduana.db'}"
    assert config.contracts["acme"].routes[0].protect == "response"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("upstream: http://127.0.0.1:9000", "upstream: ftp://x",
         r"aduana.yaml:8: contracts.acme.routes.0.upstream: expected a URL"),
        ("methods: [GET]", "methods: [FETCH]", r"aduana.yaml:9: contracts.acme.routes.0.methods.0: .*'GET'"),
        ("    vendor: Acme\n", "    vendr: Acme\n", r"aduana.yaml:3: contracts.acme.vendr: unknown field"),
        ("    policy_packs: [gdpr]\n", "", r"aduana.yaml:2: contracts.acme.policy_packs: required field is missing"),
        ("prefix: /helpdesk", "prefix: helpdesk",
         r"aduana.yaml:7: contracts.acme.routes.0.prefix: String should match"),
        ("methods: [GET]", "methods: [GET]\n        paths: ['/a/../b']", r"paths: .*may not contain"),
        ("methods: [GET]", "methods: [GET]\n        upstream_headers: {X-Token: '${NOPE_NOT_SET}'}",
         r"aduana.yaml:10: contracts.acme.routes.0.upstream_headers.X-Token: environment variable NOPE_NOT_SET"),
    ],
)
def test_errors_name_file_line_and_field(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"aduana.yaml:\d+: invalid YAML"):
        load_config(write(tmp_path, "contracts: [\n  a: b\n"))


def test_duplicate_prefix_is_refused(tmp_path: Path) -> None:
    text = GOOD + GOOD.split("contracts:\n")[1].replace("acme:", "other:")
    with pytest.raises(ConfigError, match="prefix '/helpdesk' is used by both"):
        load_config(write(tmp_path, text))


def test_config_check_exit_status(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["config", "check", str(write(tmp_path, GOOD))])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(main, ["config", "check", str(write(tmp_path, GOOD.replace("GET]", "GOT]")))])
    assert bad.exit_code == 2
    assert "contracts.acme.routes.0.methods.0" in bad.output
    unknown_pack = runner.invoke(main, ["config", "check", str(write(tmp_path, GOOD.replace("[gdpr]", "[nope]")))])
    assert unknown_pack.exit_code == 2 and "unknown policy pack 'nope'" in unknown_pack.output


@pytest.mark.parametrize(
    "args",
    [[], ["config"], ["config", "check"], ["serve"], ["vendor"], ["vendor", "issue-key"], ["vendor", "revoke-key"],
     ["vendor", "list-keys"], ["keys"], ["keys", "init"], ["store"], ["store", "migrate"], ["store", "status"]],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_stream_limits_default_and_are_checked(tmp_path: Path) -> None:
    inspection = load_config(write(tmp_path, GOOD)).inspection
    assert inspection.stream_threshold_bytes <= inspection.max_body_bytes <= inspection.max_passthrough_bytes
    bad = GOOD + "inspection: {max_body_bytes: 1000, stream_threshold_bytes: 2000}\n"
    with pytest.raises(ConfigError, match="stream_threshold_bytes must not exceed max_body_bytes"):
        load_config(write(tmp_path, bad))
    bad = GOOD + "inspection: {stream_threshold_bytes: 2000, max_passthrough_bytes: 1000}\n"
    with pytest.raises(ConfigError, match="max_passthrough_bytes must be at least"):
        load_config(write(tmp_path, bad))
