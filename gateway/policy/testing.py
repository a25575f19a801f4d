"""Run a pack's inline ``tests`` in the sandbox and say, per case, what differed.

Matching rules (documented in ``docs/policy-packs.md``):
- ``expect_output`` / ``expect_json`` compare exactly, except that ``⟦TYPE_*⟧`` matches any token of
  ``TYPE`` and ``⟨TYPE#*⟩`` any keyed hash of ``TYPE`` (both depend on the contract's key);
- ``expect_findings``: each entry must match a different reported finding of that type (and, when
  given, that exact ``text`` and ``action``); other findings are allowed;
- ``expect_not_found``: no finding of those types is reported;
- ``expect_absent``: none of the strings appears in the output;
- ``expect_blocked: true``: the message is refused. A refused message fails every case that does not
  say ``expect_blocked: true``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.policy.merge import EffectivePolicy
from gateway.policy.model import PackTest, PolicyPack
from gateway.policy.sandbox import Reported, Result, Sandbox

_WILDCARD = re.compile(r"⟦([A-Z][A-Z0-9_]{0,40})_\*⟧|⟨([A-Z][A-Z0-9_]{0,40})#\*⟩")


def expected_pattern(expected: str) -> re.Pattern[str]:
    """``expected`` as a regex: literal text, with token and hash wildcards."""
    out: list[str] = []
    cursor = 0
    for m in _WILDCARD.finditer(expected):
        out.append(re.escape(expected[cursor:m.start()]))
        if m.group(1):
            out.append(f"⟦{re.escape(m.group(1))}_[0-9a-f]{{12,32}}⟧")
        else:
            out.append(f"⟨{re.escape(m.group(2))}#[0-9a-f]{{16}}⟩")
        cursor = m.end()
    out.append(re.escape(expected[cursor:]))
    return re.compile("".join(out), re.DOTALL)


def text_matches(expected: str, actual: str) -> bool:
    """True when ``actual`` is ``expected`` up to token/hash wildcards."""
    return expected_pattern(expected).fullmatch(actual) is not None


def json_matches(expected: Any, actual: Any) -> bool:
    """Structural equality where every string compares with :func:`text_matches`."""
    if isinstance(expected, dict):
        return (isinstance(actual, dict) and expected.keys() == actual.keys()
                and all(json_matches(v, actual[k]) for k, v in expected.items()))
    if isinstance(expected, list):
        return (isinstance(actual, list) and len(expected) == len(actual)
                and all(json_matches(e, a) for e, a in zip(expected, actual, strict=True)))
    if isinstance(expected, str):
        return isinstance(actual, str) and text_matches(expected, actual)
    return bool(type(expected) is type(actual) and expected == actual)


@dataclass
class CaseResult:
    """The outcome of one inline test case."""

    pack: str
    name: str
    failures: list[str] = field(default_factory=list)
    diff: str = ""
    result: Result | None = None

    @property
    def passed(self) -> bool:
        return not self.failures

    def as_dict(self) -> dict[str, Any]:
        return {"pack": self.pack, "name": self.name, "passed": self.passed, "failures": self.failures,
                "diff": self.diff}


def _diff(expected: str, actual: str) -> str:
    lines = difflib.unified_diff(expected.splitlines(), actual.splitlines(), "expected", "actual", lineterm="")
    return "\n".join(lines)


def _show(findings: Iterable[Reported]) -> str:
    shown = [f"{f.entity_type}[{f.start}:{f.end}]={f.text!r}→{f.action}" for f in findings]
    return ", ".join(shown) or "none"


def check_case(test: PackTest, result: Result, pack: str) -> CaseResult:
    """Compare one case's expectations with what the sandbox did."""
    case = CaseResult(pack=pack, name=test.name, result=result)
    fail = case.failures.append
    if test.expect_blocked:
        if result.blocked is None:
            fail("expected the message to be refused (expect_blocked), but it passed")
    elif result.blocked is not None:
        fail(f"the message was refused: {result.blocked}")
    if result.blocked is None:
        output = result.output if test.input is not None else json.dumps(result.output_json, ensure_ascii=False)
        if test.expect_output is not None and not text_matches(test.expect_output, result.output or ""):
            fail("output differs from expect_output")
            case.diff = _diff(test.expect_output, result.output or "")
        if test.expect_json is not None and not json_matches(test.expect_json, result.output_json):
            fail("output differs from expect_json")
            case.diff = _diff(json.dumps(test.expect_json, indent=2, ensure_ascii=False),
                              json.dumps(result.output_json, indent=2, ensure_ascii=False))
        for absent in test.expect_absent:
            if absent in (output or ""):
                fail(f"{absent!r} is still in the output")
    remaining = list(result.findings)
    for expected in test.expect_findings or ():
        match = next((f for f in remaining if f.entity_type == expected.type
                      and (expected.text is None or f.text == expected.text)
                      and (expected.action is None or f.action == expected.action)), None)
        if match is None:
            wanted = expected.type + (f" {expected.text!r}" if expected.text is not None else "")
            wanted += f" → {expected.action}" if expected.action else ""
            fail(f"expected finding {wanted} not reported (found: {_show(result.findings)})")
        else:
            remaining.remove(match)
    for entity_type in test.expect_not_found:
        hits = [f for f in result.findings if f.entity_type == entity_type]
        if hits:
            fail(f"{entity_type} should not be found, but was: {_show(hits)}")
    return case


def run_case(sandbox: Sandbox, policy: EffectivePolicy, test: PackTest, pack: str) -> CaseResult:
    """Run one inline case through the sandbox and check it."""
    if test.input is not None:
        result = sandbox.protect_text(policy, test.input, language=test.language,
                                      content_type=test.content_type or "text/plain")
    else:
        result = sandbox.protect_json(policy, test.input_json, language=test.language)
    return check_case(test, result, pack)


def run_pack(sandbox: Sandbox, pack: PolicyPack, policy: EffectivePolicy) -> list[CaseResult]:
    """Run every inline case of ``pack`` against ``policy`` (the pack with what it extends)."""
    label = f"{pack.name}@{pack.version}"
    return [run_case(sandbox, policy, test, label) for test in pack.tests]


def summary(results: Sequence[CaseResult]) -> tuple[int, int]:
    """(passed, failed) counts."""
    passed = sum(r.passed for r in results)
    return passed, len(results) - passed
