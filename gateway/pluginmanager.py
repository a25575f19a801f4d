"""The one place that knows which plugins exist, and the boundary every call into a plugin crosses.

Built-ins (``DEFAULT_PLUGINS``) are registered exactly like third-party plugins; then installed
distributions that declare the ``aduana`` entry-point group; then modules named in the config file.
:class:`Plugins` wraps the pluggy manager with one typed method per hook.

Rules this module keeps (the guarantees in :mod:`gateway.hookspecs`):

1. Aduana calls each implementation itself, in pluggy's order (a user's plugin first, built-ins last),
   so every failure names its plugin and every returned object is attributed to one. Hook wrappers
   are refused at load (one could drop another plugin's recognizers), and so is ``async`` on a hook
   that is not awaited.
2. On the inspection path an implementation that raises becomes :class:`PluginError` naming the
   plugin: the message fails closed. A deliberate 4xx decision (``AuthenticationError``,
   ``PolicyBlockedError``, a malformed body) and a ``ConfigError`` at start-up pass as they are.
3. Elsewhere (audit sinks, lifecycle events) every implementation runs; failures are returned as
   :class:`PluginFailure` for the caller to log and audit, never raised.
4. A plugin cannot weaken a policy. An action may replace one of the same name only if its rank is
   not lower (start-up fails otherwise). A third-party action that returns the value it was given, or
   text containing it, fails closed. A third-party content handler that exposes no text for a body
   with letters or digits, or marks text as never inspected, fails closed. Before/after-upstream hooks
   may annotate or veto, never change the message. These guards catch mistakes, not malice: a plugin
   runs inside the gateway's process with its privileges, so install only plugins you have reviewed.
"""

from __future__ import annotations

import copy
import importlib
import importlib.metadata
import inspect
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

import pluggy

from gateway import hookspecs
from gateway.errors import ConfigError, PluginError
from gateway.plugin_guards import GuardedAction, GuardedHandler, failure_of

if TYPE_CHECKING:
    from presidio_analyzer import EntityRecognizer

    from gateway.config import Contract
    from gateway.credentials import Credentials
    from gateway.inspect.document import ContentHandler
    from gateway.inspect.findings import Action
    from gateway.keys.provider import KeyProvider
    from gateway.proxy.message import Message, Principal
    from gateway.proxy.peer import PeerCertificate

T = TypeVar("T")

#: Built-in plugins, in registration order. Each is an ordinary module of hook implementations.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "gateway.plugins.recognizers_presidio",
    "gateway.plugins.recognizers_es",
    "gateway.plugins.recognizers_pci",
    "gateway.plugins.recognizers_hipaa",
    "gateway.plugins.recognizers_en_place",
    "gateway.plugins.recognizers_secrets",
    "gateway.plugins.actions",
    "gateway.plugins.content_json",
    "gateway.plugins.content_text",
    "gateway.plugins.content_form",
    "gateway.plugins.content_email",
    "gateway.plugins.content_csv",
    "gateway.plugins.auth_mtls",  # before auth_apikey: Aduana asks it first (see Plugins._impls)
    "gateway.plugins.auth_apikey",
    "gateway.plugins.keyprovider_file",
    "gateway.plugins.keyprovider_env",
    "gateway.plugins.policy_packs",
    "gateway.plugins.auditsink_jsonl",
)

ENTRY_POINT_GROUP = hookspecs.PROJECT
BUILT_IN = "built-in"
CONFIG = "config"
#: Hooks that may be ``async``: they run on the event loop and are awaited (every other hook is not).
ASYNC_HOOKS = frozenset({"aduana_before_upstream", "aduana_after_upstream"})
#: ``kind`` values of :meth:`Plugins.keys_rotated`.
KEY_KINDS = ("data", "master")
#: Attribute set on every recognizer: the plugin that registered it (so its failure can name it).
PLUGIN_ATTRIBUTE = "aduana_plugin"


@dataclass(frozen=True)
class PluginInfo:
    """What ``aduana plugins list`` shows about one registered plugin."""

    name: str
    version: str
    source: str  # "built-in", "entry point (<distribution>)" or "config"
    hooks: tuple[str, ...]
    module: str = ""


