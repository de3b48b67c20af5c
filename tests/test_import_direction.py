"""The direction of imports inside ``maya``: each layer uses only the layers below it.

From the bottom up:

1. the root leaves, ``maya.addresses``, ``maya.codes``, ``maya.errors``, ``maya.money``,
   ``maya.redact``, ``maya.messages`` and ``maya.signing`` (local addresses, the error
   contract, money, secret masking, Maya's words, tokens only the server issues): they
   import no other layer;
2. ``maya.state`` (tabs, orders, stores): imports only the root leaves;
3. ``maya.payments`` and ``maya.sandbox`` (Stripe over MCP and its local stand-in): never
   ``maya.tools`` or ``maya.agent``;
4. ``maya.tools`` (the function-calling surface): never ``maya.agent``;
5. ``maya.agent`` (the chat loop, models, traces);
6. the surfaces: ``maya.web``, ``maya.server``, ``maya.adk`` and ``maya.otel`` (its tracer
   implements the agent's tracer) are built on the agent; ``maya.mcp_server`` serves the
   tools alone and never imports the agent;
7. the entry points: ``maya.cli``, ``maya.conversations`` (conversation files played
   against the agent; ``maya.adk`` builds eval sets with it) and ``maya.testing``.

Only layers 6 and 7 may import ``maya.agent``. ``maya.testing`` is test support: no
product module imports it. The walk reads every import statement, function-local ones
included, so a lazy import cannot hide a wrong-way dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import maya

SRC = Path(maya.__file__).parent

ROOT_LEAVES = frozenset(
    {
        "maya.addresses",
        "maya.codes",
        "maya.errors",
        "maya.money",
        "maya.redact",
        "maya.messages",
        "maya.signing",
    }
)
ABOVE_AGENT = frozenset(
    {
        "maya.agent",
        "maya.web",
        "maya.server",
        "maya.adk",
        "maya.otel",
        "maya.cli",
        "maya.conversations",
        "maya.testing",
    }
)
TEST_SUPPORT = "maya.testing"
"""Imported by tests (and users' tests) only, never by a product module."""
FORBIDDEN: dict[str, frozenset[str]] = {
    "maya.state": frozenset(
        {"maya.payments", "maya.sandbox", "maya.tools", "maya.agent", "maya.server", "maya.web"}
    ),
    "maya.payments": frozenset({"maya.tools", "maya.agent"}),
    "maya.sandbox": frozenset({"maya.tools", "maya.agent"}),
    "maya.tools": frozenset({"maya.agent"}),
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every ``maya`` module ``path`` imports, relative imports resolved."""
    text = path.read_text(encoding="utf-8")
    return _imports_of(_module_name(path), text, is_package=path.name == "__init__.py")


def _imports_of(name: str, text: str, *, is_package: bool) -> set[str]:
    """Every ``maya`` module the source ``text`` of module ``name`` imports."""
    package = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.add(target)
            # ``from maya import agent`` imports the subpackage.
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {m for m in found if m == "maya" or m.startswith("maya.")}


def _layer(module: str) -> str:
    """``maya.state.sql.sqlite`` -> ``maya.state``; ``maya.codes`` -> ``maya.codes``."""
    return ".".join(module.split(".")[:2])


def _is_package(module: str) -> bool:
    return (SRC / Path(*module.split(".")[1:]) / "__init__.py").exists()


def _edges() -> list[tuple[str, str]]:
    edges: list[tuple[str, str]] = []
    for path in sorted(SRC.rglob("*.py")):
        edges += _edges_of(_module_name(path), _imports(path))
    return edges


def _edges_of(source: str, imports: set[str]) -> list[tuple[str, str]]:
    """(``source``, layer) for each import of another layer's module."""
    edges: list[tuple[str, str]] = []
    for target in sorted(imports):
        if target == "maya" or _layer(target) == _layer(source):
            continue
        if (
            target.count(".") == 1
            and not _is_package(target)
            and not (SRC / f"{target.split('.')[1]}.py").exists()
        ):
            continue  # ``from maya.x import name`` where name is not a module
        edges.append((source, _layer(target)))
    return edges


def test_the_walk_sees_the_imports_it_judges() -> None:
    edges = _edges()
    assert ("maya.agent.loop", "maya.state") in edges
    assert ("maya.tools.toolset", "maya.codes") in edges


def test_the_root_leaves_import_no_other_layer() -> None:
    wrong = [(s, t) for s, t in _edges() if _layer(s) in ROOT_LEAVES and t not in ROOT_LEAVES]
    assert wrong == []


def test_no_layer_imports_a_layer_above_it() -> None:
    wrong = [(s, t) for s, t in _edges() if t in FORBIDDEN.get(_layer(s), frozenset())]
    assert wrong == []


def test_only_the_surfaces_and_entry_points_import_the_agent() -> None:
    wrong = [(s, t) for s, t in _edges() if t == "maya.agent" and _layer(s) not in ABOVE_AGENT]
    assert wrong == []


def _importers_of_test_support(edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted({(s, t) for s, t in edges if t == TEST_SUPPORT and _layer(s) != TEST_SUPPORT})


def test_no_product_module_imports_test_support() -> None:
    assert _importers_of_test_support(_edges()) == []


def test_a_product_module_importing_test_support_is_caught() -> None:
    # The judge above on a manager that took FakeClock from maya.testing, at the top of
    # the file or lazily inside a function, in either spelling.
    for text in (
        "from maya.testing import FakeClock\n",
        "def clock():\n    from maya import testing\n    return testing.FakeClock()\n",
        "import maya.testing.replay\n",
    ):
        imports = _imports_of("maya.state.manager", text, is_package=False)
        edges = _edges_of("maya.state.manager", imports)
        assert _importers_of_test_support(edges) == [("maya.state.manager", "maya.testing")]
    # ... and maya.testing's own modules may import it.
    own = _edges_of("maya.testing.extra", {"maya.testing"})
    assert _importers_of_test_support(own) == []
