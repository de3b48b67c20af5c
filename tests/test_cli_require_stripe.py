"""The CLI keeps the sandbox as its offline default, and refuses it when asked to."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from maya.bar import load_menu
from maya.cli import main

pytestmark = pytest.mark.anyio


def test_maya_mcp_require_stripe_refuses_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # no mcp.json here
    monkeypatch.delenv("MAYA_MCP_CONFIG", raising=False)
    assert main(["mcp", "--require-stripe", "--store", "memory://"]) == 2
    assert "MAYA_REQUIRE_STRIPE" in capsys.readouterr().err


def test_maya_require_stripe_in_the_environment_refuses_it_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAYA_MCP_CONFIG", raising=False)
    monkeypatch.setenv("MAYA_REQUIRE_STRIPE", "1")
    assert main(["mcp", "--store", "memory://"]) == 2
    assert "a real Stripe MCP server is required" in capsys.readouterr().err


def test_maya_mcp_names_the_tools_it_does_not_have(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = Path(__file__).parents[1] / "examples" / "coffee_shop" / "catalog.yaml"
    monkeypatch.chdir(tmp_path)
    assert main(["mcp", "--catalog", str(catalog), "--tools", "order_item,order_drink"]) == 2
    err = capsys.readouterr().err
    assert "order_drink" in err and "get_catalog" in err


async def test_a_chosen_pair_of_tools_gets_neutral_instructions_naming_only_them() -> None:
    from maya.mcp_server import build_mcp_server
    from maya.mcp_server.server import neutral_instructions
    from maya.state import MemoryTabStore, TabManager
    from maya.tools import PAYMENT_TOOLS, Toolset

    toolset = Toolset(
        manager=TabManager(MemoryTabStore(), catalog=load_menu()),
        payments=None,
        tools=PAYMENT_TOOLS,
    )
    said = neutral_instructions(toolset)
    assert "create_stripe_payment, check_payment_status" in said
    assert not re.search(r"bar|drink|pour|bartender|maya", said, re.IGNORECASE)
    assert build_mcp_server(toolset).instructions == said
