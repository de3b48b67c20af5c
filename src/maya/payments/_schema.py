"""Checking a tool call against the input schema the server advertised, before sending it.

A call that no longer fits Stripe's tools is a ``schema`` failure naming the tool and the
field, instead of an opaque refusal or a half-understood write.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from maya.payments._failures import CallFailure
from maya.payments._session import ToolInfo

__all__ = ["check_arguments"]


def check_arguments(tool: ToolInfo | None, name: str, arguments: Mapping[str, Any]) -> None:
    """Raise unless ``arguments`` satisfy ``tool``'s advertised input schema.

    Args:
        tool: The tool as listed, or None when the server did not list it.
        name: The tool's name.
        arguments: What is about to be sent.

    Raises:
        CallFailure: kind ``schema``; the summary names the tool and the field.
    """
    if tool is None:
        raise CallFailure("schema", f"{name}: the server does not list this tool", tool=name)
    schema = dict(tool.input_schema)
    if not schema:
        return
    validator = _validator(json.dumps(schema, sort_keys=True))
    if isinstance(validator, str):
        raise CallFailure(
            "schema", f"{name}: the server's input schema is not valid: {validator}", tool=name
        )
    error = jsonschema.exceptions.best_match(validator.iter_errors(dict(arguments)))
    if error is None:
        return
    field = _field(error)
    raise CallFailure(
        "schema",
        f"{name}: argument {field!r} does not fit the server's schema: {str(error.message)[:200]}",
        tool=name,
    )


@functools.lru_cache(maxsize=64)
def _validator(schema_json: str) -> Any:
    """The validator of one advertised schema (its JSON, keys sorted), or why it is not a
    valid schema. Checking a schema against its meta-schema costs far more than a call's
    arguments against the schema, and a session's tools are listed once: done once each."""
    schema = json.loads(schema_json)
    try:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        return str(exc.message)
    return cls(schema)


def _field(error: Any) -> str:
    path = [str(part) for part in error.absolute_path]
    if error.validator == "required":
        missing = str(error.message).split("'")
        if len(missing) >= 2:
            path.append(missing[1])
    elif error.validator == "additionalProperties":
        extra = str(error.message).split("'")
        if len(extra) >= 2:
            path.append(extra[1])
    return ".".join(path) or "(arguments)"
