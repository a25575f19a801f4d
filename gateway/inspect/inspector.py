"""Inspection of whole bodies and of loose texts (path segments, query values) under a policy.

One mechanism for every format: a content handler splits the body into parts, detection runs in the
worker pool, the transformation (which may touch the vault) runs on the store thread pool, and the
handler writes the body back. Any failure raises; nothing partial is ever returned.
"""

from __future__ import annotations

import asyncio
import fnmatch
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TypeVar

from gateway.errors import AduanaError, BadRequestError, InspectionError, PluginError, UnsupportedMediaError
from gateway.inspect.analyzer import DetectRequest
from gateway.inspect.document import ContentHandler, Document, Part
from gateway.inspect.findings import Action, Finding
from gateway.inspect.pool import Detector
from gateway.inspect.transform import (
    Outcome,
    VaultContext,
    map_findings,
    plan_detection,
    protect_parts,
    restore_parts,
)
from gateway.policy.merge import EffectivePolicy
from gateway.vault import Vault

T = TypeVar("T")

#: A message with at most this many characters of text is planned on the event loop (see
#: :meth:`Inspector.protect_parts`): typically ~0.1 ms there, ~2 ms in the worst case (every character
#: through normalization's character pass), against ~0.25 ms of CPU for a store-thread hand-off.
INLINE_PLAN_CHARS = 1024
#: Most inspection jobs (planning, mapping and protecting, restoring) in the store pool at once.
INSPECTION_THREADS = 1


@dataclass(frozen=True)
class MediaType:
    type: str
    charset: str | None

    @classmethod
    def parse(cls, header: str | None) -> MediaType:
        if not header:
            return cls("application/octet-stream", None)
        main, *params = header.split(";")
        charset = None
        for p in params:
            name, _, value = p.strip().partition("=")
            if name.lower() == "charset":
                charset = value.strip().strip('"').lower() or None
        return cls(main.strip().lower(), charset)


@dataclass(frozen=True)
class BodyResult:
    """An inspected body: the bytes to send, what was done, and the Content-Type to send them with."""

    body: bytes
    outcome: Outcome
    disposition: str  # "inspect", "pass" or "block"
    content_type: str | None


def _content_type(original: str | None, media: MediaType, doc: Document | None) -> str | None:
    charset = getattr(doc, "charset", None) if doc is not None else None
    if doc is None or charset is None or charset == media.charset or original is None:
        return original
    return f"{media.type}; charset={charset}"


class HandlerRegistry:
    """Media type → content handler; the most specific pattern wins, then registration order."""

    def __init__(self, handlers: Sequence[ContentHandler]) -> None:
        self._entries = [(pattern.lower(), h) for h in handlers for pattern in h.media_types]

    def find(self, media_type: str) -> ContentHandler | None:
        best: tuple[int, ContentHandler] | None = None
        for pattern, handler in self._entries:
            if pattern == media_type:
                return handler
            if fnmatch.fnmatchcase(media_type, pattern):
                specificity = len(pattern.replace("*", ""))
                if best is None or specificity > best[0]:
                    best = (specificity, handler)
        return best[1] if best else None


