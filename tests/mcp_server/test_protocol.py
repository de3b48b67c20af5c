"""The protocol's edges, in process: capabilities, error codes, nothing logged for a client's
mistake. Both eras: the handshake (``mode="legacy"``) and the stateless 2026 requests."""

from __future__ import annotations

import logging
from typing import Any

import anyio
import pytest
from mcp import Client, MCPError
from mcp.shared.message import SessionMessage
from mcp.types import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    JSONRPCNotification,
    JSONRPCRequest,
    JSONRPCResponse,
    ServerCapabilities,
    ToolsCapability,
)

from maya.mcp_server import TabPolicy, build_mcp_server
from maya.mcp_server.protocol import answers_before_close
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


def _request(request_id: int) -> SessionMessage:
    return SessionMessage(JSONRPCRequest(jsonrpc="2.0", id=request_id, method="tools/list"))


async def test_the_input_ends_only_once_every_request_read_is_answered() -> None:
    """stdin closed with request 1 unanswered: the server's input stays open until it is
    answered; request 2, which the client cancelled, is not waited for."""
    stdin_send, stdin = anyio.create_memory_object_stream[SessionMessage | Exception](10)
    stdout, stdout_receive = anyio.create_memory_object_stream[SessionMessage](10)
    cancel = JSONRPCNotification(
        jsonrpc="2.0", method="notifications/cancelled", params={"requestId": 2}
    )
    async with stdin_send:
        for item in (_request(1), _request(2), SessionMessage(cancel)):
            await stdin_send.send(item)
    with anyio.fail_after(10):
        async with (
            stdin,
            stdout_receive,
            answers_before_close(stdin, stdout) as (messages, writes),
        ):
            read = [await messages.receive() for _ in range(3)]
            # Everything stdin brought has been read, and still the input has not ended.
            with anyio.move_on_after(0) as waited, pytest.raises(anyio.EndOfStream):
                await messages.receive()
            assert waited.cancelled_caught
            async with writes:
                await writes.send(SessionMessage(JSONRPCResponse(jsonrpc="2.0", id=1, result={})))
            with pytest.raises(anyio.EndOfStream):  # answered: the input ends
                await messages.receive()
            written = [item async for item in stdout_receive]  # closed after the server's
    assert [getattr(item.message, "id", None) for item in read] == [1, 2, None]
    assert [item.message for item in written] == [JSONRPCResponse(jsonrpc="2.0", id=1, result={})]
