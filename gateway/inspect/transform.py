"""Apply a policy to a parsed body: plan detection, then protect (or restore) every part.

Protect: each finding gets its entity type's action; overlapping findings are merged into one span that
takes the most restrictive action, so no fragment of a value is left uncovered. Field rules act on whole
values. Restore: the contract's tokens are turned back into their values; any other token is left as
it is and counted.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gateway.errors import PolicyBlockedError
from gateway.inspect.analyzer import DetectRequest
from gateway.inspect.document import Part
from gateway.inspect.findings import BLOCK, DROP, Action, ActionContext, Finding
from gateway.inspect.language import detect_language
from gateway.inspect.normalize import Normalized, normalize
from gateway.policy.merge import EffectivePolicy, action_rank
from gateway.vault import TOKEN_RE, Vault


@dataclass
class Outcome:
    """What inspection did to one message: counts only, never values."""

    entities: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    restored: int = 0
    unknown_tokens: int = 0

    def count(self, entity_type: str, action: str, n: int = 1) -> None:
        self.entities[entity_type][action] += n

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {t: dict(a) for t, a in sorted(self.entities.items())}

    def merge(self, other: Outcome) -> None:
        for t, actions in other.entities.items():
            for a, n in actions.items():
                self.count(t, a, n)
        self.restored += other.restored
        self.unknown_tokens += other.unknown_tokens


class VaultContext:
    """The :class:`ActionContext` of one contract, backed by the vault."""

    def __init__(self, vault: Vault, contract: str) -> None:
        self._vault = vault
        self.contract = contract

    def tokenize(self, entity_type: str, value: str) -> str:
        return self._vault.tokenize(self.contract, entity_type, value)

    def keyed_hash(self, entity_type: str, value: str) -> str:
        return self._vault.keyed_hash(self.contract, entity_type, value)


class _OncePerMessage:
    """An :class:`ActionContext` that asks the one it wraps once per (type, value) of a message.

    A message repeats its values (a requester's name in a field, a greeting, a signature, comments): each
    is tokenized or hashed once. Tokens and keyed hashes are deterministic per contract, so the answers
    are the same; the memory lives as long as one :func:`protect_parts` call, like the message itself.
    """

    def __init__(self, ctx: ActionContext) -> None:
        self._ctx = ctx
        self.contract = ctx.contract
        self._tokens: dict[tuple[str, str], str] = {}
        self._hashes: dict[tuple[str, str], str] = {}

    def tokenize(self, entity_type: str, value: str) -> str:
        token = self._tokens.get((entity_type, value))
        if token is None:
            token = self._tokens[(entity_type, value)] = self._ctx.tokenize(entity_type, value)
        return token

    def keyed_hash(self, entity_type: str, value: str) -> str:
        digest = self._hashes.get((entity_type, value))
        if digest is None:
            digest = self._hashes[(entity_type, value)] = self._ctx.keyed_hash(entity_type, value)
        return digest


def _only_tokens(text: str) -> bool:
    return not TOKEN_RE.sub("", text).strip()


class Plan(list[tuple[int, DetectRequest]]):
    """What :func:`plan_detection` returns: (part index, request) pairs, as a list.

    It also keeps each planned part's normalized text (``normalized``, in the same order), so that
    :func:`map_findings` maps offsets back without normalizing every text a second time. A plain list of
    pairs is accepted there too (the policy sandbox rewrites the requests); its texts are normalized again.
    """

    def __init__(self) -> None:
        super().__init__()
        self.normalized: list[Normalized] = []


def plan_detection(parts: Sequence[Part], policy: EffectivePolicy) -> list[tuple[int, DetectRequest]]:
    """Which parts need detection, each with its language; parts under a field rule are not analyzed."""
    entities = tuple(policy.entity_types)
    thresholds = {t: r.min_score for t, r in policy.entities.items()}
    plan = Plan()
    if not entities:
        return plan
    for i, part in enumerate(parts):
        if part.skip or "scalar" in part.meta or not part.text.strip():
            continue  # scalars (numbers, booleans, null): only a field rule acts on them
        if policy.field_rule(part.path, part.key) is not None or _only_tokens(part.text):
            continue
        norm = normalize(part.text)
        language = detect_language(norm.text, policy.languages)
        plan.append((i, DetectRequest(norm.text, language, entities, thresholds)))
        plan.normalized.append(norm)
    return plan


def map_findings(
    parts: Sequence[Part], plan: Sequence[tuple[int, DetectRequest]], results: Sequence[Sequence[Finding]]
) -> dict[int, list[Finding]]:
    """Findings per part index, with offsets mapped from the normalized text back to the part's own."""
    out: dict[int, list[Finding]] = {}
    norms = plan.normalized if isinstance(plan, Plan) and len(plan.normalized) == len(plan) else None
    for n, ((i, _), found) in enumerate(zip(plan, results, strict=True)):
        norm = norms[n] if norms is not None else normalize(parts[i].text)
        if norm.identity:
            out[i] = list(found)  # offsets already index the part's own text
            continue
        mapped = []
        for f in found:
            start, end = norm.span(f.start, f.end)
            mapped.append(Finding(f.entity_type, start, end, f.score, f.recognizer))
        out[i] = mapped
    return out


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    entity_type: str
    action: str
    score: float


def _resolve(text: str, findings: Sequence[Finding], policy: EffectivePolicy) -> list[_Span]:
    """Findings → non-overlapping spans, each with the most restrictive action among what it covers."""
    protected = [(m.start(), m.end()) for m in TOKEN_RE.finditer(text)]
    spans: list[_Span] = []
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        rule = policy.entities.get(f.entity_type)
        if rule is None or rule.action == "allow":
            continue
        if any(s < f.end and f.start < e for s, e in protected):
            continue  # inside an existing token: already protected
        if policy.allows(f.entity_type, text[f.start:f.end]):
            continue
        span = _Span(f.start, f.end, f.entity_type, rule.action, f.score)
        if spans and span.start < spans[-1].end:
            prev = spans[-1]
            winner = span if (action_rank(span.action), span.score) > (action_rank(prev.action), prev.score) else prev
            spans[-1] = _Span(prev.start, max(prev.end, span.end), winner.entity_type, winner.action, winner.score)
        else:
            spans.append(span)
    return spans


def protect_parts(
    parts: Sequence[Part],
    findings: Mapping[int, Sequence[Finding]],
    policy: EffectivePolicy,
    actions: Mapping[str, Action],
    ctx: ActionContext,
) -> Outcome:
    """Set each part's replacement (or drop); raise :class:`PolicyBlockedError` when a block fires.

    Unknown action names fail closed (block).
    """
    outcome = Outcome()
    ctx = _OncePerMessage(ctx)
    known = _known_values(parts, findings, policy)
    for i, part in enumerate(parts):
        if part.skip:
            continue
        if part.meta.get("kind") == "attachment" and not part.text:
            _attachment(part, policy, outcome)
            continue
        rule = policy.field_rule(part.path, part.key)
        if rule is not None:
            if rule.action == "never_inspect":
                continue
            if rule.action == "block":
                raise PolicyBlockedError(reason="policy_block_field")
            outcome.count(rule.entity_type, rule.action)
            if rule.action == "drop":
                part.drop = True
                continue
            if not part.text:
                continue
            result = _apply(actions, rule.action, part.text, Finding(rule.entity_type, 0, len(part.text), 1.0),
                            rule.params, ctx)
            if result is DROP:
                part.drop = True
            else:
                part.replacement = str(result)
            continue
        part_findings = [*findings.get(i, ()), *_echoes(part.text, known)]
        if not part_findings:
            continue
        out: list[str] = []
        cursor = 0
        text = part.text
        for span in _resolve(text, part_findings, policy):
            outcome.count(span.entity_type, span.action)
            params = policy.entities[span.entity_type].params
            value = text[span.start:span.end]
            result = _apply(actions, span.action, value,
                            Finding(span.entity_type, span.start, span.end, span.score), params, ctx)
            if result is DROP:
                part.drop = True
                break
            out.append(text[cursor:span.start])
            out.append(str(result))
            cursor = span.end
        if not part.drop and out:
            out.append(text[cursor:])
            part.replacement = "".join(out)
    return outcome


#: A value protected somewhere in a message is looked for everywhere else in it from this length on.
_ECHO_MIN = 4


def _known_values(parts: Sequence[Part], findings: Mapping[int, Sequence[Finding]],
                  policy: EffectivePolicy) -> dict[str, str]:
    """Values this message protects (by field rule or finding), casefolded → entity type.

    The same value elsewhere in the message is protected too, even where detection alone would miss it
    (a requester's name field, then the bare name in the ticket's text)."""
    known: dict[str, str] = {}
    for i, part in enumerate(parts):
        rule = policy.field_rule(part.path, part.key)
        if (rule is not None and rule.action not in ("never_inspect", "drop", "block")
                and "scalar" not in part.meta and rule.entity_type in policy.entities):
            _remember(known, part.text, rule.entity_type)
        for f in findings.get(i, ()):
            entity = policy.entities.get(f.entity_type)
            if entity is not None and entity.action != "allow":
                _remember(known, part.text[f.start:f.end], f.entity_type)
    return known


def _remember(known: dict[str, str], value: str, entity_type: str) -> None:
    value = value.strip()
    if sum(c.isalnum() for c in value) >= _ECHO_MIN and "⟦" not in value:
        known.setdefault(value.casefold(), entity_type)


def _echoes(text: str, known: Mapping[str, str]) -> list[Finding]:
    if not known or not text:
        return []
    folded = text.casefold()
    if len(folded) != len(text):  # casefolding changed lengths (ß, ﬁ…): offsets would not line up
        folded = text.lower() if len(text.lower()) == len(text) else text
    out = []
    for value, entity_type in known.items():
        start = folded.find(value)
        while start != -1:
            end = start + len(value)
            # whole words only: "Ana" must not match inside "Banana"
            if (start == 0 or not text[start - 1].isalnum()) and (end == len(text) or not text[end].isalnum()):
                out.append(Finding(entity_type, start, end, 1.0, "echo"))
            start = folded.find(value, end)
    return out


def _attachment(part: Part, policy: EffectivePolicy, outcome: Outcome) -> None:
    """A non-text attachment cannot be inspected: it passes only if the policy passes its type uninspected,
    refuses the message if the policy blocks its type, and is otherwise stripped (replaced by a note)."""
    disposition = policy.content_disposition(part.meta.get("content_type", "application/octet-stream"))
    if disposition == "block":
        raise PolicyBlockedError("attachment type blocked", reason="attachment_blocked")
    if disposition != "pass":
        part.drop = True
        outcome.count("ATTACHMENT", "drop")


def _apply(actions: Mapping[str, Action], name: str, value: str, finding: Finding,
           params: Mapping[str, object], ctx: ActionContext) -> str | object:
    action = actions.get(name)
    if action is None:
        raise PolicyBlockedError(f"unknown action {name!r}", reason="policy_unknown_action")
    result = action.apply(value, finding, params, ctx)
    if result is BLOCK:
        raise PolicyBlockedError(reason="policy_block")
    if result is not DROP and not isinstance(result, str):
        raise TypeError(f"action {name!r} returned {type(result).__name__}, expected str, DROP or BLOCK")
    return result


def restore_text(text: str, vault: Vault, contract: str, outcome: Outcome) -> str:
    """Replace this contract's tokens in ``text`` by their values; count unknown ones."""

    def sub(m: re.Match[str]) -> str:
        value = vault.restore(contract, m.group(0))
        if value is None:
            outcome.unknown_tokens += 1
            return m.group(0)
        outcome.restored += 1
        return value

    return TOKEN_RE.sub(sub, text)


def restore_parts(parts: Sequence[Part], vault: Vault, contract: str) -> Outcome:
    outcome = Outcome()
    for part in parts:
        if "⟦" in part.text:
            new = restore_text(part.text, vault, contract, outcome)
            if new != part.text:
                part.replacement = new
    return outcome
