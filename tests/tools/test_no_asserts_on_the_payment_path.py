"""Payment-path invariants are real errors: ``python -O`` strips ``assert`` statements."""

from __future__ import annotations

import ast
from pathlib import Path

import maya.tools.payment_handlers as payment_handlers


def test_the_payment_handlers_guard_with_errors_not_asserts() -> None:
    tree = ast.parse(Path(payment_handlers.__file__).read_text(encoding="utf-8"))
    asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert asserts == [], f"assert statements at lines {asserts}"
