"""YAML loading that remembers where every value came from, so errors can name file, line and field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[str | int, ...]


@dataclass
class YamlSource:
    """A parsed YAML document and the 1-based line of every mapping key and sequence item in it."""

    path: Path
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Return the line of ``loc`` or of its nearest ancestor that has one."""
        loc = tuple(loc)
        while loc:
            if loc in self.lines:
                return self.lines[loc]
            loc = loc[:-1]
        return self.lines.get(())

    def where(self, loc: Sequence[str | int]) -> str:
        """``file:line`` for an error message."""
        line = self.line_of(loc)
        return f"{self.path}:{line}" if line else str(self.path)


class YamlSyntaxError(ValueError):
    """The file is not valid YAML; the message names file and line."""


class _NodeError(Exception):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(problem)
        self.line = line
        self.problem = problem


def load_yaml(path: Path, text: str | None = None) -> YamlSource:
    """Parse ``path`` (or ``text`` standing for it) with safe constructors only."""
    if text is None:
        text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlSyntaxError(f"{where}: invalid YAML: {problem}") from exc
    source = YamlSource(path=path, data=None)
    if node is None:
        source.data = {}
        return source
    source.lines[()] = node.start_mark.line + 1
    try:
        source.data = _build(node, (), source.lines)
    except _NodeError as exc:
        raise YamlSyntaxError(f"{path}:{exc.line}: {exc.problem}") from exc
    return source


def _build(node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, loc, {})
            if isinstance(key, list):
                raise _NodeError(key_node.start_mark.line + 1, "a list cannot be a key")
            if key in out:
                raise _NodeError(key_node.start_mark.line + 1, f"duplicate key {key!r}")
            child = (*loc, key)
            lines[child] = key_node.start_mark.line + 1
            out[key] = _build(value_node, child, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            child = (*loc, i)
            lines[child] = item.start_mark.line + 1
            items.append(_build(item, child, lines))
        return items
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)  # type: ignore[no-untyped-call]
    finally:
        loader.dispose()  # type: ignore[no-untyped-call]
