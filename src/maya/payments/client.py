"""``StripeMCPClient``: payment links over a persistent MCP session, with retries and fallbacks.

One skeleton for every operation: reach the server, take a time budget, retry, prepare
the dialect, act. It returns Maya's own types and raises only ``StripeMCPError``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import anyio
from mcp.server import Server
from mcp.server.mcpserver import MCPServer

from maya.payments._arguments import validate_link_request, validate_payment_id
from maya.payments._availability import Availability
from maya.payments._failures import CallFailure
from maya.payments._links import STRIPE_LINK_HOSTS, check_link_url
from maya.payments._schema import check_arguments
from maya.payments._session import McpSession, ToolReply
from maya.payments._simulated import (
    failed_link,
    is_simulated_id,
    simulated_status,
    unreachable_link,
)
from maya.payments._status import poll_again, status_error, status_timeout, still_open
from maya.payments._transports import Connector, connector_for, in_memory_connector
from maya.payments.config import McpServerConfig, ensure_mode_allowed
from maya.payments.dialects import (
    Dialect,
    DialectUnsupportedError,
    LinkCreated,
    LinkProgress,
    StatusReading,
)
from maya.payments.errors import (
    PaymentLinkCreationError,
    PaymentNotFoundError,
    PaymentStatusUnsupportedError,
    StripeUnavailableError,
    UnsafePaymentLinkError,
)
from maya.payments.results import PaymentLink, PaymentStatusResult, StripeMode
from maya.payments.settings import (
    AVAILABILITY_TTL_S,
    CHAT_STATUS_BOUNDS,
    MAX_STATUS_POLLS,
    StatusBounds,
    Timeouts,
)
from maya.retry import Clock, RetryPolicy, Sleep

__all__ = ["StripeMCPClient", "WriteHook"]

_log = logging.getLogger("maya.payments")

T = TypeVar("T")

WriteHook = Callable[[float], Awaitable[None]]
"""``before_write(seconds)``: make the "link write sent" mark durable before the write
goes out; ``seconds`` is how long that write may stay in flight. Raise to stop it."""


class _Operation:
    """One operation's time budget, on the client's clock, and the calls made within it.

    It is the dialects' ``ToolCaller``: each call gets what is left of the budget, at
    most ``call_s``.
    """

    def __init__(self, client: StripeMCPClient, *, seconds: float, call_s: float) -> None:
        self.client = client
        self.seconds = seconds
        self.call_s = call_s
        self.started = client._clock()
        self.attempts = 0
        self.answers = 0
        self.last_failure: CallFailure | None = None

    def remaining(self) -> float:
        return self.seconds - (self.client._clock() - self.started)

    def elapsed(self) -> float:
        return self.client._clock() - self.started

    async def __call__(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        op: str | None = None,
        repeat_safe: bool = False,
    ) -> ToolReply:
        timeout = min(self.call_s, self.remaining())
        if timeout <= 0:
            raise CallFailure("timeout", "the operation's time budget is spent", tool=tool)
        client = self.client
        check_arguments(client._availability.tools.get(tool), tool, arguments)
        return await client._session.call_tool(
            tool, arguments, time_limit=timeout, op=op, repeat_safe=repeat_safe
        )

    async def run(
        self,
        dialect: Dialect,
        act: Callable[[Dialect, _Operation], Awaitable[T]],
        policy: RetryPolicy,
        **conditions: Callable[[Any], bool],
    ) -> T:
        """Attempts (prepare the dialect, then act) as ``policy`` allows, within the budget;
        ``conditions`` are ``RetryPolicy.retrying``'s ``retry_if`` and ``again_if``.

        Raises:
            CallFailure: the last attempt's, or ``timeout`` when the budget ran out.
        """
        client = self.client
        retrying = policy.retrying(
            clock=client._clock, sleep=client._sleep, started=self.started, **conditions
        )
        with anyio.move_on_after(self.remaining()):
            async for attempt in retrying:
                self.attempts += 1
                with attempt:
                    try:
                        await dialect.prepare(
                            self, livemode=client.mode == "live", account=client.stripe_account
                        )
                        answer = await act(dialect, self)
                    except CallFailure as failure:
                        self.last_failure = failure
                        raise
                    self.answers += 1
                if (
                    attempt.retry_state.outcome is not None
                    and not attempt.retry_state.outcome.failed
                ):
                    attempt.retry_state.set_result(answer)
            return answer
        raise CallFailure("timeout", f"no answer within {self.seconds:.1f}s")


class StripeMCPClient:
    """Creates, deactivates and checks Stripe payment links over MCP.

    Use it as an async context manager, entered and exited in the same task; build it
    with ``open_stripe_client()``, ``from_config`` or ``in_memory``.

    Args:
        connector: Makes an ``mcp.Client`` for each (re)connection.
        server_name: The server's name, for logs and errors.
        mode: ``test`` or ``live``; live is refused unless ``allow_live``.
        allow_live: Permit live mode (``MAYA_ALLOW_LIVE=1``).
        retries: How a link write or deactivation is retried, and its overall budget.
        timeouts: How long opening a session, the probe and one call may take.
        status_bounds: How long a status check polls (default ``CHAT_STATUS_BOUNDS``).
        currency: Currency of links made without one.
        provider: ``sandbox`` for Maya's offline stand-in (links and statuses say so).
        stripe_account: The account to act on when the hosted server offers several.
        link_hosts: Hosts a link's ``https`` URL may be on (default: Stripe's).
        allow_loopback_links: Accept links on this machine (the sandbox).
        clock: Monotonic seconds; tests pass a fake.
        sleep: Waits between retries and polls; tests pass a fake.

    Raises:
        LiveModeRefusedError: ``mode`` is live and ``allow_live`` is False.
    """

    def __init__(
        self,
        connector: Connector,
        *,
        server_name: str,
        mode: StripeMode,
        allow_live: bool = False,
        retries: RetryPolicy | None = None,
        timeouts: Timeouts | None = None,
        status_bounds: StatusBounds | None = None,
        currency: str = "usd",
        provider: Literal["stripe", "sandbox"] = "stripe",
        stripe_account: str | None = None,
        link_hosts: Collection[str] | None = None,
        allow_loopback_links: bool = False,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        ensure_mode_allowed(mode, allow_live=allow_live, server=server_name)
        self.server_name = server_name
        self.mode: StripeMode = mode
        self.retry_policy = retries or RetryPolicy()
        self.timeouts = timeouts or Timeouts()
        self.status_bounds = status_bounds or CHAT_STATUS_BOUNDS
        self.currency = currency
        self.provider: Literal["stripe", "sandbox"] = provider
        self.stripe_account = stripe_account
        self.link_hosts = frozenset(h.lower() for h in (link_hosts or STRIPE_LINK_HOSTS))
        self.allow_loopback_links = allow_loopback_links
        self._clock = clock
        self._sleep = sleep
        self._session = McpSession(
            connector,
            server_name=server_name,
            on_connection_error=lambda: self._availability.forget(),
            connect_timeout=self.timeouts.connect_s,
            retry_after=AVAILABILITY_TTL_S,
            clock=clock,
        )
        self._availability = Availability(self._session, probe_s=self.timeouts.probe_s, clock=clock)
        self._stack: AsyncExitStack | None = None

    # -- construction ----------------------------------------------------------------

    @classmethod
    def from_config(
        cls, config: McpServerConfig, *, allow_live: bool = False, **options: Any
    ) -> StripeMCPClient:
        """A client for a server from ``mcp.json`` (stdio or streamable HTTP); its ``mode``
        comes from the configured key.

        ``options`` are the constructor's; live mode is refused unless ``allow_live``.
        """
        options.setdefault("allow_loopback_links", config.is_local)
        options.setdefault("provider", "sandbox" if config.is_local else "stripe")
        return cls(
            connector_for(config),
            server_name=config.name,
            mode=config.mode,
            allow_live=allow_live,
            **options,
        )

    @classmethod
    def in_memory(
        cls,
        server: MCPServer[Any] | Server[Any],
        *,
        mode: StripeMode = "test",
        server_name: str = "in-memory",
        allow_live: bool = False,
        **options: Any,
    ) -> StripeMCPClient:
        """A client for an MCP server in this process (tests, the demo), e.g.
        ``maya.sandbox.build_mcp_server(store, checkout_base_url=...)``.

        ``options`` are the constructor's; live mode is refused unless ``allow_live``.
        """
        options.setdefault("allow_loopback_links", True)
        options.setdefault("provider", "sandbox")
        return cls(
            in_memory_connector(server),
            server_name=server_name,
            mode=mode,
            allow_live=allow_live,
            **options,
        )

    # -- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._stack is not None:
            raise RuntimeError("StripeMCPClient is already open")
        stack = AsyncExitStack()
        task_group = await stack.enter_async_context(anyio.create_task_group())
        self._session.attach(task_group)
        self._stack = stack
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the MCP session; call it from the task that opened the client."""
        stack, self._stack = self._stack, None
        await self._session.aclose()
        if stack is not None:
            await stack.aclose()

    @property
    def connect_timeout(self) -> float:
        """Seconds a new session may take to open; an open session is used until it fails."""
        return self._session.connect_timeout

    @connect_timeout.setter
    def connect_timeout(self, seconds: float) -> None:
        self._session.connect_timeout = seconds

    @property
    def connect_count(self) -> int:
        """MCP sessions opened so far; stays 1 while the session is healthy."""
        return self._session.connect_count

    @property
    def connected(self) -> bool:
        """Whether an MCP session is open right now."""
        return self._session.connected

    @property
    def dialect_name(self) -> str | None:
        """``hosted``, ``generic`` or ``named`` per the last probe; None when unknown."""
        dialect = self._availability.known()
        return dialect.name if isinstance(dialect, Dialect) else None

    # -- availability ----------------------------------------------------------------

    async def is_available(self) -> bool:
        """Whether the server answers ``tools/list`` with a usable dialect.

        Opening a session is bounded by ``timeouts.connect_s``, the probe by
        ``timeouts.probe_s``. The answer, good or bad, is reused for 30 s (a broken
        connection forgets it), except "still starting", which is never remembered.
        """
        return await self._availability.reach() is not None

    # -- payment links ---------------------------------------------------------------

    async def create_payment_link(
        self,
        amount_cents: int,
        description: str,
        idempotency_key: str,
        *,
        currency: str | None = None,
        metadata: Mapping[str, str] | None = None,
        look_first: bool = False,
        before_write: WriteHook | None = None,
    ) -> PaymentLink:
        """Make a payment link for ``idempotency_key``, or find the one a write already made.

        Transient failures retry with the same key. With ``look_first`` (the caller found
        its durable "write sent" mark), or after an ambiguous failure of the write, the
        link is looked up by its key before anything is written. Unreachable or out of
        retries with no write that may have acted: a simulated link in test mode.

        Args:
            amount_cents: Minor units, 1 to 99,999,999 (three decimals: a multiple of 10).
            description: Product name the customer sees.
            idempotency_key: Stored on the link as metadata; the key it is found by.
            currency: Lower-case ISO 4217 code; default the client's ``currency``.
            metadata: Extra metadata stored on the link (generic dialect).
            look_first: A write for this key may have reached Stripe before.
            before_write: Awaited before each link write with the seconds it may stay in
                flight: makes the "write sent" mark durable, or raises to stop the write.

        Raises:
            PaymentRequestInvalidError: an argument is invalid (never retried).
            PaymentLinkCreationError: refused, outcome unknown, or (live) out of retries.
            UnsafePaymentLinkError: the server answered with a URL Maya will not hand out.
            StripeSchemaError: the server's tool schema no longer fits Maya's call.
            StripeAccountError: the hosted server's accounts do not say which to use.
            StripeUnavailableError: live mode, and the server could not be reached.
            Exception: whatever ``before_write`` raised; that write was not sent.
        """
        request = validate_link_request(
            amount_cents,
            description,
            idempotency_key,
            currency=self.currency if currency is None else currency,
            metadata=metadata,
        )
        reach_started = self._clock()
        dialect = await self._availability.reach()
        if dialect is None:
            return unreachable_link(
                request,
                mode=self.mode,
                server=self.server_name,
                reason=self._availability.last_failure or "unavailable",
                elapsed=self._clock() - reach_started,
                maybe_created=look_first,
            )
        if look_first and not dialect.supports_lookup:
            # A second write could make a second link, and this server cannot look.
            raise PaymentLinkCreationError(
                f"the payment link may have been made, and the {dialect.name} dialect "
                "cannot look it up",
                server=self.server_name,
                link_maybe_created=True,
            )
        op = self._operation()
        progress = LinkProgress(
            link_maybe_created=look_first, before_write=before_write, time_left=op.remaining
        )
        try:
            created = await op.run(
                dialect,
                lambda dialect, call: dialect.create_link(call, request, progress),
                self.retry_policy,
            )
        except CallFailure as failure:
            return failed_link(
                request,
                failure,
                mode=self.mode,
                server=self.server_name,
                attempts=op.attempts,
                elapsed=op.elapsed(),
                # A write cut off by the budget may have reached Stripe all the same.
                maybe_created=progress.link_maybe_created or progress.in_flight,
            )
        await self._ensure_safe(dialect, created, op.started)
        return PaymentLink(
            payment_id=created.payment_id,
            url=created.url,
            amount_cents=request.amount_cents,
            currency=request.currency,
            description=request.description,
            idempotency_key=request.idempotency_key,
            provider=self.provider,
            created_at=datetime.fromtimestamp(created.created, UTC)
            if created.created is not None
            else None,
        )

    async def _ensure_safe(self, dialect: Dialect, created: LinkCreated, started: float) -> None:
        problem = check_link_url(
            created.url, hosts=self.link_hosts, allow_loopback=self.allow_loopback_links
        )
        if problem is None:
            return
        deactivated = False
        if dialect.supports_deactivate:
            call = _Operation(self, seconds=self.timeouts.call_s, call_s=self.timeouts.call_s)
            with anyio.move_on_after(call.remaining()):
                try:
                    await dialect.deactivate(call, created.payment_id)
                    deactivated = True
                except CallFailure:
                    pass
        _log.warning(
            "payments: server=%s answered link %s with an unsafe URL (%s); deactivated=%s",
            self.server_name,
            created.payment_id,
            problem,
            deactivated,
        )
        raise UnsafePaymentLinkError(
            f"Stripe's MCP server answered with a payment link Maya will not hand out ({problem})",
            server=self.server_name,
            elapsed=self._clock() - started,
        )

    async def deactivate_payment_link(self, payment_id: str) -> bool:
        """Deactivate a link so it can no longer be paid; True when it now is.

        Never raises for Stripe-side trouble: False (logged) when the dialect cannot
        deactivate (named), the server is unavailable, retries ran out, or Stripe
        refused. A simulated link is deactivated at once in test mode.

        Raises:
            PaymentRequestInvalidError: ``payment_id`` is not a non-empty string.
        """
        payment_id = validate_payment_id(payment_id)
        if is_simulated_id(payment_id):
            return self.mode == "test"
        dialect = await self._availability.reach()
        if dialect is None:
            reason = self._availability.last_failure or "unavailable"
        elif not dialect.supports_deactivate:
            reason = f"the {dialect.name} dialect cannot deactivate links"
        else:
            op = self._operation()
            try:
                await op.run(
                    dialect,
                    lambda dialect, call: dialect.deactivate(call, payment_id),
                    self.retry_policy,
                )
            except CallFailure as failure:
                reason = failure.describe()
            else:
                return True
        _log.warning(
            "payments: server=%s did not deactivate %s: %s", self.server_name, payment_id, reason
        )
        return False

    # -- payment status --------------------------------------------------------------

    async def check_payment_status(
        self,
        payment_id: str,
        *,
        poll_interval: float | None = None,
        poll_timeout: float | None = None,
        deadline: float | None = None,
    ) -> PaymentStatusResult:
        """Poll a link's payment status until it succeeds or fails, or time runs out.

        At most 15 polls, ``poll_interval`` apart, each within ``poll_timeout``, all
        within ``deadline`` seconds, reaching the server included (defaults:
        ``status_bounds``). Still open at the deadline is ``pending`` (not paid yet); a
        simulated link (test mode) is ``simulated`` at once: no money moved.

        Raises:
            PaymentRequestInvalidError: ``payment_id`` is not a non-empty string.
            PaymentStatusUnsupportedError: the dialect cannot read status (named).
            PaymentNotFoundError: Stripe does not know the link, or a simulated id was
                given in live mode.
            StripeUnavailableError: the server is unavailable.
            PaymentStatusTimeoutError: no poll got an answer before the deadline.
        """
        payment_id = validate_payment_id(payment_id)
        if is_simulated_id(payment_id):
            if self.mode != "test":
                raise PaymentNotFoundError(
                    "simulated payments do not exist in live mode", server=self.server_name
                )
            return simulated_status(payment_id)
        bounds = self.status_bounds
        interval = bounds.poll_interval_s if poll_interval is None else poll_interval
        seconds = bounds.deadline_s if deadline is None else deadline
        op = _Operation(
            self,
            seconds=seconds,
            call_s=bounds.poll_timeout_s if poll_timeout is None else poll_timeout,
        )
        dialect: Dialect | None = None
        with anyio.move_on_after(op.remaining()) as reaching:
            dialect = await self._availability.reach()
        if dialect is None:
            if reaching.cancelled_caught:
                raise status_timeout(
                    server=self.server_name,
                    attempts=0,
                    elapsed=op.elapsed(),
                    last=None,
                    seconds=seconds,
                )
            raise StripeUnavailableError(
                "Stripe's MCP server is unavailable",
                server=self.server_name,
                elapsed=op.elapsed(),
                last_error=self._availability.last_failure,
            )
        if not dialect.supports_status:
            raise PaymentStatusUnsupportedError(
                f"the {dialect.name} dialect has no way to read payment status",
                server=self.server_name,
            )
        polling = RetryPolicy(
            max_retries=MAX_STATUS_POLLS - 1,
            initial_wait=interval,
            max_wait=interval,
            overall_timeout=seconds,
        )
        try:
            reading = await op.run(
                dialect,
                lambda dialect, call: dialect.read_status(call, payment_id),
                polling,
                retry_if=poll_again,
                again_if=still_open,
            )
        except DialectUnsupportedError as exc:
            raise PaymentStatusUnsupportedError(str(exc), server=self.server_name) from None
        except CallFailure as failure:
            error = status_error(
                failure,
                payment_id=payment_id,
                server=self.server_name,
                attempts=op.attempts,
                elapsed=op.elapsed(),
                answered=op.answers > 0,
                last=op.last_failure,
                seconds=seconds,
            )
            if error is not None:
                raise error from None
            reading = StatusReading(status="pending")
        if reading.status == "pending":  # still open: not paid yet, which is an answer
            reading = StatusReading(status="pending")
        return PaymentStatusResult(
            payment_id=payment_id,
            status=reading.status,
            amount_paid_cents=reading.amount_paid_cents,
            failure_reason=reading.failure_reason,
            payments_received=reading.paid_count,
            amount_received_cents=reading.total_paid_cents,
            polls=op.attempts,
            provider=self.provider,
            currency=reading.currency,
        )

    def _operation(self) -> _Operation:
        return _Operation(
            self, seconds=self.retry_policy.overall_timeout, call_s=self.timeouts.call_s
        )
