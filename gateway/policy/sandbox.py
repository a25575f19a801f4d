"""Apply a policy to a sample, in-process, exactly as the gateway would: ``aduana policy test`` and ``try``.

The sandbox runs the real pipeline pieces (detection plan, Presidio with the plugins' recognizers, the
transformer, the plugins' actions and content handlers) against a throwaway token vault: a SQLite store
in a temporary folder under a random master key that is never written anywhere. Tokens it prints are
therefore meaningless outside the run; nothing about the sample survives it.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.errors import AduanaError, PolicyBlockedError
from gateway.inspect.document import ContentHandler, Part
from gateway.inspect.findings import Action, Finding
from gateway.inspect.transform import VaultContext, map_findings, plan_detection, protect_parts
from gateway.policy.merge import EffectivePolicy

if TYPE_CHECKING:
    from gateway.inspect.analyzer import Analyzer
    from gateway.pluginmanager import Plugins

#: The contract name tokens are made under in the sandbox.
SANDBOX_CONTRACT = "policy-sandbox"


@dataclass(frozen=True)
class Reported:
    """A finding as ``try`` and ``test`` report it: where, what, and what the policy does with it."""

    entity_type: str
    start: int
    end: int
    score: float
    action: str
    source: str  # pack label of the rule applied
    path: str  # the part (``body`` for text, ``$.a.b`` for JSON)
    text: str  # the value found (shown to the person running the command, never logged)
    recognizer: str = ""

    def as_dict(self) -> dict[str, Any]:
        """The machine form ``try --json``/``--jsonl`` prints (positions in the input; no value)."""
        return {"type": self.entity_type, "start": self.start, "end": self.end,
                "score": round(self.score, 4), "action": self.action}


@dataclass
class Result:
    """What the policy did to one sample."""

    output: str | None = None  # transformed text (``None`` when blocked or a JSON body)
    output_json: Any = None  # transformed JSON body
    blocked: str | None = None  # the refusal reason, when the message is refused
    findings: list[Reported] = field(default_factory=list)
    languages: dict[str, str] = field(default_factory=dict)  # part path -> detected language


def _handler_for(handlers: Sequence[ContentHandler], media_type: str) -> ContentHandler | None:
    import fnmatch

    exact = [h for h in handlers if media_type in h.media_types]
    if exact:
        return exact[0]
    for handler in handlers:
        if any(fnmatch.fnmatchcase(media_type, pattern) for pattern in handler.media_types):
            return handler
    return None


class Sandbox:
    """Detection, actions and content handlers from the plugins, tokens into a throwaway vault."""

    def __init__(self, analyzer: Analyzer, actions: Mapping[str, Action],
                 handlers: Sequence[ContentHandler], ctx: VaultContext) -> None:
        self.analyzer = analyzer
        self.actions = dict(actions)
        self.handlers = tuple(handlers)
        self.ctx = ctx

    @classmethod
    @contextmanager
    def open(cls, plugins: Plugins, analyzer: Analyzer | None = None) -> Iterator[Sandbox]:
        """A sandbox over ``plugins``; loads the analyzer (seconds: spaCy) unless one is given."""
        from gateway.inspect.analyzer import Analyzer
        from gateway.keys.crypto import new_key
        from gateway.keys.keyring import KeyRing
        from gateway.store import open_database
        from gateway.store.migrations import migrate
        from gateway.vault import Vault

        if analyzer is None:
            analyzer = Analyzer(plugins.recognizers())
        with tempfile.TemporaryDirectory(prefix="aduana-policy-") as tmp:
            db = open_database(f"sqlite:///{Path(tmp) / 'sandbox.db'}")
            try:
                migrate(db)
                vault = Vault(db, KeyRing(db, new_key()))
                actions = {a.name: a for a in plugins.actions()}
                yield cls(analyzer, actions, plugins.content_handlers(), VaultContext(vault, SANDBOX_CONTRACT))
            finally:
                db.close()

    def protect_text(self, policy: EffectivePolicy, text: str, *, language: str | None = None,
                     content_type: str = "text/plain") -> Result:
        """Protect free text (one part, positions in ``text``)."""
        blocked = self._content_blocked(policy, content_type)
        if blocked is not None:
            return blocked
        if policy.content_disposition(content_type) == "pass":
            return Result(output=text)
        parts = [Part(path="body", text=text)]
        result = self._protect(policy, parts, language)
        if result.blocked is None:
            result.output = parts[0].output
        return result

    def protect_json(self, policy: EffectivePolicy, body: Any, *, language: str | None = None) -> Result:
        """Protect a JSON body through the JSON content handler (field rules apply)."""
        media_type = "application/json"
        blocked = self._content_blocked(policy, media_type)
        if blocked is not None:
            return blocked
        handler = _handler_for(self.handlers, media_type)
        if handler is None:
            raise AduanaError("no content handler for application/json is registered")
        document = handler.parse(json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                 media_type=media_type, charset="utf-8")
        result = self._protect(policy, document.parts, language)
        if result.blocked is None:
            result.output_json = json.loads(document.serialize())
        return result

    def _content_blocked(self, policy: EffectivePolicy, media_type: str) -> Result | None:
        if policy.content_disposition(media_type) == "block":
            return Result(blocked=f"content type {media_type} is blocked by the policy")
        return None

    def _protect(self, policy: EffectivePolicy, parts: Sequence[Part], language: str | None) -> Result:
        plan = plan_detection(parts, policy)
        if language is not None:
            plan = [(i, dataclasses.replace(req, language=language)) for i, req in plan]
        found = self.analyzer.analyze([req for _, req in plan])
        by_part = map_findings(parts, plan, found)
        result = Result(languages={parts[i].path: req.language for i, req in plan})
        result.findings = _report(parts, by_part, policy)
        try:
            protect_parts(parts, by_part, policy, self.actions, self.ctx)
        except PolicyBlockedError as exc:
            result.blocked = _block_reason(exc, result.findings)
        return result


def _report(parts: Sequence[Part], by_part: Mapping[int, Sequence[Finding]],
            policy: EffectivePolicy) -> list[Reported]:
    """Every finding the policy acts on (or allow-lists), plus one per field rule that fires."""
    out: list[Reported] = []
    for i, part in enumerate(parts):
        rule = policy.field_rule(part.path, part.key)
        if rule is not None:
            if rule.action != "never_inspect":
                out.append(Reported(rule.entity_type, 0, len(part.text), 1.0, rule.action, rule.source,
                                    part.path, part.text, "field rule"))
            continue
        best: dict[tuple[str, int, int], Finding] = {}
        for f in by_part.get(i, ()):
            key = (f.entity_type, f.start, f.end)
            if key not in best or f.score > best[key].score:
                best[key] = f
        for f in sorted(best.values(), key=lambda f: (f.start, -f.end, f.entity_type)):
            entity_rule = policy.entities.get(f.entity_type)
            if entity_rule is None:
                continue
            value = part.text[f.start:f.end]
            allowed = entity_rule.action == "allow" or policy.allows(f.entity_type, value)
            out.append(Reported(f.entity_type, f.start, f.end, f.score, "allow" if allowed else entity_rule.action,
                                entity_rule.source, part.path, value, f.recognizer))
    return out


def _block_reason(exc: PolicyBlockedError, findings: Sequence[Reported]) -> str:
    blockers = sorted({f"{f.entity_type} ({f.source})" for f in findings if f.action == "block"})
    if blockers:
        return "blocked by " + ", ".join(blockers)
    return f"blocked ({exc.reason})"
