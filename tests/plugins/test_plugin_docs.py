"""Keep ``docs/plugins.md`` and the hook specifications honest (datasette's ``tests/test_docs.py`` idea).

Every hook has a reference section whose signature matches the spec and whose example registers
against the real specs; every hook has a ``test_hook_<name>`` test; every spec's docstring says what
STYLE.md asks; the tutorial shows the example plugin's real code.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable
from pathlib import Path

import pluggy
import pytest

from gateway import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "examples" / "aduana-acme-plugin"
HOOKS: dict[str, Callable[..., object]] = {
    name: fn for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if name.startswith("aduana_")
}


def sections() -> dict[str, str]:
    """``### aduana_*`` section title → its text, up to the next heading of level 2 or 3."""
    found = re.findall(r"^### (aduana_\w+)\n(.*?)(?=^##)", DOC + "\n##", flags=re.M | re.S)
    return dict(found)


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def signature(fn: Callable[..., object]) -> str:
    sig = inspect.signature(fn)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"def {fn.__name__}({params}) -> {sig.return_annotation}"


def is_firstresult(fn: Callable[..., object]) -> bool:
    return bool(getattr(fn, f"{hookspecs.PROJECT}_spec")["firstresult"])


def test_every_hook_is_documented_and_nothing_else() -> None:
    assert sorted(sections()) == sorted(HOOKS)


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_documented_signature_matches_the_spec(name: str) -> None:
    blocks = code_blocks(sections()[name])
    assert blocks and blocks[0].strip() == signature(HOOKS[name])


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_documented_first_result_rule_matches_the_spec(name: str) -> None:
    assert ("first non-None result" in sections()[name]) is is_firstresult(HOOKS[name])


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_spec_docstring_follows_the_house_style(name: str) -> None:
    fn = HOOKS[name]
    doc = inspect.getdoc(fn) or ""
    for param in inspect.signature(fn).parameters:
        assert f":param {param}:" in doc, f"{name}: no :param {param}:"
    if inspect.signature(fn).return_annotation != "None":
        assert ":returns:" in doc, f"{name}: no :returns:"
    assert ("Stops at first non-None result" in doc) is is_firstresult(fn)


@pytest.mark.parametrize("name", sorted(HOOKS))
def test_documented_example_registers_against_the_specs(name: str, tmp_path: Path) -> None:
    blocks = code_blocks(sections()[name])
    assert len(blocks) >= 2, f"{name}: no example"
    module = types.ModuleType(f"docs_example_{name}")
    module.__file__ = str(tmp_path / "example.py")
    exec(compile(blocks[1], f"docs/plugins.md:{name}", "exec"), module.__dict__)
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    pm.register(module)  # validates the hook name and its argument names
    pm.check_pending()
    assert [impl.plugin for impl in getattr(pm.hook, name).get_hookimpls()] == [module]
    if not inspect.signature(HOOKS[name]).parameters:  # registration hooks: they must run
        result = getattr(pm.hook, name)()
        assert result and isinstance(result[0], list)


def test_every_hook_has_a_test() -> None:
    tested: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tested.update(re.findall(r"^(?:async )?def test_hook_(\w+)", path.read_text(encoding="utf-8"), re.M))
    missing = sorted(name for name in HOOKS if name.removeprefix("aduana_") not in tested)
    assert not missing, f"hooks without a test_hook_<name> test: {missing}"


def test_the_tutorial_shows_the_example_plugins_real_code() -> None:
    plugin = (EXAMPLE / "src" / "aduana_acme" / "plugin.py").read_text(encoding="utf-8")
    assert plugin in code_blocks(DOC)
    entry_point = '[project.entry-points.aduana]\nacme = "aduana_acme.plugin"\n'
    assert entry_point in (EXAMPLE / "pyproject.toml").read_text(encoding="utf-8")
    assert f"```toml\n{entry_point}```" in DOC
