"""A separate OS process that asks for a tab's payment link: ``python _pay_worker.py '<json>'``.

The request is ``{"store": URL, "mcp": MCP_URL, "session": ID}``: open the store and a
``StripeMCPClient`` on the (sandbox's) streamable HTTP endpoint, call the
``create_stripe_payment`` tool for the session, and print the tool's answer as one JSON
line. It is what a second worker of ``maya serve`` does when a customer presses Pay.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import anyio

from maya.bar import load_menu
from maya.payments import McpServerConfig, StripeMCPClient
from maya.state.manager import TabManager
from maya.state.open import open_store
from maya.tools import Toolset


async def pay(request: dict[str, Any]) -> Any:
    store = open_store(request["store"])
    try:
        config = McpServerConfig(name="sandbox", transport="http", url=request["mcp"])
        async with StripeMCPClient.from_config(config) as client:
            toolset = Toolset(manager=TabManager(store, catalog=load_menu()), payments=client)
            return await toolset.call("create_stripe_payment", {}, request["session"])
    finally:
        await store.aclose()


def main() -> None:
    request = json.loads(sys.argv[1])

    async def run() -> Any:
        return await pay(request)

    print(json.dumps(anyio.run(run)), flush=True)


if __name__ == "__main__":
    main()