class PluginFailure(NamedTuple):
    """A hook implementation that raised where the gateway carries on (sinks, lifecycle events)."""

    plugin: str
    error: BaseException

    def as_dict(self) -> dict[str, str]:
        """The form audit records and logs carry: the plugin and the error's type, never its message."""
        return {"plugin": self.plugin, "error": type(self.error).__name__}


async def await_me_maybe(value: Awaitable[T] | T) -> T:
    """``await`` ``value`` if it is awaitable (an ``async`` hook's result), else return it."""
    if inspect.isawaitable(value):
        return await value
    return value


class Plugins:
    """A typed facade over the pluggy manager: one method per hook."""

    def __init__(self, manager: pluggy.PluginManager, infos: Mapping[str, PluginInfo]) -> None:
        self._pm = manager
        self._infos = dict(infos)

    @property
    def manager(self) -> pluggy.PluginManager:
        return self._pm

    def is_builtin(self, plugin: str) -> bool:
        info = self._infos.get(plugin)
        return info is not None and info.source == BUILT_IN

    # --- calling implementations ------------------------------------------------------------------

    def _impls(self, hook_name: str) -> list[pluggy.HookImpl]:
        # pluggy's call order: the reverse of registration, tryfirst before, trylast (built-ins) after.
        impls = getattr(self._pm.hook, hook_name).get_hookimpls()
        return [i for i in reversed(impls) if not (i.hookwrapper or i.wrapper)]

    def _results(self, hook_name: str, *, first: bool = False, **kwargs: Any) -> list[tuple[str, Any]]:
        """(plugin, result) of each implementation that returned something; raise as rule 2 says."""
        out: list[tuple[str, Any]] = []
        for impl in self._impls(hook_name):
            try:
                result = impl.function(*(kwargs[name] for name in impl.argnames))
            except Exception as exc:
                raise failure_of(impl.plugin_name, hook_name, exc) from exc
            if result is not None:
                out.append((impl.plugin_name, result))
                if first:
                    break
        return out

    def _items(self, hook_name: str) -> list[tuple[str, Any]]:
        """(plugin, item) for every item of every list a registration hook returned."""
        out: list[tuple[str, Any]] = []
        for plugin, result in self._results(hook_name):
            if isinstance(result, (str, bytes)) or not isinstance(result, Iterable):
                raise PluginError(plugin, f"{hook_name} returned {type(result).__name__}, expected a list")
            out.extend((plugin, item) for item in result)
        return out

    def _notify(self, hook_name: str, **kwargs: Any) -> list[PluginFailure]:
        """Call every implementation; collect the ones that raised.

        A third-party implementation gets its own deep copy of the data, so nothing it changes reaches
        another implementation or the caller. Built-ins only read it and share the caller's (a copy per
        built-in cost more than the audit sink's work, on every record).
        """
        failures: list[PluginFailure] = []
        for impl in self._impls(hook_name):
            shared = self.is_builtin(impl.plugin_name)
            try:
                impl.function(*(kwargs[n] if shared else copy.deepcopy(kwargs[n]) for n in impl.argnames))
            except Exception as exc:  # a notification must not affect what it reports
                failures.append(PluginFailure(impl.plugin_name, exc))
        return failures

    async def _message_hook(self, hook_name: str, message: Message) -> None:
        for impl in self._impls(hook_name):
            before = _snapshot(message)
            try:
                await await_me_maybe(impl.function(*({"message": message}[n] for n in impl.argnames)))
            except Exception as exc:
                raise failure_of(impl.plugin_name, hook_name, exc) from exc
            if _snapshot(message) != before:
                raise PluginError(impl.plugin_name, f"{hook_name} changed the message (only annotations may change)")

    # --- inspection: registered at start-up ---------------------------------------------------------

    def recognizers(self) -> list[EntityRecognizer]:
        """Every plugin's recognizers, user plugins' first, each marked with its plugin's name."""
        out = []
        for plugin, recognizer in self._items("aduana_register_recognizers"):
            try:
                setattr(recognizer, PLUGIN_ATTRIBUTE, plugin)
            except AttributeError:  # a recognizer with __slots__ is still named by its module
                pass
            out.append(recognizer)
        return out

    def actions(self) -> list[Action]:
        """One action per name (the first registered wins); raise ConfigError if it is the weaker."""
        chosen: dict[str, tuple[str, Action]] = {}
        for plugin, action in self._items("aduana_register_actions"):
            name, rank = getattr(action, "name", None), getattr(action, "rank", None)
            if not isinstance(name, str) or not isinstance(rank, int) or isinstance(rank, bool):
                raise ConfigError(f"plugin {plugin}: an action needs a `name` (str) and a `rank` (int)")
            current = chosen.get(name)
            if current is None:
                chosen[name] = (plugin, action)
            elif current[1].rank < rank:
                raise ConfigError(
                    f"plugin {current[0]} registers action {name!r} with rank {current[1].rank}, less "
                    f"restrictive than the one from {plugin} (rank {rank}): a plugin cannot weaken an action"
                )
        return [a if self.is_builtin(p) else GuardedAction(p, a) for p, a in chosen.values()]

    def content_handlers(self) -> list[ContentHandler]:
        """Every plugin's content handlers, user plugins' first; third-party ones guarded."""
        return [h if self.is_builtin(p) else GuardedHandler(p, h) for p, h in self._items("aduana_content_handlers")]

    def policy_packs(self) -> list[Path]:
        return [Path(p) for _, p in self._items("aduana_policy_packs")]

    def key_provider(self, source: str) -> KeyProvider | None:
        """The first provider that handles ``source``. Stops at first non-None result."""
        found = self._results("aduana_key_provider", first=True, source=source)
        provider: KeyProvider | None = found[0][1] if found else None
        return provider

    # --- a message's trip -----------------------------------------------------------------------------

    def authenticate(
        self, authorization: str | None, headers: Mapping[str, str], credentials: Credentials,
        peer_cert: PeerCertificate | None = None, contracts: Mapping[str, Contract] | None = None,
    ) -> Principal | None:
        """The caller's principal, or ``None``. Stops at first non-None result."""
        found = self._results("aduana_authenticate", first=True, authorization=authorization,
                              headers=headers, credentials=credentials, peer_cert=peer_cert,
                              contracts=contracts if contracts is not None else {})
        principal: Principal | None = found[0][1] if found else None
        return principal

    async def before_upstream(self, message: Message) -> None:
        """Run every before-upstream hook; raise if one fails, vetoes or changes the message."""
        await self._message_hook("aduana_before_upstream", message)

    async def after_upstream(self, message: Message) -> None:
        """Run every after-upstream hook; raise if one fails, vetoes or changes the message."""
        await self._message_hook("aduana_after_upstream", message)

    # --- notifications: failures are returned, never raised -------------------------------------------

    def audit_record(self, record: Mapping[str, Any]) -> list[PluginFailure]:
        """Give a committed record to every sink; return the sinks that failed."""
        return self._notify("aduana_audit_record", record=dict(record))

    def contract_terminated(self, contract: str, certificate: Mapping[str, Any]) -> list[PluginFailure]:
        """Tell every plugin a contract was terminated (call after the destruction is durable)."""
        return self._notify("aduana_contract_terminated", contract=contract, certificate=dict(certificate))

    def keys_rotated(
        self, contract: str | None, kind: str, old_version: int | str, new_version: int | str
    ) -> list[PluginFailure]:
        """Tell every plugin a key rotated (call after the new key is durable).

        :raises ValueError: ``kind`` is not one of :data:`KEY_KINDS`.
        """
        if kind not in KEY_KINDS:
            raise ValueError(f"kind must be one of {', '.join(KEY_KINDS)}, got {kind!r}")
        return self._notify("aduana_keys_rotated", contract=contract, kind=kind,
                            old_version=str(old_version), new_version=str(new_version))

    def retention_run(self, contract: str | None, counts: Mapping[str, int]) -> list[PluginFailure]:
        """Tell every plugin what a retention run removed (call after the deletions committed)."""
        return self._notify("aduana_retention_run", contract=contract, counts=dict(counts))

    # --- introspection ----------------------------------------------------------------------------

    def list(self) -> list[PluginInfo]:
        """Every registered plugin in registration order, with the hooks it implements."""
        infos = []
        for name, plugin in self._pm.list_name_plugin():
            hooks = tuple(sorted(h.name for h in self._pm.get_hookcallers(plugin) or ()))
            known = self._infos.get(name, PluginInfo(name, "", "unknown", ()))
            infos.append(PluginInfo(name, known.version, known.source, hooks, known.module))
        return infos


