"""Check pack files the way ``aduana policy validate`` does: every mistake, each with file, line and field.

Loading a pack (:func:`gateway.policy.loader.load_pack`) checks its shape: fields, types, regular
expressions, durations, media types. This module adds what needs the plugins and the other packs:
entity types some recognizer reports, actions some plugin provides and their parameters, ``extends``
naming known packs without cycles, and pack names used once. It collects every problem instead of
stopping at the first, so a compliance officer fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gateway.errors import ConfigError
from gateway.inspect.findings import Action
from gateway.policy.loader import LoadedPack, PackError, Problem, load_pack
from gateway.policy.model import EntityRuleSpec, FieldRuleSpec, PackTest, PolicyPack
from gateway.yamlsource import YamlSource

#: An action every policy understands without a plugin: the finding is let through.
ALLOW = "allow"


def check_pack(loaded: LoadedPack, actions: Mapping[str, Action], entities: frozenset[str]) -> list[Problem]:
    """Problems of one loaded pack against the registered actions and entity types."""
    pack = loaded.pack
    return _check_parts(loaded.source, dict(pack.entities), list(enumerate(pack.fields)),
                        list(enumerate(pack.tests)), actions, entities)


def check_raw(source: YamlSource, actions: Mapping[str, Action], entities: frozenset[str]) -> list[Problem]:
    """The same checks on the parts of a file that failed validation as a whole (so one run reports all).

    Only entries that are valid on their own are checked; the loader reported the others.
    """
    data = source.data if isinstance(source.data, dict) else {}

    def valid(model: type[BaseModel], value: Any) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError:
            return None

    raw_entities: dict[Any, Any] = data["entities"] if isinstance(data.get("entities"), dict) else {}
    rules = {k: r for k, v in raw_entities.items() if isinstance(k, str) and (r := valid(EntityRuleSpec, v))}
    raw_fields: list[Any] = data["fields"] if isinstance(data.get("fields"), list) else []
    fields = [(i, f) for i, v in enumerate(raw_fields) if (f := valid(FieldRuleSpec, v))]
    raw_tests: list[Any] = data["tests"] if isinstance(data.get("tests"), list) else []
    tests = [(i, t) for i, v in enumerate(raw_tests) if (t := valid(PackTest, v))]
    return _check_parts(source, rules, fields, tests, actions, entities)


def _check_parts(source: YamlSource, rules: Mapping[str, EntityRuleSpec], fields: Sequence[tuple[int, FieldRuleSpec]],
                 tests: Sequence[tuple[int, PackTest]], actions: Mapping[str, Action],
                 entities: frozenset[str]) -> list[Problem]:
    problems: list[Problem] = []

    def add(loc: tuple[str | int, ...], message: str) -> None:
        problems.append(Problem(source.where(loc), ".".join(map(str, loc)), message))

    known_actions = ", ".join(sorted({*actions, ALLOW}))
    for entity_type, rule in rules.items():
        if entity_type not in entities:
            add(("entities", entity_type), f"unknown entity type {entity_type!r}: no recognizer reports it "
                f"(close: {_close(entity_type, entities)})")
        if rule.action == ALLOW:
            if rule.params:
                add(("entities", entity_type, "params"), "`allow` takes no parameters")
        elif rule.action not in actions:
            add(("entities", entity_type, "action"), f"unknown action {rule.action!r} (known: {known_actions})")
        else:
            message = _bad_params(actions[rule.action], rule.params)
            if message:
                add(("entities", entity_type, "params"), message)
    for i, field in fields:
        action = actions.get(field.action)
        if action is not None:
            message = _bad_params(action, field.params)
            if message:
                add(("fields", i, "params"), message)
        elif field.params:
            add(("fields", i, "params"), f"`{field.action}` takes no parameters")
    for i, test in tests:
        for j, expected in enumerate(test.expect_findings or ()):
            if expected.type not in entities:
                add(("tests", i, "expect_findings", j), f"unknown entity type {expected.type!r}")
            if expected.action is not None and expected.action not in {*actions, ALLOW}:
                add(("tests", i, "expect_findings", j), f"unknown action {expected.action!r}")
        for j, entity_type in enumerate(test.expect_not_found):
            if entity_type not in entities:
                add(("tests", i, "expect_not_found", j), f"unknown entity type {entity_type!r}")
    return problems


def _bad_params(action: Action, params: Mapping[str, Any]) -> str | None:
    try:
        action.check_params(params)
    except ValueError as exc:
        return str(exc)
    return None


def _close(name: str, known: Iterable[str]) -> str:
    import difflib

    matches = difflib.get_close_matches(name, sorted(known), n=3, cutoff=0.5)
    return ", ".join(matches) if matches else "see `aduana policy explain` or docs/policy-packs.md"


def check_library(packs: Sequence[LoadedPack]) -> list[tuple[LoadedPack, Problem]]:
    """Duplicate names, unknown ``extends`` targets and ``extends`` cycles among ``packs``.

    Each problem comes with the pack it belongs to; a duplicate belongs to the later of the two.
    """
    problems: list[tuple[LoadedPack, Problem]] = []
    by_name: dict[str, LoadedPack] = {}
    for loaded in packs:
        other = by_name.get(loaded.pack.name)
        if other is not None and other.path.resolve() != loaded.path.resolve():
            problems.append((loaded, Problem(loaded.source.where(("name",)), "name",
                                             f"pack {loaded.pack.name!r} is also defined in {other.path}")))
            continue
        by_name.setdefault(loaded.pack.name, loaded)
    reported: set[frozenset[str]] = set()
    available = ", ".join(sorted(by_name))
    for loaded in by_name.values():
        for i, parent in enumerate(loaded.pack.extends):
            if parent not in by_name:
                problems.append((loaded, Problem(loaded.source.where(("extends", i)), f"extends.{i}",
                                                 f"unknown policy pack {parent!r} (available: {available})")))
        cycle = _cycle_from(loaded.pack.name, {n: lp.pack for n, lp in by_name.items()})
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            index = loaded.pack.extends.index(cycle[1])
            problems.append((loaded, Problem(loaded.source.where(("extends", index)), f"extends.{index}",
                                             "cycle " + " -> ".join(cycle))))
    return problems


def _cycle_from(start: str, packs: Mapping[str, PolicyPack]) -> list[str] | None:
    """A path ``start -> … -> start`` through ``extends``, if there is one."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    seen: set[str] = set()
    while stack:
        name, path = stack.pop()
        for parent in packs[name].extends if name in packs else ():
            if parent == start:
                return [*path, start]
            if parent not in seen:
                seen.add(parent)
                stack.append((parent, [*path, parent]))
    return None


