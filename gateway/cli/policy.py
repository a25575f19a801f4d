"""``aduana policy``: validate, explain, test and try policy packs.

Exit status: 0 when everything is fine, 1 when a pack is invalid or a test fails, 2 for usage mistakes
(unknown option, missing file, unknown pack or contract).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gateway.cli.common import err_console
from gateway.errors import AduanaError, ConfigError
from gateway.pluginmanager import Plugins, load_plugins
from gateway.policy.explain import explain_dict
from gateway.policy.loader import PackError, PackLibrary, load_pack
from gateway.policy.merge import EffectivePolicy

if TYPE_CHECKING:
    from gateway.policy.sandbox import Result, Sandbox
    from gateway.policy.testing import CaseResult

USAGE = 2
INVALID = 1

_optional_config = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
    envvar="ADUANA_CONFIG",
    help="A gateway config whose plugins and policy_paths to use (or $ADUANA_CONFIG). Optional.",
)


def _console() -> Console:
    """Standard output; wide when it is a pipe or file, so tables are not cut to 80 columns."""
    out = Console(highlight=False)
    if not out.is_terminal:
        out.width = 160
    return out


def _usage(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(USAGE)


def _plugins_and_paths(config_path: Path | None) -> tuple[Plugins, list[Path]]:
    """The plugins (built-ins, entry points, the config's) and every pack file they or the config add."""
    from gateway.config import load_config

    try:
        if config_path is None:
            plugins = load_plugins()
            return plugins, plugins.policy_packs()
        config = load_config(config_path)
        plugins = load_plugins(config.plugins)
        files = list(plugins.policy_packs())
        for folder in config.policy_paths:
            d = config.resolve(folder)
            if not d.is_dir():
                raise ConfigError(f"policy_paths: {d} is not a folder")
            files.extend(sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml")))
        return plugins, files
    except ConfigError as exc:
        _usage(str(exc))


def _library(files: Sequence[Path]) -> PackLibrary:
    """The packs in ``files``; an invalid one is reported and ends the command (exit 1)."""
    try:
        return PackLibrary(files)
    except PackError as exc:
        _problems(exc)


def _select(library: PackLibrary, names_or_files: Sequence[str]) -> tuple[PackLibrary, list[str]]:
    """Resolve PACK arguments: a pack name, or a path to a pack file (loaded into the library)."""
    names: list[str] = []
    for item in names_or_files:
        path = Path(item)
        if item.endswith((".yaml", ".yml")) or path.is_file():
            if not path.is_file():
                _usage(f"no such pack file: {item}")
            names.append(_extend(library, path))
        elif item in library.packs:
            names.append(item)
        else:
            _usage(f"unknown policy pack {item!r} (available: {', '.join(sorted(library.packs)) or 'none'})")
    return library, names


def _extend(library: PackLibrary, path: Path) -> str:
    """Load the pack file at ``path`` into ``library`` (replacing a pack of its name); return its name."""
    try:
        loaded = load_pack(path)
    except PackError as exc:
        _problems(exc)
    library.packs[loaded.pack.name] = loaded
    return loaded.pack.name


def _problems(exc: PackError) -> NoReturn:
    for problem in exc.problems:
        err_console.print(f"[red]{escape(str(problem))}[/]", soft_wrap=True)
    sys.exit(INVALID)


def _effective(library: PackLibrary, names: Sequence[str]) -> EffectivePolicy:
    try:
        return library.effective(names)
    except PackError as exc:
        _problems(exc)
    except ConfigError as exc:
        _usage(str(exc))


@click.group("policy")
def command() -> None:
    """Write, check and try policy packs (see docs/policy-packs.md)."""


# --- validate ---------------------------------------------------------------------------------------


@command.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_optional_config
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
def validate(files: tuple[Path, ...], config_path: Path | None, as_json: bool) -> None:
    """Check pack FILES: fields, actions and their parameters, entity types, regexes, extends, names.

    Every problem is printed as FILE:LINE: FIELD: MESSAGE. Exit 0 when all files are valid, 1 when one
    is not, 2 for a usage mistake.
    """
    from gateway.policy.compile import known_entities
    from gateway.policy.validate import validate_files

    plugins, shipped = _plugins_and_paths(config_path)
    actions = {a.name: a for a in plugins.actions()}
    results = validate_files(list(files), actions, known_entities(plugins), shipped)
    bad = {path: problems for path, problems in results.items() if problems}
    console = _console()
    if as_json:
        out = [{"file": str(p), "valid": not problems, "problems": [x.as_dict() for x in problems]}
               for p, problems in results.items()]
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        for path, problems in results.items():
            if problems:
                for problem in problems:
                    console.print(f"[red]{escape(str(problem))}[/]", soft_wrap=True)
            else:
                console.print(f"[green]ok[/]: {escape(str(path))}")
    sys.exit(INVALID if bad else 0)


# --- explain ----------------------------------------------------------------------------------------


@command.command("explain")
@click.argument("contract")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default="aduana.yaml",
              show_default=True, envvar="ADUANA_CONFIG", help="The gateway's YAML configuration file.")
@click.option("--route", help="Explain the packs of this route (when it overrides the contract's).")
@click.option("--json", "as_json", is_flag=True, help="Print the effective policy as JSON.")
def explain(contract: str, config_path: Path, route: str | None, as_json: bool) -> None:
    """Print CONTRACT's effective policy: every rule and the pack (and version) it came from."""
    from gateway.config import load_config

    if not config_path.is_file():
        _usage(f"no such config file: {config_path}")
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        _usage(str(exc))
    spec = config.contracts.get(contract)
    if spec is None:
        _usage(f"unknown contract {contract!r} (in {config_path}: {', '.join(sorted(config.contracts)) or 'none'})")
    names = spec.policy_packs
    if route is not None:
        chosen = next((r for r in spec.routes if r.name == route), None)
        if chosen is None:
            _usage(f"contract {contract!r} has no route {route!r}")
        names = chosen.policy_packs or names
    _, files = _plugins_and_paths(config_path)
    policy = _effective(_library(files), names)
    data = explain_dict(policy, contract, route)
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _print_explain(_console(), data)


# --- test -------------------------------------------------------------------------------------------


@contextmanager
def _sandbox(plugins: Plugins) -> Iterator[Sandbox]:
    """The sandbox, with a note on stderr while spaCy loads (a few seconds)."""
    from gateway.policy.sandbox import Sandbox

    if err_console.is_terminal:
        err_console.print("[dim]loading the recognizers…[/]")
    with Sandbox.open(plugins) as sandbox:
        yield sandbox


@command.command("test")
@click.argument("packs", nargs=-1)
@_optional_config
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("-k", "match", help="Only run cases whose name contains this text.")
def test(packs: tuple[str, ...], config_path: Path | None, as_json: bool, match: str | None) -> None:
    """Run the inline tests of PACKS (names or files; default: every pack available).

    Prints pass/fail per case with a diff of expected and actual output; exit 1 when a case fails.
    """
    from gateway.policy.testing import run_case

    plugins, files = _plugins_and_paths(config_path)
    library, names = _select(_library(files), packs)
    names = names or sorted(library.packs)
    results = []
    console = _console()
    with _sandbox(plugins) as sandbox:
        for name in names:
            loaded = library.get(name)
            policy = _effective(library, [name])
            label = f"{loaded.pack.name}@{loaded.pack.version}"
            for case in loaded.pack.tests:
                if match is not None and match.lower() not in case.name.lower():
                    continue
                result = run_case(sandbox, policy, case, label)
                results.append(result)
                if not as_json:
                    _print_case(console, result)
    failed = sum(not r.passed for r in results)
    if as_json:
        click.echo(json.dumps([r.as_dict() for r in results], indent=2, ensure_ascii=False))
    else:
        colour = "red" if failed else "green"
        console.print(f"[{colour}]{len(results) - failed} passed, {failed} failed[/] "
                      f"({len(names)} pack{'s' if len(names) != 1 else ''})")
    sys.exit(INVALID if failed else 0)


# --- try --------------------------------------------------------------------------------------------


@command.command("try")
@click.option("--pack", "packs", multiple=True, required=True, help="A pack name or file (repeat to merge).")
@click.option("--text", help="The text to protect.")
@click.option("--file", "file", type=click.File("r", encoding="utf-8"), help="A file to protect ('-': stdin).")
@click.option("--jsonl", type=click.File("r", encoding="utf-8"),
              help='One {"text": ...} object a line; prints one {"text", "findings"} line each.')
@click.option("--content-type", default="text/plain", show_default=True,
              help="Media type of --text/--file (application/json: a JSON body, field rules apply).")
@click.option("--language", type=click.Choice(["en", "es"]), help="Force the language (default: detected).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@_optional_config
def try_(packs: tuple[str, ...], text: str | None, file: Any, jsonl: Any, content_type: str,
         language: str | None, as_json: bool, config_path: Path | None) -> None:
    """Show what the merged PACKS do to a sample: the protected output and every finding."""
    if sum(x is not None for x in (text, file, jsonl)) != 1:
        _usage("give exactly one of --text, --file or --jsonl")
    plugins, files = _plugins_and_paths(config_path)
    library, names = _select(_library(files), packs)
    policy = _effective(library, names)
    with _sandbox(plugins) as sandbox:
        if jsonl is not None:
            for number, line in enumerate(jsonl, 1):
                if not line.strip():
                    continue
                try:
                    item = json.loads(line)
                    sample = item["text"]
                    if not isinstance(sample, str):
                        raise TypeError
                except (ValueError, KeyError, TypeError):
                    _usage(f"{jsonl.name}:{number}: expected a JSON object with a string \"text\"")
                result = sandbox.protect_text(policy, sample, language=language)
                click.echo(json.dumps(_line(result), ensure_ascii=False))
            return
        sample = text if text is not None else file.read()
        try:
            if content_type.split(";")[0].strip().lower() == "application/json":
                result = sandbox.protect_json(policy, json.loads(sample), language=language)
            else:
                result = sandbox.protect_text(policy, sample, language=language, content_type=content_type)
        except json.JSONDecodeError as exc:
            _usage(f"the input is not JSON: {exc}")
        except AduanaError as exc:
            _usage(str(exc))
    if as_json:
        click.echo(json.dumps({**_line(result), "blocked": result.blocked, "languages": result.languages,
                               "packs": [p.label() for p in policy.packs]}, indent=2, ensure_ascii=False))
    else:
        _print_try(_console(), result, policy)


def _line(result: Result) -> dict[str, Any]:
    body = result.output if result.output_json is None else result.output_json
    out: dict[str, Any] = {"text": body, "findings": [f.as_dict() for f in result.findings]}
    if result.blocked is not None:
        out["blocked"] = result.blocked
    return out


# --- schema -----------------------------------------------------------------------------------------


@command.command("schema")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the schema to this file instead of printing it.")
@click.option("--check", "check_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Exit 1 if this file is not the current schema (for CI).")
def schema(output: Path | None, check_file: Path | None) -> None:
    """Print the JSON Schema of a pack file (for editors: policies/schema.json)."""
    from gateway.policy.schema import schema_text

    text = schema_text()
    console = _console()
    if check_file is not None:
        current = check_file.read_text(encoding="utf-8") if check_file.is_file() else ""
        if current != text:
            err_console.print(f"{escape(str(check_file))} is out of date: run "
                              f"`aduana policy schema --output {escape(str(check_file))}`")
            sys.exit(INVALID)
        console.print(f"[green]ok[/]: {escape(str(check_file))} is up to date")
    elif output is not None:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {escape(str(output))}")
    else:
        click.echo(text, nl=False)


# --- rendering --------------------------------------------------------------------------------------


def _params_text(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def _print_explain(out: Console, data: dict[str, Any]) -> None:
    packs = ", ".join(f"{p['name']}@{p['version']}" for p in data["packs"])
    where = data["contract"] + (f" (route {data['route']})" if data["route"] else "")
    out.print(f"[bold]Effective policy of {escape(where)}[/]: {escape(packs)}")
    out.print(f"Languages: {', '.join(data['languages'])}. Most restrictive action wins: "
              "block > drop > redact > hash > mask > tokenize > allow; lowest min_score wins.", soft_wrap=True)
    table = Table("Entity type", "Action", "Parameters", "Min score", "From pack", title="Entities")
    for row in data["entities"]:
        score = f"{row['min_score']:.2f}" + ("" if row["min_score_pack"] == row["pack"]
                                             else f" ({row['min_score_pack']})")
        table.add_row(row["entity_type"], row["action"], escape(_params_text(row["params"])), score, row["pack"])
    out.print(table)
    if data["fields"]:
        table = Table("Field", "Action", "Entity type", "Parameters", "From pack", title="Field rules")
        for row in data["fields"]:
            table.add_row(escape(row["selector"]), row["action"], row["entity_type"],
                          escape(_params_text(row["params"])), row["pack"])
        out.print(table)
    table = Table("Media type", "Listed as", "Effective", "From pack", title="Content types")
    for row in data["content_types"]:
        table.add_row(escape(row["media_type"]), row["listed_as"], row["effective"], row["pack"])
    out.print(table)
    if data["allow"]:
        table = Table("Allowed term", "Kind", "From pack", title="Allow-list "
                      f"(not applied to {', '.join(data['allow_not_applied_to']) or 'any blocked type'})")
        for row in data["allow"]:
            table.add_row(escape(row["term"]), row["kind"], row["pack"])
        out.print(table)
    table = Table("Data class", "Kept for", "From pack", title="Retention")
    for name, row in data["retention"].items():
        table.add_row(name, row["period"], row["pack"])
    out.print(table)


def _print_case(out: Console, case: CaseResult) -> None:
    if case.passed:
        out.print(f"[green]PASS[/] {escape(case.pack)} :: {escape(case.name)}")
        return
    out.print(f"[bold red]FAIL[/] {escape(case.pack)} :: {escape(case.name)}")
    for failure in case.failures:
        out.print(f"     {escape(failure)}", soft_wrap=True)
    for line in case.diff.splitlines():
        colour = "red" if line.startswith("-") else "green" if line.startswith("+") else "dim"
        out.print(f"     [{colour}]{escape(line)}[/]", soft_wrap=True)


def _print_try(out: Console, result: Result, policy: EffectivePolicy) -> None:
    out.print(f"[bold]Packs:[/] {', '.join(p.label() for p in policy.packs)}")
    if result.blocked is not None:
        out.print(f"[bold red]BLOCKED[/]: {escape(result.blocked)}")
    elif result.output_json is not None:
        out.print("[bold]Output:[/]")
        out.print(escape(json.dumps(result.output_json, indent=2, ensure_ascii=False)), soft_wrap=True)
    else:
        out.print("[bold]Output:[/]")
        out.print(escape(result.output or ""), soft_wrap=True)
    table = Table("Type", "Where", "Start", "End", "Text", "Score", "Action", "From pack", title="Findings")
    for f in result.findings:
        table.add_row(f.entity_type, escape(f.path), str(f.start), str(f.end), escape(f.text),
                      f"{f.score:.2f}", f.action, f.source)
    out.print(table if result.findings else "No findings.")
