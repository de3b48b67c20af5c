"""The JSON Schemas of the tools' responses, for MCP's ``outputSchema``, from ``result_models``.

A tool's ``outputSchema`` is the union of its two response shapes: ``{"status": "ok",
"result": ...}`` and the error shape. MCP clients (the TypeScript SDK, the Inspector)
validate every ``structuredContent`` against it, ``isError`` or not, so an error must fit
too. The schemas are written in the subset every client reads: no ``$ref`` (inlined), no
``const`` (a one-value ``enum``), no ``type`` lists (a nullable value is an ``anyOf``
with ``null``), no titles. Only the keys a result always has are required and objects
stay open (no ``additionalProperties: false``), so an additive change to a result never
breaks a client. A tool without a model has no ``outputSchema``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from maya.mcp_server.result_models import RESULT_MODELS, ErrorResponse

__all__ = [
    "ERROR_SCHEMA",
    "RESULT_SCHEMAS",
    "model_schema",
    "ok_envelope_schema",
    "output_schema",
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


RESULT_SCHEMAS: Mapping[str, dict[str, Any]] = {
    name: model_schema(model) for name, model in RESULT_MODELS.items()
}
"""The ``result`` of each tool's ``ok`` response, by tool name."""

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
