"""Reading mcp.json: lookup order, ${VAR} expansion, errors that name file and field."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from maya.codes import ErrorCode
from maya.payments import (
    LiveModeRefusedError,
    McpConfigError,
    StripeMCPClient,
    load_server_config,
)
from maya.payments.config import find_config_file

TEST_KEY = "sk_test_51Hsecretvalue"
LIVE_KEY = "sk_live_51Hsecretvalue"


def write(path: Path, servers: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mcpServers": servers}))
    return path


def stripe_stdio(key_ref: str = "${STRIPE_SECRET_KEY}") -> dict[str, Any]:
    return {"command": "npx", "args": ["-y", "@stripe/mcp", f"--api-key={key_ref}"]}


def test_no_configuration_means_the_sandbox_over_stdio(tmp_path: Path) -> None:
    config = load_server_config(environ={}, cwd=tmp_path)
    assert config.transport == "stdio"
    assert config.command == sys.executable
    assert config.arg_values()[:2] == ("-m", "maya.sandbox")
    assert config.mode == "test"
    assert config.is_sandbox


def test_sandbox_default_passes_sandbox_settings_only(tmp_path: Path) -> None:
    env = {"MAYA_SANDBOX_DB": "/tmp/x.sqlite3", "STRIPE_SECRET_KEY": LIVE_KEY}
    config = load_server_config(environ=env, cwd=tmp_path)
    assert config.env_values() == {"MAYA_SANDBOX_DB": "/tmp/x.sqlite3"}
    assert config.mode == "test"


def test_lookup_prefers_env_over_cwd_over_kiro(tmp_path: Path) -> None:
    kiro = write(tmp_path / ".kiro" / "settings" / "mcp.json", {"stripe": stripe_stdio()})
    assert find_config_file(environ={}, cwd=tmp_path) == kiro
    local = write(tmp_path / "mcp.json", {"stripe": stripe_stdio()})
    assert find_config_file(environ={}, cwd=tmp_path) == local
    named = write(tmp_path / "elsewhere.json", {"stripe": stripe_stdio()})
    assert find_config_file(environ={"MAYA_MCP_CONFIG": str(named)}, cwd=tmp_path) == named
    explicit = write(tmp_path / "explicit.json", {"stripe": stripe_stdio()})
    found = find_config_file(
        config_path=explicit, environ={"MAYA_MCP_CONFIG": str(named)}, cwd=tmp_path
    )
    assert found == explicit


def test_a_named_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(McpConfigError, match="MAYA_MCP_CONFIG") as info:
        load_server_config(environ={"MAYA_MCP_CONFIG": str(tmp_path / "nope.json")})
    assert "nope.json" in str(info.value)


def test_stdio_server_expands_vars_in_args_and_env(tmp_path: Path) -> None:
    write(
        tmp_path / "mcp.json",
        {
            "stripe": {
                "command": "npx",
                "args": ["-y", "@stripe/mcp", "--api-key=${STRIPE_SECRET_KEY}"],
                "env": {"STRIPE_ACCOUNT": "${ACCOUNT:-acct_default}"},
                "autoApprove": ["create_payment_link"],
            }
        },
    )
    config = load_server_config(environ={"STRIPE_SECRET_KEY": TEST_KEY}, cwd=tmp_path)
    assert config.name == "stripe"
    assert config.arg_values()[-1] == f"--api-key={TEST_KEY}"
    assert config.env_values() == {"STRIPE_ACCOUNT": "acct_default"}
    assert config.auto_approve == ("create_payment_link",)
    assert config.mode == "test"
    assert config.source == tmp_path / "mcp.json"


def test_http_server_expands_vars_in_headers(tmp_path: Path) -> None:
    write(
        tmp_path / "mcp.json",
        {
            "stripe": {
                "url": "https://mcp.stripe.com",
                "headers": {"Authorization": "Bearer ${STRIPE_SECRET_KEY}"},
            }
        },
    )
    config = load_server_config(environ={"STRIPE_SECRET_KEY": TEST_KEY}, cwd=tmp_path)
    assert config.transport == "http"
    assert config.url == "https://mcp.stripe.com"
    assert config.header_values() == {"Authorization": f"Bearer {TEST_KEY}"}
    assert config.mode == "test"


def test_gemini_http_url_is_accepted(tmp_path: Path) -> None:
    write(tmp_path / "mcp.json", {"stripe": {"httpUrl": "http://127.0.0.1:8123/mcp"}})
    config = load_server_config(environ={}, cwd=tmp_path)
    assert config.url == "http://127.0.0.1:8123/mcp"
    assert config.mode == "test"  # a loopback server without a key is the sandbox


def test_server_name_comes_from_argument_then_env(tmp_path: Path) -> None:
    write(
        tmp_path / "mcp.json",
        {
            "stripe": stripe_stdio(TEST_KEY),
            "other": {"command": "python", "args": ["-m", "maya.sandbox"]},
        },
    )
    assert load_server_config(environ={"MAYA_MCP_SERVER": "other"}, cwd=tmp_path).name == "other"
    assert (
        load_server_config(
            server_name="stripe", environ={"MAYA_MCP_SERVER": "other"}, cwd=tmp_path
        ).name
        == "stripe"
    )


def test_an_unset_variable_names_the_file_and_field(tmp_path: Path) -> None:
    path = write(tmp_path / "mcp.json", {"stripe": stripe_stdio()})
    with pytest.raises(McpConfigError) as info:
        load_server_config(environ={}, cwd=tmp_path)
    assert str(path) in str(info.value)
    assert info.value.field == "mcpServers.stripe.args.2"
    assert "STRIPE_SECRET_KEY" in str(info.value)


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (
            '{"mcpServers": {"stripe": {"command": "npx", "args": "not-a-list"}}}',
            "mcpServers.stripe.args",
        ),
        (
            '{"mcpServers": {"stripe": {"command": "npx", "args": ["ok", 3]}}}',
            "mcpServers.stripe.args.1",
        ),
        (
            '{"mcpServers": {"stripe": {"url": "https://x", "headers": {"A": 1}}}}',
            "mcpServers.stripe.headers.A",
        ),
        ('{"mcpServers": {"stripe": {}}}', "mcpServers.stripe"),
        ('{"mcpServers": {"stripe": {"command": "npx", "url": "https://x"}}}', "mcpServers.stripe"),
        (
            '{"mcpServers": {"stripe": {"type": "sse", "url": "https://x"}}}',
            "mcpServers.stripe.type",
        ),
        ('{"servers": {}}', "mcpServers"),
        ('{"mcpServers": []}', "mcpServers"),
    ],
)
def test_malformed_config_names_file_and_field(tmp_path: Path, content: str, field: str) -> None:
    path = tmp_path / "mcp.json"
    path.write_text(content)
    with pytest.raises(McpConfigError) as info:
        load_server_config(environ={}, cwd=tmp_path)
    assert info.value.path == path
    assert info.value.field == field
    assert str(path) in str(info.value) and field in str(info.value)


def test_invalid_json_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {\n  "stripe": ,\n}}')
    with pytest.raises(McpConfigError, match="line 2") as info:
        load_server_config(environ={}, cwd=tmp_path)
    assert str(path) in str(info.value)


def test_disabled_default_server_falls_back_to_the_sandbox(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path / "mcp.json", {"stripe": {**stripe_stdio(TEST_KEY), "disabled": True}})
    with caplog.at_level(logging.WARNING, logger="maya.payments"):
        config = load_server_config(environ={}, cwd=tmp_path)
    assert config.is_sandbox
    assert "disabled" in caplog.text


def test_disabled_or_missing_named_server_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "mcp.json", {"stripe": {**stripe_stdio(TEST_KEY), "disabled": True}})
    with pytest.raises(McpConfigError, match="disabled"):
        load_server_config(server_name="stripe", environ={}, cwd=tmp_path)
    with pytest.raises(McpConfigError, match="not defined"):
        load_server_config(server_name="paypal", environ={}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("server", "env", "mode"),
    [
        (stripe_stdio(TEST_KEY), {}, "test"),
        (stripe_stdio(LIVE_KEY), {}, "live"),
        (stripe_stdio("rk_test_51Habc"), {}, "test"),
        (stripe_stdio("rk_live_51Habc"), {}, "live"),
        (
            {
                "command": "npx",
                "args": ["-y", "@stripe/mcp"],
                "env": {"STRIPE_SECRET_KEY": LIVE_KEY},
            },
            {},
            "live",
        ),
        (
            {"command": "npx", "args": ["-y", "@stripe/mcp"]},
            {"STRIPE_SECRET_KEY": TEST_KEY},
            "test",
        ),
        (
            {"command": "npx", "args": ["-y", "@stripe/mcp"]},
            {"STRIPE_SECRET_KEY": LIVE_KEY},
            "live",
        ),
        (
            {"url": "https://mcp.stripe.com", "headers": {"Authorization": f"Bearer {LIVE_KEY}"}},
            {},
            "live",
        ),
        ({"url": "https://mcp.stripe.com"}, {}, "live"),
        (
            {"command": "python", "args": ["-m", "maya.sandbox"]},
            {"STRIPE_SECRET_KEY": LIVE_KEY},
            "test",
        ),
    ],
)
def test_mode_comes_from_the_key_prefix(
    tmp_path: Path, server: dict[str, Any], env: dict[str, str], mode: str
) -> None:
    write(tmp_path / "mcp.json", {"stripe": server})
    assert load_server_config(environ=env, cwd=tmp_path).mode == mode


def test_live_mode_is_refused_unless_allowed(tmp_path: Path) -> None:
    write(tmp_path / "mcp.json", {"stripe": stripe_stdio(LIVE_KEY)})
    config = load_server_config(environ={}, cwd=tmp_path)
    with pytest.raises(LiveModeRefusedError) as info:
        StripeMCPClient.from_config(config)
    assert info.value.code == ErrorCode.LIVE_MODE_REFUSED
    assert "MAYA_ALLOW_LIVE" in str(info.value)
    assert LIVE_KEY not in str(info.value)
    assert StripeMCPClient.from_config(config, allow_live=True).mode == "live"


def test_the_key_never_shows_in_repr_str_or_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(
        tmp_path / "mcp.json",
        {
            "stripe": {**stripe_stdio(), "env": {"STRIPE_SECRET_KEY": "${STRIPE_SECRET_KEY}"}},
            "remote": {
                "url": "https://mcp.stripe.com",
                "headers": {"Authorization": "Bearer ${STRIPE_SECRET_KEY}"},
            },
        },
    )
    env = {"STRIPE_SECRET_KEY": LIVE_KEY}
    secret = LIVE_KEY.removeprefix("sk_live_")
    with caplog.at_level(logging.DEBUG):
        for name in ("stripe", "remote"):
            config = load_server_config(server_name=name, environ=env, cwd=tmp_path)
            assert secret not in repr(config)
            assert secret not in str(config)
            assert secret not in repr(config.model_dump())
            with pytest.raises(LiveModeRefusedError) as info:
                StripeMCPClient.from_config(config)
            assert secret not in str(info.value)
            assert secret not in repr(info.value)
    assert secret not in caplog.text


@pytest.mark.parametrize("example", ["mcp.json.example", ".kiro/settings/mcp.json.example"])
def test_shipped_examples_load(example: str) -> None:
    path = Path(__file__).parents[2] / example
    env = {"STRIPE_SECRET_KEY": TEST_KEY}
    stripe = load_server_config(config_path=path, environ=env)
    assert (stripe.name, stripe.transport, stripe.mode) == ("stripe", "stdio", "test")
    sandbox = load_server_config(config_path=path, server_name="sandbox", environ={})
    assert sandbox.is_sandbox and sandbox.mode == "test"
    servers = json.loads(path.read_text())["mcpServers"]
    assert servers["stripe-remote"]["url"] == "https://mcp.stripe.com"
    assert servers["stripe-remote"]["headers"]["Authorization"] == "Bearer ${STRIPE_SECRET_KEY}"
    assert servers["stripe-env"]["env"] == {"STRIPE_SECRET_KEY": "${STRIPE_SECRET_KEY}"}
    # Issue 8: the relay (0.3.x) is the default; 0.2.x exits at start without --tools.
    assert servers["stripe"]["args"][:2] == ["-y", "@stripe/mcp@0.3"]
    assert servers["stripe-named"]["args"] == [
        "-y",
        "@stripe/mcp@0.2.5",
        "--tools=all",
        "--api-key=${STRIPE_SECRET_KEY}",
    ]


def test_the_sandbox_gets_its_own_settings_and_the_otel_ones_and_nothing_else() -> None:
    from maya.payments.config import sandbox_server_config

    environ = {
        "MAYA_SANDBOX_FAULTS": "latency=0.1",
        "OTEL_TRACES_EXPORTER": "otlp",
        "STRIPE_SECRET_KEY": "sk_test_" + "x" * 24,
        "HOME": "/root",
    }
    config = sandbox_server_config(environ=environ)
    passed = {k: v.get_secret_value() for k, v in config.env.items()}
    assert passed == {"MAYA_SANDBOX_FAULTS": "latency=0.1", "OTEL_TRACES_EXPORTER": "otlp"}
