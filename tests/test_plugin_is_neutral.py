"""The plugin's own modules name no bar: no text in them (strings, docstrings, messages)
says bar, drink, pour or bartender. The bartender app lives in the modules listed in
``APP``; it is built on the plugin, never the other way round."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import maya

SRC = Path(maya.__file__).parent
BAR_WORDS = re.compile(r"\bbars?\b|drink|\bpour|bartender", re.IGNORECASE)

APP = (
    "agent/",  # the chat loop's persona, the offline model, the demo
    "web/",  # the bar's page
    "testing/",  # conversations written for the bar
    "cli.py",
    "state/menu.py",  # the bar's menu with modifiers, and its message pack
    "state/walkthrough.py",
    # Still in the plugin's packages, as the bar's own tools and defaults (moving them
    # into the app is left to a later change): order_drink/get_menu and DEFAULT_TOOLS,
    # the bar's tab settings, the sandbox's default account name, the bar's MCP schemas.
    "tools/arguments.py",
    "tools/handlers.py",
    "tools/catalog.py",
    "tools/views.py",
    "tools/toolset.py",
    "tools/__init__.py",
    "state/manager.py",
    "sandbox/hosted.py",
    "mcp_server/result_schemas.py",
    "mcp_server/result_models.py",
    "mcp_server/command.py",
)
"""Paths (relative to ``src/maya``) of the bartender app and of the bar's definitions."""


def _texts(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _plugin_modules() -> list[Path]:
    return [
        path for path in sorted(SRC.rglob("*.py")) if not str(path.relative_to(SRC)).startswith(APP)
    ]


def test_the_scan_reads_the_plugin_and_can_find_the_bar() -> None:
    names = {str(p.relative_to(SRC)) for p in _plugin_modules()}
    assert {"messages.py", "money.py", "tools/payment_handlers.py", "state/catalog.py"} <= names
    menu = SRC / "state" / "menu.py"
    assert any(BAR_WORDS.search(text) for _, text in _texts(menu))


def test_no_plugin_module_names_the_bar() -> None:
    found = [
        f"{path.relative_to(SRC)}:{line}: {BAR_WORDS.search(text)[0]!r}"  # type: ignore[index]
        for path in _plugin_modules()
        for line, text in _texts(path)
        if BAR_WORDS.search(text)
    ]
    assert found == []