def validate_files(
    files: Sequence[Path],
    actions: Mapping[str, Action],
    entities: frozenset[str],
    shipped: Sequence[Path] = (),
) -> dict[Path, list[Problem]]:
    """Every problem of every file in ``files``, by file (an empty list: the file is valid).

    ``shipped`` packs (already installed) take part in the name and ``extends`` checks but their own
    problems are not reported, unless they are among ``files``.
    """
    results: dict[Path, list[Problem]] = {}
    given = {p.resolve() for p in files}
    # Shipped packs first, so a file reusing a shipped pack's name is the one reported.
    loaded: list[LoadedPack] = []
    for path in shipped:
        if path.resolve() not in given:
            try:
                loaded.append(load_pack(path))
            except ConfigError:
                continue  # a broken shipped pack is reported when it is validated itself
    for path in files:
        try:
            lp = load_pack(path)
        except PackError as exc:
            results[path] = list(exc.problems)
            if exc.source is not None:
                results[path].extend(p for p in check_raw(exc.source, actions, entities) if p not in exc.problems)
            continue
        except ConfigError as exc:
            results[path] = [Problem(str(path), "(file)", str(exc))]
            continue
        results[path] = check_pack(lp, actions, entities)
        loaded.append(lp)
    # Shipped packs first: a file reusing a shipped pack's name is the one reported, not the shipped one.
    shipped_files = {p.resolve() for p in shipped}
    loaded.sort(key=lambda lp: lp.path.resolve() not in shipped_files)
    for lp, problem in check_library(loaded):
        if lp.path in results:
            results[lp.path].append(problem)
    for problems in results.values():
        problems.sort(key=_line_number)
    return results


def _line_number(problem: Problem) -> int:
    _, _, line = problem.where.rpartition(":")
    return int(line) if line.isdigit() else 0
