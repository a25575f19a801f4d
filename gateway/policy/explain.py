"""An effective policy as plain data: what ``aduana policy explain`` prints (as a table or as JSON).

Every rule carries the pack label (``name@version``) that decided it, so a compliance officer can trace
each behaviour of a contract back to the file that asked for it.
"""

from __future__ import annotations

from typing import Any

from gateway.policy.merge import EffectivePolicy, action_rank


def entity_rows(policy: EffectivePolicy) -> list[dict[str, Any]]:
    """One row per entity type, most restrictive action first."""
    rows = [
        {"entity_type": r.entity_type, "action": r.action, "params": dict(r.params), "min_score": r.min_score,
         "pack": r.source, "min_score_pack": r.score_source or r.source}
        for r in policy.entities.values()
    ]
    return sorted(rows, key=lambda row: (-action_rank(row["action"]), row["entity_type"]))


def field_rows(policy: EffectivePolicy) -> list[dict[str, Any]]:
    """One row per field rule, in the order the packs list them."""
    return [
        {"selector": f"path {f.path}" if f.path else f"key /{f.key}/", "path": f.path, "key": f.key,
         "action": f.action, "entity_type": f.entity_type, "params": dict(f.params), "pack": f.source}
        for f in policy.fields
    ]


def content_rows(policy: EffectivePolicy) -> list[dict[str, str]]:
    """One row per media type pattern a pack names, with the disposition that applies to it."""
    rows = []
    for (disposition, media_type), pack in policy.content_sources.items():
        effective = policy.content_disposition(media_type)
        rows.append({"media_type": media_type, "listed_as": disposition, "effective": effective, "pack": pack})
    rows.append({"media_type": "(anything else)", "listed_as": "", "effective": "block", "pack": "(default)"})
    return rows


def allow_rows(policy: EffectivePolicy) -> list[dict[str, str]]:
    """Allow-list terms and patterns with the pack that listed them."""
    rows = [{"term": term, "kind": "term", "pack": policy.allow_sources.get(term, "")}
            for term in sorted(policy.allow)]
    rows += [{"term": pattern.pattern, "kind": "pattern", "pack": pack} for pattern, pack in policy.allow_patterns]
    return rows


def blocked_entity_types(policy: EffectivePolicy) -> list[str]:
    """Types the allow-list never applies to (some pack blocks them)."""
    return sorted(t for t, r in policy.entities.items() if r.action == "block")


def explain_dict(policy: EffectivePolicy, contract: str | None = None, route: str | None = None) -> dict[str, Any]:
    """The whole effective policy as JSON-ready data."""
    return {
        "contract": contract,
        "route": route,
        "packs": [p.as_dict() for p in policy.packs],
        "languages": list(policy.languages),
        "entities": entity_rows(policy),
        "fields": field_rows(policy),
        "allow": allow_rows(policy),
        "allow_not_applied_to": blocked_entity_types(policy),
        "content_types": content_rows(policy),
        "retention": {k: {"period": v, "pack": src} for k, (v, src) in sorted(policy.retention.items())},
    }
