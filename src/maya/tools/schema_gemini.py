"""Gemini's quirks for ``parametersJsonSchema``, in one place.

``to_gemini_schema`` keeps what the model needs (types, descriptions, limits, enums,
required) and drops what costs tokens for nothing; ``gemini_schema_problems`` lists what
Gemini would not take or our rules forbid (unbounded text or numbers, undescribed fields).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["ALLOWED_KEYWORDS", "gemini_schema_problems", "to_gemini_schema"]

ALLOWED_KEYWORDS: frozenset[str] = frozenset(
    {
        "type",
        "description",
        "properties",
        "required",
        "enum",
        "items",
        "minimum",
        "maximum",
        "maxLength",
        "maxItems",
        "anyOf",
    }
)
"""The JSON Schema keywords our declarations may use (a subset Gemini accepts)."""

_PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_DROPPED = frozenset(
    {"title", "default", "additionalProperties", "$defs", "examples", "minLength", "minItems"}
)


def _resolve(node: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return node
    target = defs.get(ref.removeprefix("#/$defs/"))
    if not isinstance(target, Mapping):
        return node
    # Keep sibling keywords (a description next to the $ref) over the definition's.
    return {**target, **{k: v for k, v in node.items() if k != "$ref"}}


def _transform(node: Any, defs: Mapping[str, Any]) -> Any:
    if isinstance(node, list):
        return [_transform(item, defs) for item in node]
    if not isinstance(node, Mapping):
        return node
    node = _resolve(node, defs)
    variants = node.get("anyOf")
    if isinstance(variants, list):
        non_null = [v for v in variants if v != {"type": "null"}]
        if len(non_null) == 1 and len(non_null) < len(variants):
            merged = {
                **_resolve(non_null[0], defs),
                **{k: v for k, v in node.items() if k != "anyOf"},
            }
            return _transform(merged, defs)
    kinds = node.get("type")
    if isinstance(kinds, list) and "null" in kinds and len(kinds) == 2:
        node = {**node, "type": next(kind for kind in kinds if kind != "null")}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED:
            continue
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _transform(sub, defs) for name, sub in value.items()}
        else:
            out[key] = _transform(value, defs)
    return out


def to_gemini_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The compact schema Gemini is sent for one tool's arguments model."""
    defs = schema.get("$defs", {})
    result = _transform(schema, defs if isinstance(defs, Mapping) else {})
    assert isinstance(result, dict)  # a Mapping in gives a dict out
    # The tool's description already says what the model is for.
    result.pop("description", None)
    return result


def _problems(node: Any, path: str, out: list[str]) -> None:
    if not isinstance(node, Mapping):
        out.append(f"{path}: a schema must be an object")
        return
    for key in node:
        if key not in ALLOWED_KEYWORDS:
            out.append(f"{path}: keyword {key!r} is not sent to Gemini")
    kind = node.get("type")
    if isinstance(kind, list):
        out.append(f"{path}: a list of types; Gemini reads one (optional: leave it out)")
    if kind == "string" and "enum" not in node and "maxLength" not in node:
        out.append(f"{path}: text must have a maxLength")
    if (
        kind in ("integer", "number")
        and "enum" not in node
        and ("minimum" not in node or "maximum" not in node)
    ):
        out.append(f"{path}: numbers must have a minimum and a maximum")
    if kind == "array":
        if "maxItems" not in node:
            out.append(f"{path}: lists must have maxItems")
        _problems(node.get("items", {}), f"{path}[]", out)
    if kind == "object" and path:
        out.append(f"{path}: nested objects are not allowed; flatten the arguments")
    for variant in node.get("anyOf", ()):
        _problems(variant, f"{path}|", out)


def gemini_schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """Everything wrong with a transformed parameters schema, empty if it is fine."""
    out: list[str] = []
    if schema.get("type") != "object":
        out.append("parameters must be an object")
    for key in schema:
        if key not in {"type", "properties", "required"}:
            out.append(f"parameters: keyword {key!r} is not sent to Gemini")
    properties = schema.get("properties", {})
    if not isinstance(properties, Mapping):
        return [*out, "parameters: properties must be an object"]
    for name, sub in properties.items():
        if not _PARAM_NAME.match(name):
            out.append(f"{name!r}: a parameter name is a letter or _ then letters, digits, _")
        if isinstance(sub, Mapping) and not sub.get("description"):
            out.append(f"{name}: every parameter needs a description")
        _problems(sub, name, out)
    for name in schema.get("required", ()):
        if name not in properties:
            out.append(f"required {name!r} is not a parameter")
    return out
