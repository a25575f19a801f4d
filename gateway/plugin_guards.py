"""Wrappers around third-party actions and content handlers: what rule 4 of the plugin manager checks.

A plugin cannot weaken a policy. A third-party action that fails, or returns the value it was given (or
text containing it), fails the message closed; a third-party content handler that exposes no text for a
body with letters or digits, or marks text as never inspected or as a scalar, fails closed. Built-ins
are not wrapped. These guards catch mistakes, not malice (see :mod:`gateway.pluginmanager`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from gateway.errors import AduanaError, ConfigError, PluginError

if TYPE_CHECKING:
    from gateway.inspect.document import ContentHandler, Document
    from gateway.inspect.findings import Action, ActionContext, ActionResult, Finding

#: A value at least this long (letters and digits) must not appear inside an action's output.
_MIN_CONTAINED = 6
_SCALAR = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")


def failure_of(plugin: str, what: str, exc: Exception) -> AduanaError:
    """The error a plugin's exception becomes on the inspection path (rule 2)."""
    if isinstance(exc, AduanaError) and (exc.status < 500 or isinstance(exc, ConfigError)):
        return exc
    return PluginError(plugin, f"{what} raised {type(exc).__name__}")


def _letters_or_digits(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def reveals(value: str, output: str) -> bool:
    """Whether an action's ``output`` lets ``value`` through (ignoring case, spaces and punctuation)."""
    needle = _letters_or_digits(value)
    if not needle:
        return False
    haystack = _letters_or_digits(output)
    return haystack == needle or (len(needle) >= _MIN_CONTAINED and needle in haystack)


class GuardedAction:
    """A third-party action, checked on every use: a failure or a leak fails the message closed."""

    def __init__(self, plugin: str, action: Action) -> None:
        self.plugin = plugin
        self.inner = action
        self.name: str = action.name
        self.rank: int = action.rank

    def check_params(self, params: Mapping[str, Any]) -> None:
        try:
            self.inner.check_params(params)
        except ValueError:
            raise
        except Exception as exc:
            raise ConfigError(f"action {self.name!r} of plugin {self.plugin} could not check its "
                              f"parameters: {type(exc).__name__}") from exc

    def apply(self, value: str, finding: Finding, params: Mapping[str, Any], ctx: ActionContext) -> ActionResult:
        try:
            result = self.inner.apply(value, finding, params, ctx)
        except Exception as exc:
            raise failure_of(self.plugin, f"action {self.name!r}", exc) from exc
        # DROP and BLOCK are not text: the transformer acts on them (and refuses any other type).
        if isinstance(result, str) and reveals(value, result):
            raise PluginError(self.plugin, f"action {self.name!r} returned the value it was given")
        return result


class GuardedHandler:
    """A third-party content handler whose documents are checked before inspection uses them."""

    def __init__(self, plugin: str, handler: ContentHandler) -> None:
        self.plugin = plugin
        self.inner = handler
        self.name: str = handler.name
        self.media_types: tuple[str, ...] = tuple(handler.media_types)

    def parse(self, body: bytes, *, media_type: str, charset: str | None) -> Document:
        what = f"content handler {self.name!r}"
        try:
            doc = self.inner.parse(body, media_type=media_type, charset=charset)
        except Exception as exc:
            raise failure_of(self.plugin, what, exc) from exc
        parts = getattr(doc, "parts", None)
        if not isinstance(parts, list) or not callable(getattr(doc, "serialize", None)):
            raise PluginError(self.plugin, f"{what} returned no document")
        exposed = False
        for part in parts:
            text = getattr(part, "text", None)
            if not isinstance(text, str):
                raise PluginError(self.plugin, f"{what} returned a part without text")
            if getattr(part, "skip", False):
                raise PluginError(self.plugin, f"{what} marked a part never-inspected (only a field rule may)")
            if "scalar" in getattr(part, "meta", {}) and not _SCALAR.fullmatch(text.strip()):
                raise PluginError(self.plugin, f"{what} marked text as a scalar")
            exposed = exposed or bool(text.strip())
        if not exposed and any(c.isalnum() for c in body.decode("utf-8", "replace")):
            raise PluginError(self.plugin, f"{what} exposed nothing to inspect in a body with text")
        return GuardedDocument(self.plugin, what, doc)


class GuardedDocument:
    """A third-party document: a failure to write it back names its plugin."""

    def __init__(self, plugin: str, what: str, doc: Document) -> None:
        self._plugin, self._what, self._doc = plugin, what, doc
        self.parts = doc.parts  # the same Part objects: the transformer's replacements reach ``doc``

    def serialize(self) -> bytes:
        try:
            return self._doc.serialize()
        except Exception as exc:
            raise failure_of(self._plugin, self._what, exc) from exc

    def __getattr__(self, name: str) -> Any:  # e.g. ``charset``, which the inspector reads
        return getattr(self._doc, name)
