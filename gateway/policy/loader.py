"""Find, load and validate policy packs; resolve ``extends``; build a contract's effective policy.

Errors name the file, line and field: ``policies/gdpr.yaml:12: entities.PERSON.action: unknown action``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gateway.errors import ConfigError
from gateway.policy.merge import EffectivePolicy, merge
from gateway.policy.model import PolicyPack
from gateway.yamlsource import YamlSource, YamlSyntaxError, load_yaml


@dataclass(frozen=True)
class Problem:
    """One mistake in a pack file: where (``file:line``), which field, what is wrong."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {"where": self.where, "field": self.field, "message": self.message}


class PackError(ConfigError):
    """A pack file is invalid; ``problems`` lists every mistake found (the message joins them)."""

    def __init__(self, problems: Sequence[Problem], source: YamlSource | None = None) -> None:
        super().__init__("\n".join(map(str, problems)))
        self.problems = tuple(problems)
        #: The parsed file, when it was valid YAML (so further checks can still look at its parts).
        self.source = source


def _field_name(loc: Sequence[Any]) -> str:
    return ".".join(map(str, loc)) or "(top)"


@dataclass(frozen=True)
class LoadedPack:
    """A validated pack with the file it came from, its digest (audit) and line map (errors)."""

    pack: PolicyPack
    path: Path
    digest: str
    source: YamlSource


def load_pack(path: Path) -> LoadedPack:
    """Parse and validate one pack file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PackError([Problem(str(path), "(file)", f"cannot read policy pack: {exc.strerror}")]) from exc
    try:
        source = load_yaml(path, raw.decode("utf-8"))
    except YamlSyntaxError as exc:
        where, _, message = str(exc).partition(": ")
        raise PackError([Problem(where, "(yaml)", message)]) from exc
    except UnicodeDecodeError as exc:
        raise PackError([Problem(str(path), "(file)", "not UTF-8 text")]) from exc
    if not isinstance(source.data, dict):
        raise PackError([Problem(source.where(()), "(top)", "a policy pack is a mapping of fields")])
    try:
        pack = PolicyPack.model_validate(source.data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            if err["type"] == "string_type" and "str" in err["loc"] and isinstance(err["input"], dict):
                continue  # the mapping form of a `string | mapping` entry: its own errors say more
            loc = _yaml_loc(tuple(err["loc"]), source.data)
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            problems.append(Problem(source.where(loc), _field_name(loc), msg))
        raise PackError(problems, source) from exc
    return LoadedPack(pack=pack, path=path, digest="sha256:" + hashlib.sha256(raw).hexdigest(), source=source)


def _yaml_loc(loc: tuple[Any, ...], data: Any) -> tuple[Any, ...]:
    """Drop the union-member tags pydantic adds (``allow.0.str``), keeping the path as written in YAML."""
    out: list[Any] = []
    node = data
    for part in loc:
        in_dict = isinstance(node, dict) and part in node
        if in_dict or (isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)):
            node = node[part]
        elif isinstance(node, dict) and part in {"action", "min_score", "params"}:
            node = None  # a shorthand rule: still name the field
        else:
            continue
        out.append(part)
    return tuple(out)


class PackLibrary:
    """Every pack available by name: shipped ones (via plugins) and the config's ``policy_paths``."""

    def __init__(self, files: Iterable[Path]) -> None:
        self.packs: dict[str, LoadedPack] = {}
        for path in files:
            loaded = load_pack(path)
            other = self.packs.get(loaded.pack.name)
            if other is not None and other.path.resolve() != path.resolve():
                raise PackError([Problem(loaded.source.where(("name",)), "name",
                                         f"pack {loaded.pack.name!r} is also defined in {other.path}")])
            self.packs[loaded.pack.name] = loaded

    @classmethod
    def from_dirs(cls, pack_files: Sequence[Path], dirs: Sequence[Path]) -> PackLibrary:
        """The library of ``pack_files`` plus every ``*.yaml``/``*.yml`` in ``dirs``."""
        files = list(pack_files)
        for d in dirs:
            if not d.is_dir():
                raise ConfigError(f"policy_paths: {d} is not a folder")
            files.extend(sorted(d.glob("*.yaml")) + sorted(d.glob("*.yml")))
        return cls(files)

    def get(self, name: str) -> LoadedPack:
        """The pack called ``name``; :class:`ConfigError` listing the available ones otherwise."""
        try:
            return self.packs[name]
        except KeyError:
            known = ", ".join(sorted(self.packs)) or "none"
            raise ConfigError(f"unknown policy pack {name!r} (available: {known})") from None

    def expand(self, names: Sequence[str]) -> list[LoadedPack]:
        """The packs named and everything they extend, parents first, each once; cycles are errors."""
        order: list[LoadedPack] = []
        done: set[str] = set()

        def visit(name: str, stack: tuple[str, ...]) -> None:
            if name in stack:
                cycle = " -> ".join((*stack[stack.index(name):], name))
                loaded = self.get(stack[-1])
                index = loaded.pack.extends.index(name)
                raise PackError([Problem(loaded.source.where(("extends", index)), f"extends.{index}",
                                         f"cycle {cycle}")])
            if name in done:
                return
            loaded = self.get(name)
            for index, parent in enumerate(loaded.pack.extends):
                if parent not in self.packs:
                    known = ", ".join(sorted(self.packs)) or "none"
                    raise PackError([Problem(loaded.source.where(("extends", index)), f"extends.{index}",
                                             f"unknown policy pack {parent!r} (available: {known})")])
                visit(parent, (*stack, name))
            done.add(name)
            order.append(loaded)

        for name in names:
            visit(name, ())
        return order

    def effective(self, names: Sequence[str]) -> EffectivePolicy:
        """The merged policy of the named packs (and what they extend)."""
        return merge([(lp.pack, lp.digest) for lp in self.expand(names)])