def _snapshot(message: Message) -> tuple[Any, ...]:
    """Everything a before/after-upstream hook may not change (annotations may)."""
    return (message.body, tuple(message.headers.items()), message.status, message.content_type,
            message.contract, message.route, message.direction, message.method, message.path_template)


# --- loading ----------------------------------------------------------------------------------------


def _aduana_version() -> str:
    from gateway import __version__

    return __version__


def _version_of(module: ModuleType) -> str:
    """The version of the distribution that installed ``module``, else its ``__version__``."""
    top = module.__name__.split(".")[0]
    if top == "gateway":
        return _aduana_version()
    for dist in importlib.metadata.packages_distributions().get(top, ()):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return str(getattr(module, "__version__", ""))


def _check_impls(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    """Refuse what Aduana does not call the way pluggy would (rule 1)."""
    for caller in pm.get_hookcallers(plugin) or ():
        for impl in caller.get_hookimpls():
            if impl.plugin is not plugin:
                continue
            if impl.hookwrapper or impl.wrapper:
                raise ConfigError(f"plugin {name}: {caller.name} is a hook wrapper; Aduana does not support them")
            if caller.name not in ASYNC_HOOKS and inspect.iscoroutinefunction(impl.function):
                raise ConfigError(f"plugin {name}: {caller.name} must not be async (only "
                                  f"{' and '.join(sorted(ASYNC_HOOKS))} may be)")


def _register(pm: pluggy.PluginManager, plugin: object, name: str) -> None:
    try:
        pm.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise ConfigError(f"plugin {name} cannot be registered: {exc}") from exc
    _check_impls(pm, plugin, name)


def load_plugins(
    extra_modules: Sequence[str] = (),
    *,
    entry_points: bool = True,
    builtins: Sequence[str] = DEFAULT_PLUGINS,
) -> Plugins:
    """Build the plugin manager: built-ins, then entry points (by name), then ``extra_modules``.

    :param extra_modules: module names from the config's ``plugins`` list.
    :param entry_points: load installed distributions' ``aduana`` entry points (off in some tests).
    :param builtins: the built-in plugin modules (tests narrow them).
    :returns: the facade over the loaded manager.
    :raises ConfigError: a plugin cannot be imported, implements a hook that does not exist (a misspelt
        ``aduana_*`` function fails loudly), has wrong hook arguments, or uses a wrapper or ``async``
        where Aduana does not support it.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    infos: dict[str, PluginInfo] = {}

    for name in builtins:
        module = importlib.import_module(name)
        _register(pm, module, name)
        infos[name] = PluginInfo(name, _aduana_version(), BUILT_IN, (), name)

    if entry_points:
        found = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in sorted(found, key=lambda e: e.name):
            if pm.get_plugin(ep.name) is not None:
                raise ConfigError(f"two installed plugins are named {ep.name!r} ({ep.value}, and "
                                  f"{infos[ep.name].module if ep.name in infos else ep.name}): uninstall one")
            try:
                plugin = ep.load()
            except Exception as exc:
                raise ConfigError(f"plugin entry point {ep.name!r} ({ep.value}) failed to load: "
                                  f"{type(exc).__name__}: {exc}") from exc
            if pm.is_registered(plugin):
                continue
            _register(pm, plugin, ep.name)
            dist = ep.dist
            infos[ep.name] = PluginInfo(ep.name, dist.version if dist else "",
                                        f"entry point ({dist.name if dist else '?'})", (), ep.value)

    for name in extra_modules:
        if pm.get_plugin(name) is not None:
            continue
        try:
            module = importlib.import_module(name)
        except Exception as exc:
            raise ConfigError(f"plugin module {name!r} named in the config cannot be imported: "
                              f"{type(exc).__name__}: {exc}") from exc
        if pm.is_registered(module):
            continue  # already registered through its entry point
        _register(pm, module, name)
        infos[name] = PluginInfo(name, _version_of(module), CONFIG, (), name)

    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise ConfigError(f"a plugin implements a hook that does not exist: {exc}") from exc
    return Plugins(pm, infos)