class Inspector:
    """Protects and restores bodies and texts for one gateway process."""

    def __init__(
        self,
        handlers: Sequence[ContentHandler],
        actions: Sequence[Action],
        detector: Detector,
        vault: Vault,
        store_executor: Executor,
    ) -> None:
        self.handlers = HandlerRegistry(handlers)
        self.actions = _actions_by_name(actions)
        self.detector = detector
        self.vault = vault
        self._store = store_executor
        self._cpu: asyncio.Semaphore | None = None

    async def _on_store(self, fn: Callable[..., T], *args: object) -> T:
        # At most INSPECTION_THREADS of these Python-heavy jobs are in the store pool at once. Only one
        # thread runs Python at a time (the GIL), so more would not go faster; each extra one is another
        # thread the event loop must win the GIL from, up to a switch interval (5 ms) per turn, which
        # is what a health check waits for when a batch of messages comes back from the workers at once.
        if self._cpu is None:
            self._cpu = asyncio.Semaphore(INSPECTION_THREADS)
        async with self._cpu:
            return await asyncio.get_running_loop().run_in_executor(self._store, fn, *args)

    def _parse(self, body: bytes, media: MediaType) -> Document:
        handler = self.handlers.find(media.type)
        if handler is None:
            raise UnsupportedMediaError("no content handler", reason="no_content_handler")
        try:
            return handler.parse(body, media_type=media.type, charset=media.charset)
        except AduanaError:
            raise
        except Exception as exc:
            raise PluginError(type(handler).__module__, "content handler failed to parse") from exc

    @staticmethod
    def _serialize(doc: Document) -> bytes:
        try:
            return doc.serialize()
        except AduanaError:
            raise
        except Exception as exc:
            raise PluginError(type(doc).__module__, "content handler failed to serialize") from exc

    async def protect_parts(self, parts: Sequence[Part], policy: EffectivePolicy, contract: str) -> Outcome:
        # Each hand-off to the store thread pool costs ~0.25 ms of CPU (two cross-thread wake-ups), as
        # much as planning a short message. So a message of at most INLINE_PLAN_CHARS characters is
        # planned on the event loop; a longer one, whose normalization can take milliseconds, on the pool.
        # Mapping the findings and protecting (which may touch the vault) share one hand-off.
        if sum(len(p.text) for p in parts) <= INLINE_PLAN_CHARS:
            plan = plan_detection(parts, policy)
        else:
            plan = await self._on_store(plan_detection, parts, policy)
        results = await self.detector.detect([req for _, req in plan])
        ctx = VaultContext(self.vault, contract)
        return await self._on_store(_map_and_protect, parts, plan, results, policy, self.actions, ctx)

    async def protect_body(
        self, body: bytes, content_type: str | None, policy: EffectivePolicy, contract: str
    ) -> BodyResult:
        """Protect a body; raise on anything that cannot be inspected (never a partial result)."""

        async def protect(parts: Sequence[Part]) -> Outcome | None:
            return await self.protect_parts(parts, policy, contract)

        return await self._body(body, content_type, policy, protect)

    async def restore_body(
        self, body: bytes, content_type: str | None, policy: EffectivePolicy, contract: str
    ) -> BodyResult:
        """Turn this contract's tokens in a body back into values."""

        async def restore(parts: Sequence[Part]) -> Outcome | None:
            if not any("⟦" in p.text for p in parts):
                return None  # nothing to restore: send the body exactly as it came
            return await self._on_store(restore_parts, parts, self.vault, contract)

        return await self._body(body, content_type, policy, restore)

    async def _body(
        self, body: bytes, content_type: str | None, policy: EffectivePolicy,
        transform: Callable[[Sequence[Part]], Awaitable[Outcome | None]],
    ) -> BodyResult:
        """The one path every body takes: disposition, parse, transform the parts, serialize."""
        media = MediaType.parse(content_type)
        disposition = policy.content_disposition(media.type)
        if body and disposition == "block":
            raise UnsupportedMediaError("content type blocked by policy")
        if not body or disposition == "pass":
            return BodyResult(body, Outcome(), disposition, content_type)
        doc = self._parse(body, media)
        outcome = await transform(doc.parts)
        if outcome is None:
            return BodyResult(body, Outcome(), disposition, content_type)
        out = self._serialize(doc)
        return BodyResult(out, outcome, disposition, _content_type(content_type, media, doc))

    async def protect_texts(
        self, texts: Sequence[tuple[str, str]], policy: EffectivePolicy, contract: str
    ) -> tuple[list[str], Outcome]:
        """Protect loose (path, text) pairs such as query values; return the new texts."""
        parts = [Part(path=path, text=text, key=path.rpartition(":")[2]) for path, text in texts]
        outcome = await self.protect_parts(parts, policy, contract)
        return [p.output for p in parts], outcome

    async def restore_texts(self, texts: Sequence[str], contract: str) -> tuple[list[str], Outcome]:
        parts = [Part(path=f"text:{i}", text=t) for i, t in enumerate(texts)]
        if not any("⟦" in t for t in texts):
            return list(texts), Outcome()
        outcome = await self._on_store(restore_parts, parts, self.vault, contract)
        return [p.output for p in parts], outcome


def _map_and_protect(parts: Sequence[Part], plan: Sequence[tuple[int, DetectRequest]],
                     results: Sequence[Sequence[Finding]], policy: EffectivePolicy, actions: Mapping[str, Action],
                     ctx: VaultContext) -> Outcome:
    return protect_parts(parts, map_findings(parts, plan, results), policy, actions, ctx)


def _actions_by_name(actions: Sequence[Action]) -> dict[str, Action]:
    """Name → action. A later registration of a name may replace an earlier one only if it is at least
    as restrictive: a plugin cannot weaken what a built-in action does."""
    out: dict[str, Action] = {}
    # Built-ins are registered trylast, so they come last in hook results: visit in reverse.
    for action in reversed(list(actions)):
        current = out.get(action.name)
        if current is not None and action.rank < current.rank:
            raise InspectionError(
                f"action {action.name!r} from {type(action).__module__} is less restrictive than the built-in"
            )
        out[action.name] = action
    return out


def ensure_text(value: bytes, charset: str = "utf-8") -> str:
    try:
        return value.decode(charset)
    except UnicodeDecodeError as exc:
        raise BadRequestError("not valid text", reason="invalid_encoding") from exc
