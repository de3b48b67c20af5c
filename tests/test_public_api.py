"""A small public API: ``import maya`` gives an integrator what they need, and each
package's ``__all__`` lists only names some module outside that package uses."""

from __future__ import annotations

import ast
import importlib
import re
from collections import defaultdict
from pathlib import Path

import maya

SRC = Path(maya.__file__).parent
ROOT = SRC.parent.parent
READERS = ("src", "tests", "examples", "benchmarks", "docs")
"""Where a use counts: the product's other packages, tests, examples, benchmarks, docs."""

INTEGRATOR = {
    "Catalog",
    "PAYMENT_TOOLS",
    "TabManager",
    "Toolset",
    "open_store",
    "open_stripe_client",
}


def _packages() -> dict[str, Path]:
    """Every package of Maya with an ``__all__``: its dotted name and its folder."""
    found = {}
    for init in sorted(SRC.rglob("__init__.py")):
        tree = ast.parse(init.read_text(encoding="utf-8"))
        if any(
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets)
            for node in tree.body
        ):
            dotted = ".".join(("maya", *init.parent.relative_to(SRC).parts))
            found[dotted] = init.parent
    return found


_DOC_IMPORT = re.compile(r"from (maya(?:\.\w+)*) import \(?([\w\s,]+)\)?")


def _uses() -> dict[str, set[str]]:
    """Names imported (or reached as attributes) from each ``maya...`` module, with the
    file they were used in: ``{"maya.state": {"TabManager@tests/x.py", ...}}``."""
    uses: dict[str, set[str]] = defaultdict(set)
    for top in READERS:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix == ".md":
                for module, names in _DOC_IMPORT.findall(path.read_text(encoding="utf-8")):
                    for name in re.findall(r"\w+", names):
                        uses[module].add(f"{name}@{path}")
                continue
            if path.suffix != ".py" or ".cache" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("maya"):
                    for alias in node.names:
                        uses[node.module or ""].add(f"{alias.name}@{path}")
                elif isinstance(node, ast.Attribute):
                    chain = ast.unparse(node)
                    module, _, name = chain.rpartition(".")
                    if module.startswith("maya"):
                        uses[module].add(f"{name}@{path}")
    return uses


def _unused_exports() -> dict[str, list[str]]:
    uses = _uses()
    unused: dict[str, list[str]] = {}
    for dotted, folder in _packages().items():
        exported = importlib.import_module(dotted).__all__
        outside = {
            use.split("@", 1)[0]
            for use in uses.get(dotted, set())
            if not Path(use.split("@", 1)[1]).is_relative_to(folder)
        }
        missing = sorted(set(exported) - outside - {"__version__"})
        if missing:
            unused[dotted] = missing
    return unused


def test_import_maya_gives_an_integrator_what_they_need() -> None:
    assert set(maya.__all__) >= INTEGRATOR
    assert len(maya.__all__) <= 12
    for name in maya.__all__:
        assert getattr(maya, name) is not None


def test_every_package_exports_only_what_is_used_outside_it() -> None:
    assert _unused_exports() == {}


def test_the_scan_sees_uses_and_misses() -> None:
    uses = _uses()
    # tests/ and examples/ import Toolset from the root package...
    assert any(u.startswith("Toolset@") for u in uses["maya"])
    # ...and a name nobody imports from a package is not there.
    assert not any(u.startswith("no_such_name@") for u in uses["maya.state"])
    assert "maya.state" in _packages()
