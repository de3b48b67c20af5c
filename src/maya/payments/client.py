"""``StripeMCPClient``: payment links over a persistent MCP session, with retries and fallbacks.

Every operation runs one skeleton (reach the server, take a time budget, retry, prepare
the dialect, act); everything returned is Maya's own type, everything raised a
``StripeMCPError``. The guarantees are told in ``.kiro/specs/payments/design.md``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal, Self, TypeVar

import anyio
from mcp.server import Server
from mcp.server.mcpserver import MCPServer
from tenacity import AsyncRetrying

from maya.payments._arguments import validate_link_request, validate_payment_id
from maya.payments._failures import CallFailure
from maya.payments._links import STRIPE_LINK_HOSTS, check_link_url
from maya.payments._schema import check_arguments
from maya.payments._session import McpSession, StartingError, ToolInfo, ToolReply
from maya.payments._simulated import is_simulated_id, simulated_link, simulated_status
from maya.payments._transports import Connector, connector_for, in_memory_connector
from maya.payments.config import McpServerConfig, ensure_mode_allowed
from maya.payments.dialects import (
    Dialect,
    DialectUnsupportedError,
    LinkCreated,
    LinkProgress,
    LinkRequest,
    StatusReading,
    choose_dialect,
)
from maya.payments.errors import (
    PaymentLinkCreationError,
    PaymentNotFoundError,
    PaymentStatusTimeoutError,
    PaymentStatusUnsupportedError,
    StripeAccountError,
    StripeSchemaError,
    StripeUnavailableError,
    UnsafePaymentLinkError,
)
from maya.payments.results import PaymentLink, PaymentStatusResult, StripeMode
from maya.retry import Clock, RetryPolicy, Sleep

__all__ = [
    "CHAT_STATUS_BOUNDS",
    "MAX_STATUS_POLLS",
    "StatusBounds",
    "StripeMCPClient",
    "Timeouts",
    "WriteHook",
]

_log = logging.getLogger("maya.payments")

T = TypeVar("T")

MAX_STATUS_POLLS = 15
"""``check_payment_status`` reads the status at most this many times."""

AVAILABILITY_TTL_S = 30.0
"""Seconds a probe's answer is reused; also how long a server that failed to start is
left alone before it is spawned again."""

WriteHook = Callable[[float], Awaitable[None]]
"""``before_write(seconds)``: make the "link write sent" mark durable before the write
goes out; ``seconds`` is how long that write may stay in flight. Raise to stop it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Timeouts:
    """How long reaching the server and one call may take.

    Attributes:
        call_s: One MCP call within an operation.
        probe_s: The availability probe (``tools/list``) once connected.
        connect_s: Opening a new session (spawn and handshake; a cold ``npx`` is slow).
    """

    call_s: float = 5.0
    probe_s: float = 5.0
    connect_s: float = 30.0


@dataclass(frozen=True, slots=True)
class StatusBounds:
    """How long ``StripeMCPClient.check_payment_status`` polls.

    The defaults suit a background job (settlement polling); a customer who is waiting
    gets ``CHAT_STATUS_BOUNDS``, the client's default.

    Attributes:
        poll_interval_s: between two reads of the status.
        poll_timeout_s: for one read.
        deadline_s: for the whole check.
    """

    poll_interval_s: float = 2.0
    poll_timeout_s: float = 5.0
    deadline_s: float = 30.0


CHAT_STATUS_BOUNDS = StatusBounds(poll_interval_s=0.5, poll_timeout_s=2.0, deadline_s=4.0)
"""Status-check bounds for a chat turn: a customer is waiting for the answer."""


class _Unset:
    """No fresh probe answer: ask the server."""


_UNSET = _Unset()


class _Operation:
    """One operation's time budget, on the client's clock, and the calls made within it.

    It is the dialects' ``ToolCaller``: each call gets what is left of the budget, at
    most ``call_s``.
    """

    def __init__(
        self,
        client: StripeMCPClient,
        *,
        seconds: float,
        call_s: float,
    ) -> None:
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
        check_arguments(client._tools.get(tool), tool, arguments)
        return await client._session.call_tool(
            tool, arguments, time_limit=timeout, op=op, repeat_safe=repeat_safe
        )

    async def run(
        self,
        dialect: Dialect,
        act: Callable[[Dialect, _Operation], Awaitable[T]],
        retrying: AsyncRetrying,
    ) -> T:
        """Attempts (prepare the dialect, then act) as ``retrying`` allows, within the budget.

        Raises:
            CallFailure: the last attempt's, or ``timeout`` when the budget ran out.
        """
        client = self.client
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


