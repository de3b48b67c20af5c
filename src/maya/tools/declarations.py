"""Gemini function declarations, generated from the tools' arguments models and checked.

Checking happens once, when a toolset is built, and reports every problem of every tool
together so one run shows everything to fix.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Sequence
from typing import Any

from google.genai import types

from maya.tools.catalog import ToolSpec
from maya.tools.schema_gemini import gemini_schema_problems, to_gemini_schema

__all__ = [
    "MAX_DESCRIPTION",
    "ToolSchemaError",
    "build_declarations",
    "declarations_size",
]

MAX_DESCRIPTION = 200
"""The longest tool description allowed: every character is sent on every turn."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class ToolSchemaError(ValueError):
    """One or more tools cannot be declared to Gemini.

    Attributes:
        problems: every problem found, each as ``"tool: what is wrong"``.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} tool schema problem(s):\n{listing}")


def _problems_of(spec: ToolSpec[Any]) -> tuple[list[str], types.FunctionDeclaration | None]:
    problems: list[str] = []
    if not _NAME.match(spec.name):
        problems.append("the name must be a letter or _ then up to 63 letters, digits or _")
    description = inspect.cleandoc(spec.arguments.__doc__ or "")
    if not description:
        problems.append("the arguments model needs a docstring (it is the tool's description)")
    elif len(description) > MAX_DESCRIPTION:
        problems.append(f"the description is {len(description)} > {MAX_DESCRIPTION} characters")
    if spec.arguments.model_config.get("extra") != "forbid":
        problems.append("the arguments model must forbid extra arguments (extra='forbid')")
    try:
        schema = to_gemini_schema(spec.arguments.model_json_schema())
    except Exception as exc:  # pydantic raises several kinds for unschemable types
        return [*problems, f"no JSON schema: {exc}"], None
    problems.extend(gemini_schema_problems(schema))
    if problems:
        return problems, None
    declaration = types.FunctionDeclaration(
        name=spec.name,
        description=description,
        # A tool without arguments sends no schema at all: fewer tokens every turn.
        parameters_json_schema=schema if schema.get("properties") else None,
    )
    return [], declaration


def build_declarations(specs: Sequence[ToolSpec[Any]]) -> tuple[types.FunctionDeclaration, ...]:
    """One declaration per tool, in order.

    Raises:
        ToolSchemaError: listing every problem of every tool (bad or duplicate names,
            missing descriptions, schemas Gemini would not take, unbounded arguments).
    """
    problems: list[str] = []
    declarations: list[types.FunctionDeclaration] = []
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            problems.append(f"{spec.name}: declared twice")
        seen.add(spec.name)
        found, declaration = _problems_of(spec)
        problems.extend(f"{spec.name}: {p}" for p in found)
        if declaration is not None:
            declarations.append(declaration)
    if problems:
        raise ToolSchemaError(problems)
    return tuple(declarations)


def declarations_size(declarations: Sequence[types.FunctionDeclaration]) -> int:
    """How many characters of JSON the declarations cost on each turn (as the SDK sends them)."""
    payload = [d.model_dump(mode="json", exclude_none=True) for d in declarations]
    return len(json.dumps(payload, separators=(",", ":")))
