"""Validation: every kind of mistake is reported with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_support import SHIPPED, WritePack

from gateway.pluginmanager import Plugins
from gateway.policy.compile import known_entities
from gateway.policy.loader import PackError, PackLibrary, Problem
from gateway.policy.validate import validate_files

HEAD = 'name: mine\nversion: "1.0"\n'  # lines 1-2 of every case below


def check(plugins: Plugins, files: list[Path]) -> dict[Path, list[Problem]]:
    actions = {a.name: a for a in plugins.actions()}
    return validate_files(files, actions, known_entities(plugins), plugins.policy_packs())


@pytest.mark.parametrize(
    ("body", "line", "field", "message"),
    [
        ("entities:\n  PERSN: tokenize\n", 4, "entities.PERSN", "unknown entity type 'PERSN'"),
        ("entities:\n  PERSON: tokenise\n", 4, "entities.PERSON.action", "unknown action 'tokenise'"),
        ("entities:\n  CREDIT_CARD:\n    action: mask\n    keep_frist: 4\n", 4, "entities.CREDIT_CARD.params",
         "keep_frist"),
        ("entities:\n  CREDIT_CARD: {action: mask, keep_last: 12}\n", 4, "entities.CREDIT_CARD.params",
         "keep_last must be"),
        ("entities:\n  PERSON: {action: tokenize, salt: x}\n", 4, "entities.PERSON.params", "no parameters"),
        ("entities:\n  PERSON: {action: allow, x: 1}\n", 4, "entities.PERSON.params", "`allow` takes no"),
        ("entities:\n  PERSON:\n    action: redact\n    min_score: 1.5\n", 6, "entities.PERSON.min_score",
         "less than or equal to 1"),
        ("entities:\n  person: redact\n", 4, "entities.person", "should match pattern"),
        ("fields:\n  - key: '([unclosed'\n    action: drop\n", 4, "fields.0", "not a valid regular expression"),
        ("fields:\n  - path: payment.cvv\n    action: drop\n", 4, "fields.0", "must be a JSON path"),
        ("fields:\n  - key: cvv\n    path: $.cvv\n    action: drop\n", 4, "fields.0", "exactly one of"),
        ("fields:\n  - key: cvv\n    action: shred\n", 5, "fields.0.action", "Input should be"),
        ("fields:\n  - key: cvv\n    action: mask\n    params: {keep_last: 99}\n", 6, "fields.0.params",
         "keep_last must be"),
        ("fields:\n  - key: cvv\n    action: drop\n    params: {x: 1}\n", 6, "fields.0.params", "no parameters"),
        ("allow:\n  - Example Corp\n  - pattern: '*corp'\n", 5, "allow.1.pattern", "not a valid regular expression"),
        ("retention:\n  vault: 90 days\n", 4, "retention.vault", "ISO 8601 duration"),
        ("content_types:\n  inspect: [json]\n", 4, "content_types.inspect.0", "should match pattern"),
        ("languages: [fr]\n", 3, "languages.0", "Input should be"),
        ("entitys:\n  PERSON: tokenize\n", 3, "entitys", "unknown field"),
        ("tests:\n  - name: no expectation\n    input: hello\n", 4, "tests.0", "at least one expect_"),
        ("tests:\n  - name: two inputs\n    input: a\n    input_json: {a: 1}\n    expect_blocked: true\n", 4,
         "tests.0", "exactly one of `input` or `input_json`"),
        ("tests:\n  - name: t\n    input: a\n    expect_findings: [PERSN]\n", 6, "tests.0.expect_findings.0",
         "unknown entity type 'PERSN'"),
        ("extends: [nowhere]\n", 3, "extends.0", "unknown policy pack 'nowhere'"),
        ("entities:\n  PERSON: tokenize\n  PERSON: redact\n", 5, "(yaml)", "duplicate key 'PERSON'"),
        ("entities: [\n", 4, "(yaml)", "invalid YAML"),
    ],
)
def test_each_mistake_names_file_line_field(plugins: Plugins, write_pack: WritePack, body: str, line: int,
                                             field: str, message: str) -> None:
    path = write_pack("mine", HEAD + body)
    problems = check(plugins, [path])[path]
    assert any(p.where == f"{path}:{line}" and p.field == field and message in p.message for p in problems), \
        "\n".join(map(str, problems))


def test_all_problems_reported_in_one_run(plugins: Plugins, write_pack: WritePack) -> None:
    path = write_pack("mine", HEAD + "entities:\n  PERSN: tokenize\n  PHONE_NUMBER: {action: x, min_score: 2}\n"
                      "  EMAIL_ADDRESS: tokenise\nretention: {vault: soon}\n")
    problems = check(plugins, [path])[path]
    # Shape errors and plugin checks together, in file order.
    assert [(p.where.rpartition(":")[2], p.field) for p in problems] == [
        ("4", "entities.PERSN"), ("5", "entities.PHONE_NUMBER.min_score"), ("6", "entities.EMAIL_ADDRESS.action"),
        ("7", "retention.vault")]


@pytest.mark.parametrize(
    ("packs", "culprit", "line", "cycle"),
    [
        ({"a": ["a"]}, "a", 3, "a -> a"),
        ({"a": ["b"], "b": ["a"]}, "a", 3, "a -> b -> a"),
        ({"a": ["b"], "b": ["c"], "c": ["a"]}, "a", 3, "a -> b -> c -> a"),
    ],
)
def test_extends_cycles(plugins: Plugins, write_pack: WritePack, packs: dict[str, list[str]], culprit: str,
                        line: int, cycle: str) -> None:
    paths = {name: write_pack(name, f'name: {name}\nversion: "1.0"\nextends: {parents}\n')
             for name, parents in packs.items()}
    results = check(plugins, list(paths.values()))
    problems = [p for ps in results.values() for p in ps]
    assert [(p.where, p.field, p.message) for p in problems] == [
        (f"{paths[culprit]}:{line}", "extends.0", f"cycle {cycle}")]
    # The runtime library refuses the same cycle when a contract uses the pack.
    with pytest.raises(PackError, match="cycle"):
        PackLibrary(list(paths.values())).effective([culprit])


def test_duplicate_names(plugins: Plugins, write_pack: WritePack, tmp_path: Path) -> None:
    first = write_pack("one", 'name: same\nversion: "1.0"\n')
    second = write_pack("two", '# a comment\nname: same\nversion: "2.0"\n')
    shadow = write_pack("three", 'name: gdpr\nversion: "9.0"\n')
    results = check(plugins, [first, second, shadow])
    assert results[first] == []
    assert [(p.where, p.field) for p in results[second]] == [(f"{second}:2", "name")]
    assert "also defined in" in results[second][0].message
    assert [(p.where, p.field) for p in results[shadow]] == [(f"{shadow}:1", "name")]  # shipped pack wins


def test_extends_valid_chain_expands_parents_first(write_pack: WritePack) -> None:
    files = [write_pack("base", 'name: base\nversion: "1.0"\nentities: {PERSON: tokenize}\n'),
             write_pack("mid", 'name: mid\nversion: "1.0"\nextends: [base]\nentities: {PERSON: redact}\n'),
             write_pack("top", 'name: top\nversion: "1.0"\nextends: [mid, base]\n')]
    library = PackLibrary(files)
    assert [lp.pack.name for lp in library.expand(["top"])] == ["base", "mid", "top"]
    assert library.effective(["top"]).entities["PERSON"].source == "mid@1.0"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_packs_are_valid(plugins: Plugins, name: str) -> None:
    path = next(p for p in plugins.policy_packs() if p.stem == name)
    assert check(plugins, [path]) == {path: []}
