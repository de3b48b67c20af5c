"""MCP ``outputSchema``s from the tools' result models (``ToolSpec.result``): a tool's ok
response or the error response, in the JSON Schema subset every MCP client reads (no
``$ref``, ``const``, type lists or titles; open objects; only always-present keys required).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from maya.tools.catalog import ToolSpec
from maya.tools.result_models import ErrorResponse

__all__ = [
    "ERROR_SCHEMA",
    "model_schema",
    "ok_envelope_schema",
    "output_schema",
    "result_schemas",
]


def _portable(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_portable(item, defs) for item in node]
    if not isinstance(node, Mapping):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        node = {
            **defs[ref.removeprefix("#/$defs/")],
            **{k: v for k, v in node.items() if k != "$ref"},
        }
    out: dict[str, Any] = {}
    for key, value in node.items():
        # Titles and descriptions are the models' docstrings: noise on every tools/list.
        if key in ("title", "description", "$defs"):
            continue
        if key == "const":
            out["enum"] = [value]
        elif key == "properties":
            out[key] = {name: _portable(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _portable(value, defs)
    return out


def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """``model``'s JSON Schema (as it is serialised), in the portable subset above."""
    schema = model.model_json_schema(mode="serialization")
    result = _portable(schema, schema.get("$defs", {}))
    assert isinstance(result, dict)  # a Mapping in gives a dict out
    return result


def result_schemas(specs: Iterable[ToolSpec[Any]]) -> dict[str, dict[str, Any]]:
    """The schema of each tool's ``ok`` result, by name (tools without a model left out)."""
    return {spec.name: model_schema(spec.result) for spec in specs if spec.result is not None}


ERROR_SCHEMA: dict[str, Any] = model_schema(ErrorResponse)
"""Every tool's error response."""


def ok_envelope_schema(result_schema: Mapping[str, Any]) -> dict[str, Any]:
    """``{"status": "ok", "result": <result_schema>}``: what a successful call returns."""
    return {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": ["ok"]}, "result": dict(result_schema)},
        "required": ["status", "result"],
    }


def output_schema(result_schema: Mapping[str, Any]) -> dict[str, Any]:
    """A tool's ``outputSchema``: its ok response or the error response."""
    return {
        "type": "object",
        "properties": {"status": {"type": "string", "enum": ["ok", "error"]}},
        "required": ["status"],
        "anyOf": [ok_envelope_schema(result_schema), ERROR_SCHEMA],
    }