def _fatal_to_status(failure: CallFailure) -> bool:
    """A status read failure that ends the check at once (see ``_status_failure``)."""
    return failure.stripe_code in ("resource_missing", "operation_unavailable") or (
        failure.kind == "connect" and not isinstance(failure, StartingError)
    )


def _poll_again(exc: BaseException) -> bool:
    return isinstance(exc, CallFailure) and not _fatal_to_status(exc)


def _still_open(reading: StatusReading) -> bool:
    return reading.status == "pending"


class StripeMCPClient:
    """Creates, deactivates and checks Stripe payment links over MCP.

    Use it as an async context manager (``async with client:``), entered and exited in
    the same task; build it with ``open_stripe_client()``, ``from_config`` or
    ``in_memory``.

    Args:
        connector: Makes an ``mcp.Client`` for each (re)connection.
        server_name: The server's name, for logs and errors.
        mode: ``test`` or ``live``; live is refused unless ``allow_live``.
        allow_live: Permit live mode (``MAYA_ALLOW_LIVE=1``).
        retries: How a link write or deactivation is retried, and its overall budget.
        timeouts: How long opening a session, the probe and one call may take.
        status_bounds: How long a status check polls (default ``CHAT_STATUS_BOUNDS``: a
            customer is waiting; ``StatusBounds()`` polls long, for background settlement).
        currency: Currency of links made without one.
        provider: ``sandbox`` when the server is Maya's offline stand-in (links and
            statuses then say so); default ``stripe``.
        stripe_account: The account to act on when the hosted server offers several
            (``MAYA_STRIPE_ACCOUNT``).
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
            on_connection_error=self._forget_probe,
            connect_timeout=self.timeouts.connect_s,
            retry_after=AVAILABILITY_TTL_S,
            clock=clock,
        )
        self._tools: dict[str, ToolInfo] = {}
        self._probed: tuple[float, Dialect | None] | None = None  # when, and what was found
        self._current_dialect: Dialect | None = None
        self._probe_lock = anyio.Lock()
        self._last_probe_failure: str | None = None
        self._stack: AsyncExitStack | None = None

    # -- construction ----------------------------------------------------------------

    @classmethod
    def from_config(
        cls, config: McpServerConfig, *, allow_live: bool = False, **options: Any
    ) -> StripeMCPClient:
        """A client for a server from ``mcp.json`` (stdio or streamable HTTP).

        Args:
            config: The server; its ``mode`` comes from the configured key.
            allow_live: Permit live mode.
            **options: Keyword arguments of the constructor.

        Raises:
            LiveModeRefusedError: the key is live and ``allow_live`` is False.
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
        """A client talking to an MCP server in this process (tests, the demo).

        Args:
            server: e.g. ``maya.sandbox.build_mcp_server(store, checkout_base_url=...)``.
            mode: What to treat the server as; the sandbox is ``test``.
            server_name: For logs and errors.
            allow_live: Permit ``mode="live"``.
            **options: Keyword arguments of the constructor.

        Raises:
            LiveModeRefusedError: ``mode`` is live and ``allow_live`` is False.
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
        dialect = self._fresh_probe()
        return dialect.name if isinstance(dialect, Dialect) else None

    # -- availability ----------------------------------------------------------------

    async def is_available(self) -> bool:
        """Whether the server answers ``tools/list`` with a usable dialect.

        Opening a session is bounded by ``timeouts.connect_s``, the probe by
        ``timeouts.probe_s``. The answer, good or bad, is reused for 30 s (a broken
        connection forgets it), except "still starting", which is never remembered.
        """
        return await self._reach() is not None

    def _forget_probe(self) -> None:
        self._probed = None

    def _fresh_probe(self) -> Dialect | _Unset | None:
        probed = self._probed
        if probed is None or self._clock() - probed[0] >= AVAILABILITY_TTL_S:
            return _UNSET
        return probed[1]

    async def _probe(self) -> Dialect | None:
        async with self._probe_lock:
            known = self._fresh_probe()
            if not isinstance(known, _Unset):
                return known
            dialect: Dialect | None = None
            try:
                tools = await self._session.list_tools(time_limit=self.timeouts.probe_s)
            except StartingError as failure:
                # Not a verdict: the server is still starting; the next call asks again.
                self._last_probe_failure = failure.describe()
                return None
            except CallFailure as failure:
                self._last_probe_failure = failure.describe()
            else:
                self._tools = {tool.name: tool for tool in tools}
                dialect = choose_dialect(tools)
                previous = self._current_dialect
                if dialect is not None and previous is not None and previous.name == dialect.name:
                    previous.tools = dialect.tools
                    dialect = previous  # keeps what it learned (the hosted account)
                if dialect is None:
                    self._last_probe_failure = (
                        "no Stripe dialect in tools/list: " + ", ".join(sorted(self._tools))[:200]
                    )
                self._current_dialect = dialect
            self._probed = (self._clock(), dialect)
            return dialect

    async def _reach(self) -> Dialect | None:
        """The dialect, waiting at most for a start plus a probe."""
        known = self._fresh_probe()
        if not isinstance(known, _Unset):
            return known
        seconds = self.connect_timeout + self.timeouts.probe_s
        with anyio.move_on_after(seconds):
            return await self._probe()
        self._last_probe_failure = f"no answer within {seconds:.1f}s"
        return None

    def _retrying(self, op: _Operation) -> AsyncRetrying:
        return self.retry_policy.retrying(clock=self._clock, sleep=self._sleep, started=op.started)

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

        Stripe does not deduplicate links: the caller keeps the durable "write sent" mark
        (``before_write``) and asks with ``look_first`` whenever it finds one, and the
        link is then looked up by its key before anything is written. Transient failures
        are retried with the same key; after an ambiguous failure of the write, the
        retry looks first too. When the server is unavailable or retries run out and no
        write may have acted, test mode returns a simulated link (``is_simulated=True``);
        live mode raises. When the link may exist and could not be found, this raises
        (``link_maybe_created``): the next call looks again.

        Args:
            amount_cents: Positive integer in the currency's minor unit, at most 99,999,999
                (three-decimal currencies: a multiple of 10).
            description: Product name the customer sees.
            idempotency_key: Stored on the link as metadata; the key it is found by.
            currency: Lower-case ISO 4217 code; default the client's ``currency``.
            metadata: Extra metadata stored on the link (generic dialect).
            look_first: A write for this key may have reached Stripe before (another
                call, process or run): look the link up before writing.
            before_write: Awaited right before each link write is sent, with the
                seconds that write may stay in flight; it makes the "write sent" mark
                durable, or raises to stop the write (the exception propagates).

        Returns:
            The link.

        Raises:
            PaymentRequestInvalidError: an argument is invalid (never retried).
            PaymentLinkCreationError: Stripe refused the request, the outcome was left
                unknown, or (live mode) retries ran out.
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
        dialect = await self._reach()
        if dialect is None:
            return self._unavailable_link(request, reach_started, maybe_created=look_first)
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
                self._retrying(op),
            )
        except CallFailure as failure:
            return self._failed_link(
                request,
                failure,
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

    def _unavailable_link(
        self, request: LinkRequest, started: float, *, maybe_created: bool
    ) -> PaymentLink:
        reason = self._last_probe_failure or "unavailable"
        if maybe_created:
            # A link may exist (an earlier write): a simulated one could stand beside it.
            raise StripeUnavailableError(
                "Stripe's MCP server is unavailable to look the payment link up",
                server=self.server_name,
                elapsed=self._clock() - started,
                last_error=reason,
                link_maybe_created=True,
            )
        if self.mode == "test":
            _log.warning(
                "payments: server=%s unavailable (%s); simulated link in test mode",
                self.server_name,
                reason,
            )
            return simulated_link(request)
        raise StripeUnavailableError(
            "Stripe's MCP server is unavailable",
            server=self.server_name,
            elapsed=self._clock() - started,
            last_error=reason,
            link_maybe_created=False,
        )

    def _failed_link(
        self,
        request: LinkRequest,
        failure: CallFailure,
        *,
        attempts: int,
        elapsed: float,
        maybe_created: bool = False,
    ) -> PaymentLink:
        details: dict[str, Any] = {
            "server": self.server_name,
            "attempts": attempts,
            "elapsed": elapsed,
            "last_error": failure.describe(),
            "link_maybe_created": maybe_created,
        }
        if failure.kind == "schema":
            raise StripeSchemaError(
                "Stripe's MCP tools no longer accept Maya's call", tool=failure.tool, **details
            )
        if failure.stripe_code in ("account_missing", "account_ambiguous"):
            raise StripeAccountError("no Stripe account to act on", **details)
        if failure.kind == "rejected":
            raise PaymentLinkCreationError("Stripe refused to create the payment link", **details)
        if maybe_created:
            # A simulated link now could stand beside a real, payable one.
            raise PaymentLinkCreationError(
                "the payment link may have been made; ask again to look it up", **details
            )
        if self.mode == "test":
            _log.warning(
                "payments: server=%s attempts=%d failed (%s); simulated link in test mode",
                self.server_name,
                attempts,
                failure.describe(),
            )
            return simulated_link(request)
        if failure.kind == "connect":
            raise StripeUnavailableError("Stripe's MCP server could not be reached", **details)
        raise PaymentLinkCreationError("the payment link could not be created", **details)

    async def deactivate_payment_link(self, payment_id: str) -> bool:
        """Deactivate a link so it can no longer be paid.

        Never raises for Stripe-side trouble: it reports whether the link is now
        inactive, and logs why not.

        Args:
            payment_id: The link's id.

        Returns:
            True when the link was deactivated (simulated links: always, in test mode);
            False when the dialect cannot deactivate (named), the server is
            unavailable, retries ran out, or Stripe refused.

        Raises:
            PaymentRequestInvalidError: ``payment_id`` is not a non-empty string.
        """
        payment_id = validate_payment_id(payment_id)
        if is_simulated_id(payment_id):
            return self.mode == "test"
        dialect = await self._reach()
        if dialect is None:
            reason = self._last_probe_failure or "unavailable"
        elif not dialect.supports_deactivate:
            reason = f"the {dialect.name} dialect cannot deactivate links"
        else:
            op = self._operation()
            try:
                await op.run(
                    dialect,
                    lambda dialect, call: dialect.deactivate(call, payment_id),
                    self._retrying(op),
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

        At most 15 polls, ``poll_interval`` apart, each bounded by ``poll_timeout``, all
        within ``deadline`` seconds (reaching the server included).

        Args:
            payment_id: The link's id.
            poll_interval: Seconds between polls (default: ``status_bounds``).
            poll_timeout: Seconds one poll may take (default: ``status_bounds``).
            deadline: Seconds for the whole check (default: ``status_bounds``).

        Returns:
            ``succeeded`` or ``failed`` as soon as seen; ``pending`` (not paid yet) when
            Stripe answered and the link was still open at the deadline. Simulated links
            (test mode) answer ``simulated`` at once: no money moved.

        Raises:
            PaymentRequestInvalidError: ``payment_id`` is not a non-empty string.
            PaymentStatusUnsupportedError: the dialect cannot read status (named).
            PaymentNotFoundError: Stripe does not know the link, or a simulated id was
                given in live mode.
            StripeUnavailableError: the server is unavailable.
            PaymentStatusTimeoutError: no poll got an answer before the deadline (the
                one case that reads as ``timeout``).
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
            dialect = await self._reach()
        if dialect is None:
            if reaching.cancelled_caught:
                raise self._status_timeout(op, seconds)
            raise StripeUnavailableError(
                "Stripe's MCP server is unavailable",
                server=self.server_name,
                elapsed=op.elapsed(),
                last_error=self._last_probe_failure,
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
        ).retrying(
            clock=self._clock,
            sleep=self._sleep,
            started=op.started,
            retry_if=_poll_again,
            again_if=_still_open,
        )
        try:
            reading = await op.run(
                dialect, lambda dialect, call: dialect.read_status(call, payment_id), polling
            )
        except DialectUnsupportedError as exc:
            raise PaymentStatusUnsupportedError(str(exc), server=self.server_name) from None
        except CallFailure as failure:
            self._status_failure(failure, payment_id, op)
            if op.answers == 0:
                raise self._status_timeout(op, seconds) from None
            reading = StatusReading(status="pending")
        if reading.status == "pending":
            # Stripe answered and the link is still open: not paid yet, which is an answer.
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

    def _status_failure(self, failure: CallFailure, payment_id: str, op: _Operation) -> None:
        """Raise what a failure that ends a status check at once means; else return."""
        if failure.stripe_code == "resource_missing":
            raise PaymentNotFoundError(
                f"Stripe has no payment link {payment_id}", server=self.server_name
            ) from None
        if failure.stripe_code == "operation_unavailable":
            raise PaymentStatusUnsupportedError(failure.summary, server=self.server_name) from None
        if _fatal_to_status(failure):
            # The server is down and will not be restarted in this window:
            # say so now rather than polling a corpse until the deadline.
            raise StripeUnavailableError(
                "Stripe's MCP server is unavailable",
                server=self.server_name,
                attempts=op.attempts,
                elapsed=op.elapsed(),
                last_error=failure.describe(),
            ) from None

    def _status_timeout(self, op: _Operation, seconds: float) -> PaymentStatusTimeoutError:
        last = op.last_failure
        return PaymentStatusTimeoutError(
            "no status read succeeded before the deadline",
            server=self.server_name,
            attempts=op.attempts,
            elapsed=op.elapsed(),
            last_error=last.describe() if last else f"no answer within {seconds:.1f}s",
        )

    def _operation(self) -> _Operation:
        return _Operation(
            self, seconds=self.retry_policy.overall_timeout, call_s=self.timeouts.call_s
        )
