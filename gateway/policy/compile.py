"""Turn a config's contracts into effective policies, checked against what the plugins provide.

Run at start-up and by ``aduana config check``: an action no plugin registers, bad action parameters or
an entity type no recognizer detects stop the gateway before it serves a single request.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gateway.config import Config
from gateway.errors import ConfigError
from gateway.inspect.analyzer import NER_ENTITIES
from gateway.inspect.findings import Action
from gateway.pluginmanager import Plugins
from gateway.policy.loader import PackLibrary
from gateway.policy.merge import EffectivePolicy


def known_entities(plugins: Plugins) -> frozenset[str]:
    """Every entity type some registered recognizer (or spaCy NER) can report."""
    found: set[str] = set(NER_ENTITIES)
    for recognizer in plugins.recognizers():
        found.update(getattr(recognizer, "supported_entities", ()))
    return frozenset(found)


def library(config: Config, plugins: Plugins) -> PackLibrary:
    return PackLibrary.from_dirs(plugins.policy_packs(), [config.resolve(p) for p in config.policy_paths])


def check_policy(
    policy: EffectivePolicy, actions: Mapping[str, Action], entities: Iterable[str], where: str
) -> None:
    """Raise :class:`ConfigError` if ``policy`` names an action or entity type nothing provides."""
    entities = frozenset(entities)
    for rule in policy.entities.values():
        if rule.action != "allow" and rule.action not in actions:
            raise ConfigError(f"{where}: entity {rule.entity_type}: unknown action {rule.action!r} "
                              f"(from pack {rule.source}; known: {', '.join(sorted(actions))})")
        if rule.action in actions:
            try:
                actions[rule.action].check_params(rule.params)
            except ValueError as exc:
                raise ConfigError(f"{where}: entity {rule.entity_type} (pack {rule.source}): {exc}") from exc
        if rule.entity_type not in entities:
            raise ConfigError(f"{where}: entity {rule.entity_type} (pack {rule.source}): no recognizer "
                              "detects this type")
    for f in policy.fields:
        if f.action in actions:
            try:
                actions[f.action].check_params(f.params)
            except ValueError as exc:
                raise ConfigError(f"{where}: field rule {f.path or f.key} (pack {f.source}): {exc}") from exc


def compile_policies(config: Config, plugins: Plugins) -> dict[tuple[str, str], EffectivePolicy]:
    """The effective policy of every (contract, route)."""
    lib = library(config, plugins)
    actions = {a.name: a for a in plugins.actions()}
    entities = known_entities(plugins)
    out: dict[tuple[str, str], EffectivePolicy] = {}
    cache: dict[tuple[str, ...], EffectivePolicy] = {}
    for cname, contract in config.contracts.items():
        for route in contract.routes:
            names = route.policy_packs or contract.policy_packs
            policy = cache.get(names)
            if policy is None:
                try:
                    policy = lib.effective(names)
                except ConfigError as exc:
                    raise ConfigError(f"contracts.{cname}.routes.{route.name}: {exc}") from exc
                check_policy(policy, actions, entities, f"contracts.{cname}.routes.{route.name}")
                cache[names] = policy
            out[(cname, route.name)] = policy
    return out
