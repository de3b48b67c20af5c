"""The fault suite: hostile and broken servers of every kind the issue lists.

Each case builds a client (against the sandbox with injected faults, a hand-written
hostile server, or a real process), asks for one link, and checks the same promises:
the call ends within its bound, one key never makes two links, no unsafe URL is ever
returned, and no secret appears in any exception or log line.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.server.mcpserver import MCPServer

from maya.payments import (
    LiveModeRefusedError,
    McpServerConfig,
    PaymentLink,
    StatusBounds,
    StripeMCPClient,
    StripeMCPError,
    StripeUnavailableError,
    Timeouts,
)
from maya.payments.errors import StripeAccountError, StripeSchemaError, UnsafePaymentLinkError
from maya.sandbox import (
    DEFAULT_ACCOUNTS,
    MEMORY,
    CallCounts,
    FaultConfig,
    SandboxAccount,
    SandboxStore,
    build_mcp_server,
)
from maya.testing import FakeClock
from maya.testing.client_calls import count_client_calls, sessions_attempted

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECRET = "sk_test_51FaultSuiteSecretKey000000000000000"
BOUND = 20.0
CHECKOUT = "http://127.0.0.1:9"


@dataclass
class Outcome:
    link: PaymentLink | None
    error: StripeMCPError | None
    seconds: float


Build = Callable[[SandboxStore, FakeClock, Path], StripeMCPClient]
Check = Callable[[Outcome, SandboxStore, CallCounts], None]


def sandbox(faults: str | None = None, *, dialect: str = "hosted", **options: Any) -> Build:
    def build(store: SandboxStore, clock: FakeClock, _: Path) -> StripeMCPClient:
        server = build_mcp_server(
            store,
            dialect=dialect,  # type: ignore[arg-type]
            faults=FaultConfig.parse(faults) if faults else None,
            checkout_base_url=CHECKOUT,
            crash=lambda: None,
            accounts=options.pop("accounts", None) or DEFAULT_ACCOUNTS,
        )
        options.setdefault("timeouts", Timeouts(call_s=0.3, connect_s=2.0))
        return StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep, **options)

    return build


def hostile(url: str | None = None, *, text: str | None = None, huge: int = 0) -> Build:
    """A generic-dialect server that answers the link write with ``url`` or ``text``."""

    def build(store: SandboxStore, clock: FakeClock, _: Path) -> StripeMCPClient:
        server = MCPServer("hostile")
        made: list[str] = []

        @server.tool()
        def stripe_api_write(stripe_api_operation_id: str, parameters: dict[str, Any]) -> str:
            """Writes."""
            if stripe_api_operation_id == "PostPrices":
                return json.dumps({"id": "price_1", "object": "price"})
            if stripe_api_operation_id == "PostPaymentLinksPaymentLink":
                return json.dumps({"id": parameters["payment_link"], "active": False})
            made.append("plink_hostile")
            if text is not None:
                return text
            if huge:
                return json.dumps({"id": "plink_hostile", "url": url, "pad": "x" * huge})
            return json.dumps({"id": "plink_hostile", "url": url})

        @server.tool()
        def stripe_api_read(stripe_api_operation_id: str, parameters: dict[str, Any]) -> str:
            """Reads."""
            return json.dumps({"object": "list", "data": [], "has_more": False})

        return StripeMCPClient.in_memory(
            server,
            clock=clock,
            sleep=clock.sleep,
            timeouts=Timeouts(call_s=2.0),
            allow_loopback_links=False,
        )

    return build


def mute_accounts() -> Build:
    """A hosted-style server whose accounts tool never answers (the bootstrap step hangs)."""

    def build(store: SandboxStore, clock: FakeClock, _: Path) -> StripeMCPClient:
        server = MCPServer("mute-accounts")

        @server.tool()
        def stripe_api_write(
            stripe_api_operation_id: str,
            parameters: dict[str, Any],
            stripe_context: str,
            livemode: bool,
        ) -> str:
            """Writes; never reached."""
            raise AssertionError("no write may happen without an account")

        @server.tool()
        def stripe_api_read(
            stripe_api_operation_id: str,
            parameters: dict[str, Any],
            stripe_context: str,
            livemode: bool,
        ) -> str:
            """Reads; never reached."""
            raise AssertionError("no read may happen without an account")

        @server.tool()
        async def list_available_accounts_or_orgs() -> str:
            """Never answers."""
            await anyio.sleep_forever()
            return ""

        return StripeMCPClient.in_memory(
            server, clock=clock, sleep=clock.sleep, timeouts=Timeouts(call_s=0.3)
        )

    return build


def process(script: str, **options: Any) -> Build:
    """A stdio server from a Python script (a real process, real pipes)."""

    def build(store: SandboxStore, clock: FakeClock, tmp: Path) -> StripeMCPClient:
        path = tmp / "server.py"
        path.write_text(script)
        config = McpServerConfig(
            name="hostile-process",
            transport="stdio",
            command=sys.executable,
            args=(path.as_posix(), f"--api-key={SECRET}"),  # type: ignore[arg-type]
            mode="test",
        )
        options.setdefault("timeouts", Timeouts(connect_s=3.0, probe_s=1.0))
        return StripeMCPClient.from_config(config, clock=clock, sleep=clock.sleep, **options)

    return build


SANDBOX_SCRIPT = """
import sys, anyio
{before}
from maya.sandbox import MEMORY, SandboxStore, build_mcp_server, FaultConfig
server = build_mcp_server(SandboxStore(MEMORY), checkout_base_url="http://127.0.0.1:9",
                          faults=FaultConfig.parse({faults!r}) if {faults!r} else None)
