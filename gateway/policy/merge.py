"""The effective policy of a contract: its packs merged so that the most restrictive rule wins.

Merge rules (documented for compliance officers in ``docs/policy-packs.md``):
- for each entity type, the most restrictive action wins (``block > drop > redact > hash > mask >
  tokenize > allow``); the lowest ``min_score`` of the packs naming it applies;
- field rules of every pack apply; when two match one field, the most restrictive wins;
- allow-list terms (and patterns) apply only to entity types no pack blocks;
- when two packs give one entity type the same action, the stricter parameters win (``mask``: the fewer
  characters kept);
- content types: blocked by any pack → blocked; else inspected if any pack inspects; else passed if a pack
  passes it uninspected; an unlisted type is blocked;
- retention: the shortest period per data class wins... except audit records, where the longest wins
  (a regulator's minimum must be met).
Every effective rule remembers which pack (and version) decided it.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.policy.model import ACTION_ORDER, AllowPatternSpec, PolicyPack


def action_rank(action: str) -> int:
    """Restrictiveness of an action name (unknown names rank as ``block``: fail closed)."""
    return ACTION_ORDER.index(action) if action in ACTION_ORDER else len(ACTION_ORDER)


@dataclass(frozen=True)
class PackRef:
    """Which pack (and exact content) a policy was built from: audit records name it."""

    name: str
    version: str
    digest: str

    def label(self) -> str:
        return f"{self.name}@{self.version}"

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version, "digest": self.digest}


@dataclass(frozen=True)
class EntityRule:
    """The effective rule for one entity type and the packs that decided it."""

    entity_type: str
    action: str
    min_score: float
    params: dict[str, Any]
    source: str  # pack label that decided the action
    #: Pack label that set ``min_score`` (the lowest of the packs naming the type).
    score_source: str = ""


@dataclass(frozen=True)
class FieldRule:
    """A field rule of one pack, compiled: selects fields by JSON path or key regex."""

    path: str | None
    key: str | None
    action: str
    entity_type: str
    params: dict[str, Any]
    source: str
    _path_re: re.Pattern[str] | None = field(default=None, compare=False)
    _key_re: re.Pattern[str] | None = field(default=None, compare=False)

    def matches(self, path: str, key: str | None) -> bool:
        """True when this rule selects the field at ``path`` (innermost key ``key``)."""
        if self._key_re is not None:
            return key is not None and self._key_re.search(key) is not None
        return self._path_re is not None and self._path_re.fullmatch(path) is not None


#: Field names whose key-rule matches a policy remembers, at most this many (then it starts afresh).
FIELD_RULE_CACHE = 1024
#: Which keys are remembered: field names made of letters, ``_`` and ``-``, the names an API repeats in
#: every message. Other keys (a map keyed by e-mail or card number) are matched afresh every time, so
#: the cache holds no value a message carries.
_FIELD_NAME = re.compile(r"[A-Za-z_-]{1,64}")


def _json_path_regex(path: str) -> re.Pattern[str]:
    """``$.items[*].email`` → a regex over the paths the JSON handler gives (``$.items[3].email``)."""
    out = ""
    for piece in re.split(r"(\[\*\]|\.\*|\*\*)", path):
        if piece == "[*]":
            out += r"\[\d+\]"
        elif piece == ".*":
            out += r"\.[^.\[]+"
        elif piece == "**":
            out += r".*"
        else:
            out += re.escape(piece)
    return re.compile(out)


@dataclass(frozen=True)
class EffectivePolicy:
    """The merged policy a contract (or route) applies."""

    packs: tuple[PackRef, ...]
    entities: dict[str, EntityRule]
    fields: tuple[FieldRule, ...]
    allow: frozenset[str]
    languages: tuple[str, ...]
    inspect_types: tuple[str, ...]
    pass_types: tuple[str, ...]
    block_types: tuple[str, ...]
    retention: dict[str, tuple[str, str]]  # data class -> (ISO duration, pack label)
    #: Regular expressions for allow-listed values (full match, ignoring case), each with its pack label.
    allow_patterns: tuple[tuple[re.Pattern[str], str], ...] = ()
    #: Pack label that listed each allow-list term (casefolded) first.
    allow_sources: dict[str, str] = field(default_factory=dict)
    #: (disposition, media type pattern) -> pack label, for ``aduana policy explain``.
    content_sources: dict[tuple[str, str], str] = field(default_factory=dict)
    #: Field name -> indexes (in ``fields``) of the key rules it matches; see :data:`FIELD_RULE_CACHE`.
    _key_matches: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)
    #: Indexes of the rules that select by path (the rest select by key).
    _path_rules: tuple[int, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_path_rules", tuple(
            i for i, r in enumerate(self.fields) if r._key_re is None and r._path_re is not None))

    @property
    def entity_types(self) -> list[str]:
        """The types detection must look for (those with an action other than ``allow``)."""
        return sorted(t for t, r in self.entities.items() if r.action != "allow")

    @property
    def min_score(self) -> float:
        """The lowest threshold of any entity rule (what detection must at least report)."""
        scores = [r.min_score for r in self.entities.values()]
        return min(scores) if scores else 0.5

    def content_disposition(self, media_type: str) -> str:
        """``inspect``, ``pass`` or ``block`` for a media type (``block`` when unlisted)."""
        media_type = media_type.lower()

        def hit(patterns: tuple[str, ...]) -> bool:
            return any(fnmatch.fnmatchcase(media_type, p.lower()) for p in patterns)

        if hit(self.block_types):
            return "block"
        if hit(self.inspect_types):
            return "inspect"
        if hit(self.pass_types):
            return "pass"
        return "block"

    def field_rule(self, path: str, key: str | None) -> FieldRule | None:
        """The most restrictive field rule matching a field, if any (``never_inspect`` ranks lowest).

        Among equally restrictive rules the first (in pack order) wins.
        """
        rules = self.fields
        if not rules:
            return None
        matched = self._matching_key_rules(key)
        if self._path_rules:
            on_path = [i for i in self._path_rules if rules[i].matches(path, key)]
            if on_path:
                matched = tuple(sorted((*matched, *on_path)))
        best: FieldRule | None = None
        for i in matched:
            rule = rules[i]
            if best is None or _field_rank(rule.action) > _field_rank(best.action):
                best = rule
        return best

    def _matching_key_rules(self, key: str | None) -> tuple[int, ...]:
        if key is None:
            return ()  # a key rule needs a key
        cache = self._key_matches
        matched = cache.get(key)
        if matched is None:
            matched = tuple(i for i, r in enumerate(self.fields) if r._key_re is not None and r.matches("", key))
            if _FIELD_NAME.fullmatch(key):
                if len(cache) >= FIELD_RULE_CACHE:
                    cache.clear()
                cache[key] = matched
        return matched

    def allows(self, entity_type: str, text: str) -> bool:
        """True when ``text`` is on the allow-list and no pack blocks ``entity_type``."""
        rule = self.entities.get(entity_type)
        if rule is not None and rule.action == "block":
            return False
        value = text.strip()
        if value.casefold() in self.allow:
            return True
        return any(pattern.fullmatch(value) for pattern, _ in self.allow_patterns)


def _field_rank(action: str) -> int:
    return -1 if action == "never_inspect" else action_rank(action)


_RETENTION_LONGEST_WINS = {"audit"}
#: The ``mask`` action's defaults (plugins/actions.py), to compare packs that leave a parameter out.
_MASK_DEFAULTS = {"keep_first": 0, "keep_last": 4}


def _duration_days(value: str) -> float:
    m = re.fullmatch(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?", value)
    if not m:
        return float("inf")
    y, mo, w, d = (int(g or 0) for g in m.groups())
    return y * 365.25 + mo * 30.44 + w * 7 + d


def merge(packs: Sequence[tuple[PolicyPack, str]]) -> EffectivePolicy:
    """Merge packs (each with its content digest), already expanded for ``extends``, in order."""
    refs = tuple(PackRef(p.name, p.version, digest) for p, digest in packs)
    entities: dict[str, EntityRule] = {}
    fields: list[FieldRule] = []
    allow: dict[str, str] = {}
    allow_patterns: list[tuple[re.Pattern[str], str]] = []
    content_sources: dict[tuple[str, str], str] = {}
    languages: list[str] = []
    inspect: list[str] = []
    passed: list[str] = []
    block: list[str] = []
    retention: dict[str, tuple[str, str]] = {}

    for pack, _digest in packs:
        label = f"{pack.name}@{pack.version}"
        for entity_type, spec in pack.entities.items():
            entities[entity_type] = _merge_entity(entities.get(entity_type), entity_type, spec.action,
                                                  spec.min_score, dict(spec.params), label)
        for f in pack.fields:
            fields.append(
                FieldRule(
                    path=f.path, key=f.key, action=f.action, entity_type=f.entity_type, params=dict(f.params),
                    source=label,
                    _path_re=_json_path_regex(f.path) if f.path else None,
                    _key_re=re.compile(f.key) if f.key else None,
                )
            )
        for term in pack.allow:
            if isinstance(term, AllowPatternSpec):
                allow_patterns.append((re.compile(term.pattern, re.IGNORECASE), label))
            else:
                allow.setdefault(term.strip().casefold(), label)
        languages.extend(lang for lang in pack.languages if lang not in languages)
        for disposition, types, bucket in (("inspect", pack.content_types.inspect, inspect),
                                           ("pass", pack.content_types.pass_uninspected, passed),
                                           ("block", pack.content_types.block, block)):
            for media_type in types:
                if (disposition, media_type) not in content_sources:
                    bucket.append(media_type)
                    content_sources[(disposition, media_type)] = label
        for data_class in ("vault", "audit", "payloads"):
            value = getattr(pack.retention, data_class)
            if value is None:
                continue
            current_ret = retention.get(data_class)
            longer = _duration_days(value) > _duration_days(current_ret[0]) if current_ret else True
            wins = longer if data_class in _RETENTION_LONGEST_WINS else not longer
            if current_ret is None or wins:
                retention[data_class] = (value, label)

    return EffectivePolicy(
        packs=refs,
        entities=entities,
        fields=tuple(fields),
        allow=frozenset(allow),
        languages=tuple(languages) or ("en", "es"),
        inspect_types=tuple(inspect),
        pass_types=tuple(passed),
        block_types=tuple(block),
        retention=retention,
        allow_patterns=tuple(allow_patterns),
        allow_sources=allow,
        content_sources=content_sources,
    )


def _merge_entity(current: EntityRule | None, entity_type: str, action: str, min_score: float,
                  params: dict[str, Any], label: str) -> EntityRule:
    """Fold one pack's rule for ``entity_type`` into the rule so far (most restrictive wins)."""
    if current is None:
        return EntityRule(entity_type, action, min_score, params, label, label)
    score, score_source = (min_score, label) if min_score < current.min_score else (
        current.min_score, current.score_source)
    if action_rank(action) > action_rank(current.action):
        return EntityRule(entity_type, action, score, params, label, score_source)
    if action == current.action and action == "mask" and params != current.params:
        strict = dict(current.params)
        for name, default in _MASK_DEFAULTS.items():
            if name in params or name in strict:
                strict[name] = min(int(params.get(name, default)), int(strict.get(name, default)))
        if "char" in params and "char" not in strict:
            strict["char"] = params["char"]
        source = current.source if strict == current.params else f"{current.source}+{label}"
        return EntityRule(entity_type, action, score, strict, source, score_source)
    return EntityRule(entity_type, current.action, score, current.params, current.source, score_source)
