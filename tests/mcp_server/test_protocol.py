"""The protocol's edges, in process: capabilities, error codes, nothing logged for a client's
mistake. Both eras: the handshake (``mode="legacy"``) and the stateless 2026 requests."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from mcp import Client, MCPError
from mcp.types import INVALID_PARAMS, METHOD_NOT_FOUND, ServerCapabilities, ToolsCapability

from maya.mcp_server import TabPolicy, build_mcp_server
from surface_bar import open_bar

pytestmark = pytest.mark.anyio

MODES = ["legacy", "auto"]


async def _code_of(call: Any) -> int:
    with pytest.raises(MCPError) as raised:
        await call
    return raised.value.code


@pytest.mark.parametrize("mode", MODES)
async def test_only_tools_are_advertised_and_the_rest_is_method_not_found(mode: str) -> None:
    async with open_bar() as bar:
        server = build_mcp_server(bar.toolset, tabs=TabPolicy(fixed="t"))
        async with Client(server, mode=mode) as client:
            capabilities = client.server_capabilities
            codes = [
                await _code_of(client.list_prompts()),
                await _code_of(client.get_prompt("greeting")),
                await _code_of(client.list_resources()),
                await _code_of(client.read_resource("maya://menu")),
            ]
    assert capabilities == ServerCapabilities(tools=ToolsCapability(list_changed=False))
    assert codes == [METHOD_NOT_FOUND] * 4


async def test_both_eras_state_the_same_capabilities() -> None:
    async with open_bar() as bar:
        server = build_mcp_server(bar.toolset, tabs=TabPolicy(fixed="t"))
        found = []
        for mode in MODES:
            async with Client(server, mode=mode) as client:
                found.append(client.server_capabilities)
    assert found[0] == found[1]


@pytest.mark.parametrize("mode", MODES)
async def test_unknown_prompts_resources_and_tools_are_invalid_params_and_not_logged(
    mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with open_bar() as bar:
        server = build_mcp_server(bar.toolset, tabs=TabPolicy(fixed="t"))

        # A server that has a prompt and a resource serves and advertises them.
        @server.prompt()
        def greeting() -> str:
            """Say hello."""
            return "Hello"

        @server.resource("maya://menu")
        def menu() -> str:
            return "the menu"

        async with Client(server, mode=mode) as client:
            capabilities = client.server_capabilities
            prompts = [p.name for p in (await client.list_prompts()).prompts]
            codes = [
                await _code_of(client.get_prompt("nope")),
                await _code_of(client.read_resource("maya://nope")),
                await _code_of(client.call_tool("nope", {})),
            ]
    assert capabilities.prompts is not None and capabilities.resources is not None
    assert prompts == ["greeting"]
    assert codes == [INVALID_PARAMS] * 3
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
