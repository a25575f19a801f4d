"""The policy pack format: what a compliance officer writes, validated by pydantic.

See ``docs/policy-packs.md`` for the reference; ``policies/*.yaml`` for the shipped packs.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Actions from least to most restrictive. When packs disagree, the later one in this list wins.
ACTION_ORDER: tuple[str, ...] = ("allow", "tokenize", "mask", "hash", "redact", "drop", "block")

ENTITY_NAME = r"^[A-Z][A-Z0-9_]{1,40}$"
PACK_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class _Model(BaseModel):
    # Attribute docstrings become the JSON Schema's descriptions (hover text in editors).
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class EntityRuleSpec(_Model):
    """What to do with one entity type."""

    action: str
    min_score: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    """Findings scoring below this are ignored for this type."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Action parameters, e.g. ``keep_last: 4`` for ``mask``."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        # `PERSON: tokenize` is shorthand for `PERSON: {action: tokenize}`; unknown keys become params.
        if isinstance(value, str):
            return {"action": value}
        if isinstance(value, dict):
            known = {"action", "min_score", "params"}
            extra = {k: v for k, v in value.items() if k not in known}
            if extra:
                out = {k: v for k, v in value.items() if k in known}
                out["params"] = {**dict(value.get("params") or {}), **extra}
                return out
        return value


class FieldRuleSpec(_Model):
    """A rule for a field of a structured body, by JSON path (``$.payment.cvv``) or key regex."""

    path: str | None = None
    key: str | None = None
    action: Literal["drop", "tokenize", "redact", "hash", "mask", "block", "never_inspect"]
    """``drop``: remove the field; ``tokenize``/``redact``/``hash``/``mask``: the whole value, whatever
    detection finds; ``block``: refuse the message; ``never_inspect``: pass the value unchanged."""
    entity_type: Annotated[str, Field(pattern=ENTITY_NAME)] = "FIELD"
    """Entity type recorded for a whole-value action (token prefix, audit counts)."""
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_selector(self) -> FieldRuleSpec:
        if (self.path is None) == (self.key is None):
            raise ValueError("a field rule needs exactly one of `path` or `key`")
        if self.key is not None:
            try:
                re.compile(self.key)
            except re.error as exc:
                raise ValueError(f"`key` is not a valid regular expression: {exc}") from exc
        if self.path is not None and not self.path.startswith("$"):
            raise ValueError("`path` must be a JSON path starting with $, e.g. $.payment.cvv or $.items[*].email")
        return self


#: A media type or a wildcard pattern over media types: ``application/json``, ``image/*``, ``application/*+json``.
MediaType = Annotated[str, Field(pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*)/[A-Za-z0-9*][A-Za-z0-9!#$&^_.+*-]*$")]


class ContentTypesSpec(_Model):
    """Which media types are inspected, passed uninspected, or blocked. Unlisted types are blocked."""

    inspect: tuple[MediaType, ...] = ()
    pass_uninspected: tuple[MediaType, ...] = Field(default=(), alias="pass")
    block: tuple[MediaType, ...] = ()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, use_attribute_docstrings=True)


class RetentionSpec(_Model):
    """How long each data class is kept, as ISO 8601 durations (``P90D``, ``P6Y``)."""

    vault: str | None = None
    audit: str | None = None
    payloads: str | None = None

    @field_validator("vault", "audit", "payloads")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and (value == "P" or not re.fullmatch(r"P(?:\d+Y)?(?:\d+M)?(?:\d+W)?(?:\d+D)?", value)):
            raise ValueError("expected an ISO 8601 duration in years, months, weeks or days, e.g. P90D or P6Y")
        return value


class ExpectedFinding(_Model):
    """A finding an inline test requires: its type, and optionally the exact text and the action taken.

    ``PERSON`` is shorthand for ``{type: PERSON}``.
    """

    type: Annotated[str, Field(pattern=ENTITY_NAME)]
    text: str | None = None
    action: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"type": value} if isinstance(value, str) else value


