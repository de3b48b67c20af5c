"""The JSON Schemas of the tools' ``ok`` responses, for MCP's ``outputSchema``.

The results themselves are built in ``maya.tools`` (handlers and views); these schemas
describe them for MCP clients, which validate every structured result against them.
Only the keys a result always has are required, and objects stay open (no
``additionalProperties: false``), so an additive change to a result never breaks a
client. A tool without an entry here has no ``outputSchema``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["RESULT_SCHEMAS", "ok_envelope_schema"]

_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_BOOL: dict[str, Any] = {"type": "boolean"}
_TIP_PERCENT: dict[str, Any] = {"type": ["integer", "null"], "enum": [10, 15, 20, None]}


def _money(*keys: str) -> dict[str, Any]:
    """``key`` as formatted text and ``key_cents`` as integer cents, for each key."""
    properties: dict[str, Any] = {}
    for key in keys:
        properties[key] = _STR
        properties[f"{key}_cents"] = _INT
    return properties


def _object(properties: Mapping[str, Any], *required: str) -> dict[str, Any]:
    return {"type": "object", "properties": dict(properties), "required": list(required)}


def _money_keys(*keys: str) -> tuple[str, ...]:
    return tuple(name for key in keys for name in (key, f"{key}_cents"))


_ITEM = _object(
    {"item": _STR, "quantity": _INT, "modifiers": {"type": "array", "items": _STR}}
    | _money("unit_price", "line"),
    "item",
    "quantity",
    "modifiers",
    *_money_keys("unit_price", "line"),
)

_BALANCE_PROPERTIES = _money("balance", "tab", "tip", "total_due") | {"tip_percent": _TIP_PERCENT}
_BALANCE_REQUIRED = ("tip_percent", *_money_keys("balance", "tab", "tip", "total_due"))

_TIP = _object(
    {"removed": _BOOL, "tip_percent": _TIP_PERCENT} | _money("tip", "tab", "total_due"),
    "removed",
    "tip_percent",
    *_money_keys("tip", "tab", "total_due"),
)

_PAYMENT = _object(
    {
        "status": {"type": "string", "enum": ["none", "pending", "completed", "failed"]},
        "payment_id": {"type": ["string", "null"]},
        "url": {"type": ["string", "null"]},
        "is_simulated": _BOOL,
    }
    | _money("amount"),
    "status",
)

_MENU_ENTRY = _object(
    {"item": _STR, "liquor_choice": _BOOL} | _money("price"), "item", *_money_keys("price")
)

RESULT_SCHEMAS: Mapping[str, dict[str, Any]] = {
    "get_menu": _object(
        {
            "categories": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": _MENU_ENTRY},
            },
            "liquors": {"type": "array", "items": _STR},
            "default_liquor": _STR,
            "styles": {"type": "array", "items": _STR},
            "modifiers_are_free": _BOOL,
        },
        "categories",
        "liquors",
        "styles",
    ),
    "order_drink": _object(
        {"ordered": _ITEM} | _money("balance", "tab"),
        "ordered",
        *_money_keys("balance", "tab"),
    ),
    "get_balance": _object(_BALANCE_PROPERTIES, *_BALANCE_REQUIRED),
    "set_tip": _TIP,
    "remove_tip": _TIP,
    "get_bill": _object(
        {"items": {"type": "array", "items": _ITEM}, "payment": _PAYMENT, **_BALANCE_PROPERTIES}
        | _money("credit")
        | {"needs_reconciliation": _BOOL},
        "items",
        "payment",
        *_BALANCE_REQUIRED,
    ),
    "create_stripe_payment": _object(
        {
            "url": _STR,
            "payment_id": _STR,
            "tip_percent": _TIP_PERCENT,
            "is_simulated": _BOOL,
            "reused": _BOOL,
            "message": _STR,
            "replaced_payment_id": _STR,
            "replaced_link_deactivated": _BOOL,
            "replaced_simulated_payment_id": _STR,
        }
        | _money("amount", "tab", "tip"),
        "url",
        "payment_id",
        "is_simulated",
        "reused",
        *_money_keys("amount"),
    ),
    "check_payment_status": _object(
        {
            "payment_id": _STR,
            "payment_status": {
                "type": "string",
                "enum": ["pending", "succeeded", "failed", "timeout"],
            },
            "applied": _BOOL,
            "message": _STR,
            "decline_reason": _STR,
            "url": {"type": ["string", "null"]},
            "needs_reconciliation": _BOOL,
            "replaced_simulated_payment_id": _STR,
        }
        | _money("amount_paid", "tab", "balance", "credit"),
        "payment_id",
        "payment_status",
    ),
}
"""The ``result`` of each tool's ``ok`` response, by tool name."""


def ok_envelope_schema(result_schema: Mapping[str, Any]) -> dict[str, Any]:
    """``{"status": "ok", "result": <result_schema>}``: what a successful call returns."""
    return {
        "type": "object",
        "properties": {"status": {"const": "ok"}, "result": dict(result_schema)},
        "required": ["status", "result"],
    }
