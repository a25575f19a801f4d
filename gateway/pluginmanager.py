"""The one place that knows which plugins exist.

Built-ins (``DEFAULT_PLUGINS``) are registered exactly like third-party plugins, then installed
distributions that declare the ``aduana`` entry-point group, then modules named in the config file.
:class:`Plugins` wraps the pluggy manager with one typed method per hook.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from gateway import hookspecs
from gateway.errors import ConfigError, PluginError

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

    from gateway.credentials import Credentials
    from gateway.inspect.document import ContentHandler
    from gateway.inspect.findings import Action
    from gateway.keys.provider import KeyProvider
    from gateway.proxy.message import Message, Principal

#: Built-in plugins, in registration order. Each is an ordinary module of hook implementations.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "gateway.plugins.recognizers_presidio",
    "gateway.plugins.recognizers_es",
    "gateway.plugins.recognizers_pci",
    "gateway.plugins.recognizers_hipaa",
    "gateway.plugins.recognizers_secrets",
    "gateway.plugins.actions",
    "gateway.plugins.content_json",
    "gateway.plugins.content_text",
    "gateway.plugins.content_form",
    "gateway.plugins.auth_apikey",
    "gateway.plugins.keyprovider_file",
    "gateway.plugins.keyprovider_env",
    "gateway.plugins.policy_packs",
)

ENTRY_POINT_GROUP = hookspecs.PROJECT


@dataclass(frozen=True)
class PluginInfo:
    """What ``aduana plugins list`` shows about one registered plugin."""

    name: str
    version: str
    source: str  # "built-in", "entry point <dist>", "config"
    hooks: tuple[str, ...]


class Plugins:
    """A typed facade over the pluggy manager."""

    def __init__(self, manager: pluggy.PluginManager, sources: Mapping[str, tuple[str, str]]) -> None:
        self._pm = manager
        self._sources = dict(sources)

    @property
    def manager(self) -> pluggy.PluginManager:
        return self._pm

    # --- hooks ------------------------------------------------------------------------------------

    def recognizers(self) -> list[EntityRecognizer]:
        return _flatten(self._call("aduana_register_recognizers"))

    def actions(self) -> list[Action]:
        return _flatten(self._call("aduana_register_actions"))

    def content_handlers(self) -> list[ContentHandler]:
        return _flatten(self._call("aduana_content_handlers"))

    def policy_packs(self) -> list[Path]:
        return [Path(p) for p in _flatten(self._call("aduana_policy_packs"))]

    def authenticate(
        self, authorization: str | None, headers: Mapping[str, str], credentials: Credentials
    ) -> Principal | None:
        result: Principal | None = self._call(
            "aduana_authenticate", authorization=authorization, headers=headers, credentials=credentials
        )
        return result

    def before_upstream(self, message: Message) -> None:
        self._call("aduana_before_upstream", message=message)

    def after_upstream(self, message: Message) -> None:
        self._call("aduana_after_upstream", message=message)

    def audit_record(self, record: Mapping[str, Any]) -> list[tuple[str, BaseException]]:
        """Give a record to every sink; return the sinks that failed instead of raising."""
        failures: list[tuple[str, BaseException]] = []
        for impl in reversed(self._pm.hook.aduana_audit_record.get_hookimpls()):
            try:
                impl.function(record=record)
            except Exception as exc:  # a sink failure must not affect the request it describes
                failures.append((impl.plugin_name, exc))
        return failures

    def key_provider(self, source: str) -> KeyProvider | None:
        result: KeyProvider | None = self._call("aduana_key_provider", source=source)
        return result

    # --- introspection ----------------------------------------------------------------------------

    def list(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self._pm.list_name_plugin():
            hooks = tuple(sorted(h.name for h in self._pm.get_hookcallers(plugin) or ()))
            source, version = self._sources.get(name, ("unknown", ""))
            infos.append(PluginInfo(name=name, version=version, source=source, hooks=hooks))
        return infos

    def _call(self, hook_name: str, **kwargs: Any) -> Any:
        """Call a hook; a raising implementation becomes a PluginError that names it."""
        caller = getattr(self._pm.hook, hook_name)
        try:
            return caller(**kwargs)
        except PluginError:
            raise
        except Exception as exc:
            if getattr(exc, "status", 500) < 500 and hasattr(exc, "reason"):
                raise  # a deliberate 4xx decision (auth refused, veto) passes as it is
            raise PluginError(_culprit(self._pm, hook_name, exc), f"{hook_name} raised") from exc


def _culprit(pm: pluggy.PluginManager, hook_name: str, exc: BaseException) -> str:
    """Name the plugin whose code raised ``exc``, from the traceback."""
    files = {}
    for impl in getattr(pm.hook, hook_name).get_hookimpls():
        code = getattr(impl.function, "__code__", None)
        if code is not None:
            files[code.co_filename] = impl.plugin_name
    tb = exc.__traceback__
    culprit = "unknown"
    while tb is not None:
        name = files.get(tb.tb_frame.f_code.co_filename)
        if name is not None:
            culprit = name
        tb = tb.tb_next
    return culprit


def _flatten(results: Iterable[Iterable[Any]] | None) -> list[Any]:
    # pluggy returns the last-registered plugin's result first; built-ins are trylast, so user
    # plugins come before them.
    return [item for result in results or () for item in (result or ())]


def _version_of(module: ModuleType) -> str:
    top = module.__name__.split(".")[0]
    if top == "gateway":
        from gateway import __version__

        return __version__
    try:
        return importlib.metadata.version(top)
    except importlib.metadata.PackageNotFoundError:
        return str(getattr(module, "__version__", ""))


def load_plugins(
    extra_modules: Sequence[str] = (),
    *,
    entry_points: bool = True,
    builtins: Sequence[str] = DEFAULT_PLUGINS,
) -> Plugins:
    """Build the plugin manager: built-ins, then entry points, then ``extra_modules`` from config.

    Raises :class:`ConfigError` when a named module cannot be imported or implements a hook that does
    not exist (a misspelt ``aduana_*`` function must fail loudly, not be ignored).
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    sources: dict[str, tuple[str, str]] = {}

    for name in builtins:
        module = importlib.import_module(name)
        pm.register(module, name=name)
        sources[name] = ("built-in", _version_of(module))

    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                raise ConfigError(f"plugin entry point {ep.name!r} ({ep.value}) failed to load: {exc}") from exc
            pm.register(plugin, name=ep.name)
            dist = ep.dist
            sources[ep.name] = (
                f"entry point ({dist.name if dist else '?'})",
                dist.version if dist else "",
            )

    for name in extra_modules:
        if pm.get_plugin(name) is not None:
            continue
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            raise ConfigError(f"plugin module {name!r} named in the config cannot be imported: {exc}") from exc
        pm.register(module, name=name)
        sources[name] = ("config", _version_of(module))

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigError(f"a plugin implements a hook that does not exist: {exc}") from exc
    return Plugins(pm, sources)