class PackTest(_Model):
    """An inline test case: an input (text or a JSON body) and what must come out, be found or be refused.

    ``expect_output`` / ``expect_json`` compare exactly, except that ``⟦TYPE_*⟧`` matches any token of
    ``TYPE`` and ``⟨TYPE#*⟩`` any keyed hash of ``TYPE`` (tokens depend on the contract's key).
    """

    name: Annotated[str, Field(min_length=1)]
    input: str | None = None
    """Free text to protect (as a ``text/plain`` body)."""
    input_json: Any = None
    """A JSON body to protect: field rules apply, every string value is inspected."""
    content_type: str | None = None
    """Media type of the message; a type the policy blocks makes the case ``blocked``."""
    language: Literal["en", "es"] | None = None
    """``en`` or ``es``; by default detected per field, as the gateway does."""
    expect_output: str | None = None
    expect_json: Any = None
    expect_findings: tuple[ExpectedFinding, ...] | None = None
    """Each listed finding must be reported (extra findings are fine; see ``expect_not_found``)."""
    expect_not_found: tuple[Annotated[str, Field(pattern=ENTITY_NAME)], ...] = ()
    """Entity types that must not be reported."""
    expect_blocked: bool | None = None
    expect_absent: tuple[str, ...] = ()
    """Substrings that must not appear in the output."""

    @model_validator(mode="after")
    def _consistent(self) -> PackTest:
        if (self.input is None) == (self.input_json is None):
            raise ValueError("a test needs exactly one of `input` or `input_json`")
        if self.expect_output is not None and self.input is None:
            raise ValueError("`expect_output` goes with `input`; use `expect_json` with `input_json`")
        if self.expect_json is not None and self.input_json is None:
            raise ValueError("`expect_json` goes with `input_json`; use `expect_output` with `input`")
        if self.expect_blocked and (self.expect_output is not None or self.expect_json is not None):
            raise ValueError("a blocked message has no output: drop `expect_output`/`expect_json`")
        expectations = (self.expect_output, self.expect_json, self.expect_findings, self.expect_blocked)
        if all(e is None for e in expectations) and not self.expect_absent and not self.expect_not_found:
            raise ValueError("a test needs at least one expect_* key")
        return self


class AllowPatternSpec(_Model):
    """An allow-list entry as a regular expression matched (case-insensitively) against a whole value."""

    pattern: str

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"`pattern` is not a valid regular expression: {exc}") from exc
        return value


class PolicyPack(_Model):
    """One policy pack file."""

    name: Annotated[str, Field(pattern=PACK_NAME)]
    """The pack's name, used by contracts and ``extends`` (lowercase letters, digits, ``-``, ``_``)."""
    version: Annotated[str, Field(pattern=r"^\d+\.\d+(\.\d+)?$")]
    """The pack's version (``1.2`` or ``1.2.3``); audit records name it. Raise it on every change."""
    description: str = ""
    """What the pack protects and why, for the people who choose packs for a contract."""
    extends: tuple[Annotated[str, Field(pattern=PACK_NAME)], ...] = ()
    """Packs whose rules this one includes (merged before it, most restrictive wins)."""
    languages: tuple[Literal["en", "es"], ...] = ()
    """Languages text may be in (detected per field; the first is the default)."""
    entities: dict[Annotated[str, Field(pattern=ENTITY_NAME)], EntityRuleSpec] = Field(default_factory=dict)
    """Entity type -> what to do with its findings (``PERSON: tokenize`` or a mapping)."""
    fields: tuple[FieldRuleSpec, ...] = ()
    """Rules for fields of structured bodies (JSON, forms), by JSON path or key pattern."""
    allow: tuple[str | AllowPatternSpec, ...] = ()
    """Terms never treated as personal data: exact (ignoring case and surrounding spaces) or
    ``{pattern: regex}`` (whole value, ignoring case). Never applied to a type some pack blocks."""
    content_types: ContentTypesSpec = ContentTypesSpec()
    """Media types inspected, passed uninspected or blocked (unlisted types are blocked)."""
    retention: RetentionSpec = RetentionSpec()
    """How long the token vault, audit records and payloads are kept (ISO 8601 durations)."""
    tests: tuple[PackTest, ...] = ()
    """Inline test cases, run by ``aduana policy test``."""