anyio.run(server.run_stdio_async)
"""


def simulated(outcome: Outcome, store: SandboxStore, _: StripeMCPClient) -> None:
    assert outcome.link is not None and outcome.link.is_simulated
    assert store.list_payment_links(limit=100)[0] == []


def real(outcome: Outcome, store: SandboxStore, _: StripeMCPClient) -> None:
    assert outcome.link is not None and not outcome.link.is_simulated, outcome.error
    assert [link["id"] for link in store.list_payment_links(limit=100)[0]] == [
        outcome.link.payment_id
    ]


def raises(kind: type[StripeMCPError], *words: str) -> Check:
    def check(outcome: Outcome, store: SandboxStore, _: CallCounts) -> None:
        assert isinstance(outcome.error, kind), outcome
        for word in words:
            assert word in str(outcome.error)

    return check


def unsafe(outcome: Outcome, store: SandboxStore, calls: CallCounts) -> None:
    assert isinstance(outcome.error, UnsafePaymentLinkError), outcome
    assert calls.count(op="PostPaymentLinksPaymentLink") == 1  # closed at once


def hostile_link(outcome: Outcome, store: SandboxStore, calls: CallCounts) -> None:
    assert outcome.link is not None and not outcome.link.is_simulated, outcome.error
    assert outcome.link.url == "https://buy.stripe.com/test_ok"


def some_link(outcome: Outcome, store: SandboxStore, calls: CallCounts) -> None:
    # Through a real process the store is the child's own; a link (real or, if the junk
    # broke the session, simulated) must come back within the bound, never an error.
    assert outcome.link is not None, outcome.error


CASES: dict[str, tuple[Build, Check]] = {
    "latency": (sandbox("latency=0.05"), real),
    "hang_every_call": (sandbox("hang_after=0"), simulated),
    "hang_once": (sandbox("hang_on=1"), real),
    "error_every_call": (sandbox("error_rate=1.0"), simulated),
    "crash_every_call": (sandbox("crash_after=0"), simulated),
    "act_then_hang": (sandbox("act_then_hang_on=1,only=PostPaymentLinks"), real),
    "act_then_crash": (sandbox("act_then_crash_on=1,only=PostPaymentLinks"), real),
    "act_then_api_error_hosted": (sandbox("act_then_error_on=1,only=PostPaymentLinks"), real),
    "act_then_api_error_generic": (
        sandbox("act_then_error_on=1,only=PostPaymentLinks", dialect="generic"),
        real,
    ),
    "rate_limit_hosted": (sandbox("rate_limit_on=1,only=PostPaymentLinks"), real),
    "rate_limit_generic": (
        sandbox("rate_limit_on=1,only=PostPaymentLinks", dialect="generic"),
        real,
    ),
    "malformed_text": (sandbox("malformed=text,only=PostPaymentLinks"), real),
    "malformed_fields": (sandbox("malformed=fields,only=PostPaymentLinks"), real),
    "named_quoted_failures": (sandbox("text_failures=1", dialect="named"), simulated),
    "javascript_url": (hostile("javascript:alert(document.cookie)//"), unsafe),
    "plain_http_stripe_url": (hostile("http://buy.stripe.com/test_abc"), unsafe),
    "foreign_domain": (hostile("https://buy.stripe.com.evil.example/test_abc"), unsafe),
    "credentials_in_url": (hostile("https://user:pw@buy.stripe.com/test_abc"), unsafe),
    "huge_answer": (hostile("https://buy.stripe.com/test_ok", huge=5_000_000), hostile_link),
    "secret_in_error_text": (
        hostile(text=f"Stripe API error: Invalid API Key provided: {SECRET}"),
        raises(StripeMCPError),
    ),
    "several_accounts_none_chosen": (
        sandbox(
            accounts=[
                SandboxAccount("acct_1A", livemode=False, name="A"),
                SandboxAccount("acct_1B", livemode=False, name="B"),
            ]
        ),
        raises(StripeAccountError, "MAYA_STRIPE_ACCOUNT", "acct_1A", "acct_1B"),
    ),
    "hang_at_account_bootstrap": (mute_accounts(), simulated),
    "garbage_on_stdout": (
        process(
            SANDBOX_SCRIPT.format(before='print("npm WARN junk", flush=True)', faults=""),
            allow_loopback_links=True,
        ),
        some_link,
    ),
    "exits_at_start_echoing_its_arguments": (
        process(
            "import sys\n"
            "print('bad arguments: ' + ' '.join(sys.argv), file=sys.stderr)\n"
            "sys.exit(3)\n"
        ),
        simulated,
    ),
    "handshake_never_answered": (
        process(
            "import sys, time\nsys.stdin.readline()\ntime.sleep(60)\n",
            timeouts=Timeouts(connect_s=1.0, probe_s=1.0),
        ),
        simulated,
    ),
    "tools_list_never_answered": (
        process(
            "import sys, json, time\n"
            "req = json.loads(sys.stdin.readline())\n"
            "print(json.dumps({'jsonrpc': '2.0', 'id': req['id'], 'result': {"
            "'protocolVersion': req['params']['protocolVersion'], 'capabilities': {'tools': {}},"
            "'serverInfo': {'name': 'mute', 'version': '1'}}}), flush=True)\n"
            "time.sleep(60)\n"
        ),
        simulated,
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
async def test_fault(
    case: str,
    clock: FakeClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG, logger="maya")
    build, check = CASES[case]
    with SandboxStore(MEMORY) as store:
        client = build(store, clock, tmp_path)
        calls = count_client_calls(client)
        link: PaymentLink | None = None
        error: StripeMCPError | None = None
        started = time.monotonic()
        with anyio.fail_after(BOUND + 5):
            async with client:
                try:
                    link = await client.create_payment_link(1500, "Tab", f"key-{case}")
                    if not link.is_simulated and client.dialect_name != "named":
                        # Asked again with the "write sent" mark found: looked up, not made.
                        again = await client.create_payment_link(
                            1500, "Tab", f"key-{case}", look_first=True
                        )
                        assert again.payment_id == link.payment_id
                except StripeMCPError as exc:
                    error = exc
        seconds = time.monotonic() - started
        outcome = Outcome(link, error, seconds)
        assert seconds < BOUND, outcome
        assert clock() - 1000.0 < 60.0  # the retry budget, on the injected clock (starts at 1000)
        check(outcome, store, calls)
        keys = [
            row["metadata"].get("idempotency_key") for row in store.list_payment_links(limit=100)[0]
        ]
        assert len(keys) == len(set(keys))  # never two links for one key
    if link is not None and not link.is_simulated:
        assert link.url.startswith(("https://buy.stripe.com/", CHECKOUT)), link.url
    out, err = capfd.readouterr()
    for text in (out, err, caplog.text, str(error), repr(error)):
        assert SECRET not in text


async def test_schema_drift_is_a_clear_error_naming_tool_and_field(clock: FakeClock) -> None:
    server = MCPServer("drifted")

    @server.tool()
    def stripe_api_write(
        stripe_api_operation_id: str, parameters: dict[str, Any], confirm_token: str
    ) -> str:
        """A write that now wants a field Maya does not send."""
        raise AssertionError("must not be called: the schema check stops it first")

    @server.tool()
    def stripe_api_read(stripe_api_operation_id: str, parameters: dict[str, Any]) -> str:
        """Reads."""
        return "{}"

    client = StripeMCPClient.in_memory(server, clock=clock, sleep=clock.sleep)
    with anyio.fail_after(10), pytest.raises(StripeSchemaError) as info:
        async with client:
            await client.create_payment_link(1500, "Tab", "drift")
    assert info.value.tool == "stripe_api_write"
    assert "confirm_token" in str(info.value)
    assert info.value.attempts == 1


async def test_the_chosen_account_is_used_when_there_are_several(
    clock: FakeClock,
) -> None:
    accounts = [
        SandboxAccount("acct_1A", livemode=False, name="A"),
        SandboxAccount("acct_1B", livemode=False, name="B"),
        SandboxAccount("acct_1L", livemode=True, name="Live"),
    ]
    with SandboxStore(MEMORY) as store:
        server = build_mcp_server(store, checkout_base_url=CHECKOUT, accounts=accounts)
        client = StripeMCPClient.in_memory(
            server, clock=clock, sleep=clock.sleep, stripe_account="acct_1B"
        )
        async with client:
            link = await client.create_payment_link(1500, "Tab", "acct")
    assert not link.is_simulated


async def test_a_live_key_without_opt_in_is_refused_without_showing_it() -> None:
    config = McpServerConfig(
        name="stripe",
        transport="stdio",
        command="npx",
        args=("-y", "@stripe/mcp", "--api-key=sk_live_51SuperSecret000"),  # type: ignore[arg-type]
        mode="live",
    )
    with pytest.raises(LiveModeRefusedError) as info:
        StripeMCPClient.from_config(config)
    assert "SuperSecret" not in str(info.value)


async def test_a_server_that_dies_while_polling_is_not_respawned_per_poll(
    tmp_path: Path, clock: FakeClock
) -> None:
    script = tmp_path / "server.py"
    script.write_text(
        SANDBOX_SCRIPT.format(before="", faults="crash_after=0,only=GetCheckoutSessions")
    )
    config = McpServerConfig(
        name="dies",
        transport="stdio",
        command=sys.executable,
        args=(script.as_posix(),),  # type: ignore[arg-type]
        mode="test",
    )
    client = StripeMCPClient.from_config(
        config,
        clock=clock,
        sleep=clock.sleep,
        timeouts=Timeouts(connect_s=10),
        status_bounds=StatusBounds(),  # background polling: long enough for three spawns
    )
    started = time.monotonic()
    with anyio.fail_after(30):
        async with client:
            with pytest.raises(StripeUnavailableError) as info:
                await client.check_payment_status("plink_123", poll_interval=0.01)
            # Later checks answer at once, without spawning anything.
            spawned = sessions_attempted(client)
            with pytest.raises(StripeUnavailableError):
                await client.check_payment_status("plink_123", poll_interval=0.01)
            assert sessions_attempted(client) == spawned
    assert time.monotonic() - started < 20
    assert spawned == 3  # not one per poll: three lost sessions open the breaker
    assert info.value.code.value == "STRIPE_UNAVAILABLE"


async def test_a_link_that_may_exist_is_never_replaced_by_a_simulated_one(
    clock: FakeClock,
) -> None:
    """The write acted but its answer was lost, and the lookup is down too: the client
    says so instead of simulating, and the next ask finds the link instead of writing."""
    server = MCPServer("flaky-lookup")
    made: list[dict[str, Any]] = []
    lookups_work = anyio.Event()

    @server.tool()
    async def stripe_api_write(stripe_api_operation_id: str, parameters: dict[str, Any]) -> str:
        """Writes; the link write acts, then never answers."""
        if stripe_api_operation_id == "PostPrices":
            return json.dumps({"id": "price_1"})
        made.append(
            {
                "id": f"plink_{len(made) + 1}",
                "url": "https://buy.stripe.com/test_ok",
                "metadata": parameters["metadata"],
                "active": True,
            }
        )
        await anyio.sleep_forever()
        return ""

    @server.tool()
    async def stripe_api_read(stripe_api_operation_id: str, parameters: dict[str, Any]) -> str:
        """Lists links, once lookups work again."""
        if not lookups_work.is_set():
            await anyio.sleep_forever()
        return json.dumps({"object": "list", "data": made, "has_more": False})

    client = StripeMCPClient.in_memory(
        server, clock=clock, sleep=clock.sleep, timeouts=Timeouts(call_s=0.2)
    )
    with anyio.fail_after(BOUND):
        async with client:
            with pytest.raises(StripeMCPError, match="may have been made") as unknown:
                await client.create_payment_link(1500, "Tab", "unknown-outcome")
            assert unknown.value.link_maybe_created is True  # the caller keeps its mark
            lookups_work.set()
            link = await client.create_payment_link(1500, "Tab", "unknown-outcome", look_first=True)
    assert not link.is_simulated
    assert [m["id"] for m in made] == ["plink_1"]
    assert link.payment_id == "plink_1"
