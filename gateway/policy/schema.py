"""The JSON Schema of a policy pack, generated from the pydantic model, for editors (YAML language servers).

``policies/schema.json`` is this function's output; ``aduana policy schema --output policies/schema.json``
regenerates it and a test fails when the shipped file is out of date. The pydantic model stays the
authority: the schema only helps while typing (completion, hover text, early red squiggles).
"""

from __future__ import annotations

import json
from typing import Any

from gateway.policy.model import ACTION_ORDER, PolicyPack

SCHEMA_ID = "https://aduana.dev/schemas/policy-pack.json"


def pack_schema() -> dict[str, Any]:
    """The schema of one pack file, with the YAML shorthands the model accepts spelled out."""
    schema = PolicyPack.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Any] = schema.setdefault("$defs", {})

    rule = defs["EntityRuleSpec"]
    rule["properties"]["action"]["examples"] = list(ACTION_ORDER)
    rule["properties"]["action"]["description"] = (
        "What to do with findings of this type: " + ", ".join(ACTION_ORDER)
        + " (or an action a plugin registers).")
    # Keys other than action/min_score/params are the action's parameters (`keep_last: 4`).
    rule["additionalProperties"] = True
    defs["EntityRule"] = {
        "anyOf": [
            {"type": "string", "description": "Shorthand for {action: ...}.", "examples": list(ACTION_ORDER)},
            {"$ref": "#/$defs/EntityRuleSpec"},
        ]
    }
    schema["properties"]["entities"]["additionalProperties"] = {"$ref": "#/$defs/EntityRule"}

    finding = defs["ExpectedFinding"]
    defs["ExpectedFindingOrType"] = {
        "anyOf": [{"type": "string", "pattern": finding["properties"]["type"]["pattern"],
                   "description": "Shorthand for {type: ...}."},
                  {"$ref": "#/$defs/ExpectedFinding"}]
    }
    _replace_refs(defs["PackTest"], "#/$defs/ExpectedFinding", "#/$defs/ExpectedFindingOrType")

    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _replace_refs(node: Any, old: str, new: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and value == old:
                node[key] = new
            else:
                _replace_refs(value, old, new)
    elif isinstance(node, list):
        for item in node:
            _replace_refs(item, old, new)


def schema_text() -> str:
    """The schema as the exact text of ``policies/schema.json`` (stable key order, final newline)."""
    return json.dumps(pack_schema(), indent=2, ensure_ascii=False) + "\n"
