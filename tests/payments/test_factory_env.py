"""The environment variables ``open_stripe_client`` reads for issue 8's settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from maya.payments import McpConfigError, open_stripe_client

pytestmark = pytest.mark.anyio


async def test_connect_timeout_account_and_link_hosts_come_from_the_environment(
    tmp_path: Path,
) -> None:
    env = {
        "MAYA_MCP_CONNECT_TIMEOUT": "45",
        "MAYA_STRIPE_ACCOUNT": "acct_1Chosen",
        "MAYA_STRIPE_LINK_HOSTS": "pay.example.com, Buy.Stripe.com",
    }
    async with open_stripe_client(environ=env, cwd=tmp_path, sandbox=True) as client:
        assert client.connect_timeout == 45.0
        assert client.stripe_account == "acct_1Chosen"
        assert client.link_hosts == frozenset({"pay.example.com", "buy.stripe.com"})
        assert client.allow_loopback_links  # no mcp.json: the sandbox


@pytest.mark.parametrize("value", ["soon", "0", "-1", "601"])
async def test_a_bad_connect_timeout_is_a_config_error(tmp_path: Path, value: str) -> None:
    with pytest.raises(McpConfigError, match="MAYA_MCP_CONNECT_TIMEOUT"):
        async with open_stripe_client(
            environ={"MAYA_MCP_CONNECT_TIMEOUT": value}, cwd=tmp_path, sandbox=True
        ):
            pass
