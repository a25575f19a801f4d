"""``aduana policy validate | explain | test | try | schema`` through click's runner: output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from policy_support import POLICIES, WritePack

from gateway.cli.policy import command

GOOD = """\
name: mine
version: "1.2"
extends: [gdpr]
entities:
  PERSON: redact
tests:
  - name: passes
    input: "My name is Margaret Ellison."
    language: en
    expect_output: "My name is <PERSON>."
  - name: fails on purpose
    input: "My name is Margaret Ellison."
    language: en
    expect_output: "My name is Margaret Ellison."
"""


def run(*args: str | Path, stdin: str | None = None) -> Result:
    return CliRunner().invoke(command, [str(a) for a in args], input=stdin, catch_exceptions=False)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    route = {"name": "helpdesk", "prefix": "/helpdesk", "upstream": "http://127.0.0.1:9"}
    config = {
        "store": {"url": "sqlite:///state/aduana.db"},
        "keys": {"master_key": "file:state/master.key"},
        "contracts": {
            "acme": {"vendor": "Acme", "policy_packs": ["baseline", "gdpr", "hipaa", "pci-dss"],
                     "routes": [route, {**route, "name": "files", "prefix": "/files", "policy_packs": ["gdpr"]}]},
        },
    }
    path = tmp_path / "aduana.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


# --- validate ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        ([POLICIES / "gdpr.yaml", POLICIES / "hipaa.yaml"], 0, "ok: "),
        (["--json", POLICIES / "pci-dss.yaml"], 0, '"valid": true'),
        (["/no/such/pack.yaml"], 2, "does not exist"),
        ([], 2, "Missing argument"),
        (["--bogus", POLICIES / "gdpr.yaml"], 2, "No such option"),
    ],
)
def test_validate_exit_codes(args: list[str | Path], code: int, needle: str) -> None:
    result = run("validate", *args)
    assert result.exit_code == code, result.output
    assert needle in result.output


def test_validate_invalid_names_file_line_field(write_pack: WritePack) -> None:
    path = write_pack("bad", 'name: bad\nversion: "1.0"\nentities:\n  PERSON: tokenise\n')
    result = run("validate", path)
    assert result.exit_code == 1
    assert f"{path}:4: entities.PERSON.action: unknown action 'tokenise'" in result.output
    data = json.loads(run("validate", "--json", path).output)
    assert data[0]["problems"][0] == {"where": f"{path}:4", "field": "entities.PERSON.action",
                                      "message": data[0]["problems"][0]["message"]}


# --- explain ----------------------------------------------------------------------------------------

def test_explain_table(config_file: Path) -> None:
    result = run("explain", "--config", config_file, "acme")
    assert result.exit_code == 0, result.output
    for needle in ("Effective policy of acme", "CREDIT_CARD", "pci-dss@1.0.0", "keep_first=6", "hipaa@1.0.0",
                   "P6Y", "block > drop > redact > hash > mask > tokenize > allow"):
        assert needle in result.output


def test_explain_json(config_file: Path) -> None:
    data = json.loads(run("explain", "--config", config_file, "acme", "--json").output)
    assert [p["name"] for p in data["packs"]] == ["baseline", "gdpr", "hipaa", "pci-dss"]
    rows = {row["entity_type"]: row for row in data["entities"]}
    assert rows["CREDIT_CARD"]["action"] == "mask" and rows["CREDIT_CARD"]["pack"] == "pci-dss@1.0.0"
    assert rows["PERSON"]["pack"] == "gdpr@1.0.0"
    assert rows["DATE_TIME"]["min_score_pack"] == "hipaa@1.0.0"  # lowest threshold, from another pack
    assert data["retention"]["audit"] == {"period": "P6Y", "pack": "hipaa@1.0.0"}
    assert "CARD_CVV" in data["allow_not_applied_to"]
    content = {row["media_type"]: row["effective"] for row in data["content_types"]}
    assert content["image/*"] == "block" and content["application/json"] == "inspect"


def test_explain_route_override(config_file: Path) -> None:
    data = json.loads(run("explain", "--config", config_file, "acme", "--route", "files", "--json").output)
    assert [p["name"] for p in data["packs"]] == ["gdpr"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [(["nobody"], "unknown contract 'nobody'"), (["acme", "--route", "nowhere"], "no route 'nowhere'")],
)
def test_explain_usage_errors(config_file: Path, args: list[str], needle: str) -> None:
    result = run("explain", "--config", config_file, *args)
    assert result.exit_code == 2
    assert needle in result.output


def test_explain_missing_config(tmp_path: Path) -> None:
    assert run("explain", "--config", tmp_path / "none.yaml", "acme").exit_code == 2


# --- test -------------------------------------------------------------------------------------------

def test_test_reports_pass_fail_and_diff(write_pack: WritePack) -> None:
    path = write_pack("mine", GOOD)
    result = run("test", path)
    assert result.exit_code == 1
    assert "PASS mine@1.2 :: passes" in result.output
    assert "FAIL mine@1.2 :: fails on purpose" in result.output
    assert "-My name is Margaret Ellison." in result.output and "+My name is <PERSON>." in result.output
    assert "1 passed, 1 failed" in result.output


def test_test_selects_and_json(write_pack: WritePack) -> None:
    path = write_pack("mine", GOOD)
    result = run("test", path, "-k", "passes", "--json")
    assert result.exit_code == 0
    assert [c["name"] for c in json.loads(result.output)] == ["passes"]


def test_test_shipped_pack_passes() -> None:
    result = run("test", "pci-dss")
    assert result.exit_code == 0, result.output
    assert "0 failed" in result.output


def test_test_unknown_pack_is_usage_error() -> None:
    result = run("test", "no-such-pack")
    assert result.exit_code == 2
    assert "unknown policy pack 'no-such-pack'" in result.output


# --- try --------------------------------------------------------------------------------------------

def test_try_text_table() -> None:
    result = run("try", "--pack", "gdpr", "--pack", "pci-dss", "--text",
                 "Hi, I'm Margaret Ellison, card 4111 1111 1111 1111.")
    assert result.exit_code == 0, result.output
    assert "4111 11•• •••• 1111" in result.output
    assert "⟦PERSON_" in result.output and "pci-dss@1.0.0" in result.output


def test_try_json_positions_are_in_the_input() -> None:
    text = "Hola, me llamo Lucía Fernández y mi DNI es 12345678Z."
    data = json.loads(run("try", "--pack", "gdpr", "--text", text, "--json").output)
    nif = next(f for f in data["findings"] if f["type"] == "ES_NIF")
    assert text[nif["start"]:nif["end"]] == "12345678Z"
    assert set(nif) == {"type", "start", "end", "score", "action"}
    assert "12345678Z" not in data["text"] and data["packs"] == ["gdpr@1.0.0"]


def test_try_jsonl(tmp_path: Path) -> None:
    lines = ["Call me at (415) 555-0132, thanks.", "My CVV is 123 for card 4111 1111 1111 1111.", "Nothing here."]
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in lines), encoding="utf-8")
    result = run("try", "--pack", "gdpr", "--pack", "pci-dss", "--jsonl", source)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert len(out) == 3
    phone = out[0]["findings"][0]
    assert lines[0][phone["start"]:phone["end"]] == "(415) 555-0132" and phone["action"] == "tokenize"
    assert out[1]["text"] is None and "CARD_CVV" in out[1]["blocked"]
    assert out[2] == {"text": "Nothing here.", "findings": []}


def test_try_json_body_and_stdin() -> None:
    body = json.dumps({"email": "kevin.marsh@example.com", "cvv": "123", "note": "ok"})
    result = run("try", "--pack", "pci-dss", "--pack", "gdpr", "--file", "-", "--content-type",
                 "application/json", "--json", stdin=body)
    data = json.loads(result.output)
    assert set(data["text"]) == {"email", "note"} and data["text"]["email"].startswith("⟦EMAIL_ADDRESS_")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--pack", "gdpr"], "exactly one of --text, --file or --jsonl"),
        (["--pack", "gdpr", "--text", "a", "--jsonl", "-"], "exactly one of"),
        (["--pack", "nope", "--text", "a"], "unknown policy pack 'nope'"),
        (["--text", "a"], "Missing option '--pack'"),
    ],
)
def test_try_usage_errors(args: list[str], needle: str) -> None:
    result = run("try", *args)
    assert result.exit_code == 2
    assert needle in result.output


def test_try_bad_jsonl_line(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text('{"txt": "x"}\n', encoding="utf-8")
    result = run("try", "--pack", "gdpr", "--jsonl", source)
    assert result.exit_code == 2 and ":1: expected a JSON object" in result.output


# --- schema -----------------------------------------------------------------------------------------

def test_schema_check(tmp_path: Path) -> None:
    assert run("schema", "--check", POLICIES / "schema.json").exit_code == 0
    stale = tmp_path / "schema.json"
    stale.write_text("{}", encoding="utf-8")
    assert run("schema", "--check", stale).exit_code == 1
    assert run("schema", "--output", stale).exit_code == 0
    assert run("schema", "--check", stale).exit_code == 0
