"""How much Maya code one warm ``create_stripe_payment`` runs through (issue 23's figures).

``python benchmarks/profile_link.py``: the sandbox in memory, one link to warm up, then
a second one profiled; JSON lines of Maya modules, functions and frames (sandbox excluded).
"""

from __future__ import annotations

import json
import sys
from types import FrameType
from typing import Any

import anyio

from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.payments import StripeMCPClient
from maya.sandbox import MEMORY, SandboxStore, build_mcp_server
from maya.state import MemoryTabStore, TabManager
from maya.tools import Toolset


def _ours(frame: FrameType) -> str | None:
    """The frame's module when it is Maya's client side, else None."""
    module = frame.f_globals.get("__name__", "")
    if module == "maya" or module.startswith("maya."):
        return None if module.startswith("maya.sandbox") else module
    return None


def _maya_frames(frame: FrameType | None) -> int:
    count = 0
    while frame is not None:
        count += _ours(frame) is not None
        frame = frame.f_back
    return count


class _Tally:
    def __init__(self) -> None:
        self.modules: set[str] = set()
        self.functions: set[str] = set()
        self.depth = 0
        self.payments_depth = 0
        self.at_mcp_call = 0

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        if frame.f_code.co_name == "call_tool" and frame.f_globals["__name__"].startswith("mcp."):
            # Maya's frames under the request as it leaves for the Stripe server.
            self.at_mcp_call = max(self.at_mcp_call, _maya_frames(frame))
        module = _ours(frame)
        if module is None:
            return
        self.modules.add(module)
        self.functions.add(f"{module}.{frame.f_code.co_qualname}")
        depth, payments, at = 0, 0, frame
        while at is not None:
            name = _ours(at)
            depth += name is not None
            payments += name is not None and name.startswith("maya.payments")
            at = at.f_back  # type: ignore[assignment]
        self.depth = max(self.depth, depth)
        self.payments_depth = max(self.payments_depth, payments)


async def _measure() -> _Tally:
    with SandboxStore(MEMORY) as store:
        server = build_mcp_server(store, checkout_base_url="http://127.0.0.1:9")
        async with StripeMCPClient.in_memory(server) as client:
            toolset = Toolset(
                manager=TabManager(MemoryTabStore(), catalog=load_menu()),
                payments=client,
                messages=bar_messages(),
            )
            for session in ("warm-up", "measured"):
                await toolset.call("order_drink", {"name": "Martini"}, session)
            warm = await toolset.record("create_stripe_payment", {}, "warm-up")
            assert warm.ok, warm.response
            tally = _Tally()
            sys.setprofile(tally)
            try:
                measured = await toolset.record("create_stripe_payment", {}, "measured")
            finally:
                sys.setprofile(None)
            assert measured.ok and not measured.result["is_simulated"], measured.response
    return tally


def main() -> None:
    """Print the figures as JSON lines."""
    tally = anyio.run(_measure)
    for metric, value, unit in (
        ("link.maya_modules", len(tally.modules), "modules"),
        ("link.maya_functions", len(tally.functions), "functions"),
        ("link.maya_frames", tally.depth, "frames"),
        ("link.payments_frames", tally.payments_depth, "frames"),
        ("link.maya_frames_at_mcp_call", tally.at_mcp_call, "frames"),
    ):
        print(json.dumps({"metric": metric, "value": value, "unit": unit}))


if __name__ == "__main__":
    main()
