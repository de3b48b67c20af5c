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

APP_PACKAGES = (
    "bar/",  # the bar's menu with modifiers, tools, settings, voice and walkthrough
    "agent/",  # the chat loop's persona, the offline model, the demo
    "web/",  # the bar's page
    "testing/",  # test support for the bar's conversations
    "conversations/",  # the harness playing the conversations written for the bar
    "cli.py",
)
"""Paths (relative to ``src/maya``) of the bartender app."""

APP = (
    *APP_PACKAGES,
    # ``maya mcp``: a command, like cli.py, whose default application is the bar.
    "mcp_server/command.py",
)
"""What the word scan leaves out: the app, and the one command that defaults to it."""

BAR_IMPORTERS = {
    # The commands whose default application is the bar (as cli.py's are); no library
    # module imports it: a TabManager is given its catalog, a Toolset offers the
    # catalog's own tools (``SoldWithTools``) or the plugin's.
    "mcp_server/command.py",  # maya mcp serves the bar when given no catalog
    "state/command.py",  # maya state show/reset/demo on the bar's tabs
    "server/command.py",  # maya serve: the bar's page and webhook
    "server/workers.py",  # its worker processes
}
"""The plugin modules that import ``maya.bar`` (the first two lazily, for their default)."""


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
    menu = SRC / "bar" / "menu.py"
    assert any(BAR_WORDS.search(text) for _, text in _texts(menu))
    assert "bar/menu.py" not in names and "tools/handlers.py" in names


def test_no_plugin_module_names_the_bar() -> None:
    found = [
        f"{path.relative_to(SRC)}:{line}: {BAR_WORDS.search(text)[0]!r}"  # type: ignore[index]
        for path in _plugin_modules()
        for line, text in _texts(path)
        if BAR_WORDS.search(text)
    ]
    assert found == []


def _bar_imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [
            f"{node.lineno}: {n}" for n in names if n == "maya.bar" or n.startswith("maya.bar.")
        ]
    return found


def test_only_the_commands_import_the_bar() -> None:
    importers = {
        str(path.relative_to(SRC))
        for path in sorted(SRC.rglob("*.py"))
        if not str(path.relative_to(SRC)).startswith(APP_PACKAGES) and _bar_imports(path)
    }
    assert importers == BAR_IMPORTERS
    assert _bar_imports(SRC / "agent" / "models" / "offline.py")  # the scan finds imports
