"""``StripeMCPClient``: payment links over a persistent MCP session, with retries and fallbacks.

The client owns a task group (entered by ``async with``) in which its MCP session lives;
see ``_session``. Everything it returns is Maya's own type (``PaymentLink``,
``PaymentStatusResult``) and everything it raises is a ``StripeMCPError``.

Time: every operation is bounded twice, on the injected ``clock`` (which the retry
policy and the status deadline read, so tests with a fake clock and ``sleep`` never
wait) and in real time by ``anyio.move_on_after`` with the same budget, so a hung
server can never hold a caller longer than the budget. Reaching the server is bounded
separately: a first start may take ``connect_timeout`` (30 s: ``npx`` is slow), then the
probe (``tools/list``) ``probe_timeout``, then the operation its own budget.

One link per tab, one rule: Stripe does not deduplicate payment links, so a write
that may have reached Stripe is never re-sent blind. The caller (the tools layer, over
the tab's store) marks its payment record "write sent" in a committed transaction
before each link write (``before_write``), and whoever finds that mark without a real
link asks with ``look_first``: the link is looked up by its idempotency key (metadata)
before anything is written. The mark outlives the process that set it, so a crash, a
restart or a second worker looks first too. Within one call, an ambiguous failure of the
write makes the retry look first as well. Dialects that cannot look up (named) refuse to
write when asked to look first. A link whose outcome stays unknown is never papered over
with a simulated one. The client keeps no link of its own between calls: the store's
record answers a repeated Pay.

Time for a status check: ``status_bounds`` (``CHAT_STATUS_BOUNDS`` by default, a few
seconds, since a customer is usually waiting; ``StatusBounds()`` polls long, for background
settlement), overridable per call. Still open at the deadline is ``pending`` (not paid
yet); only a check that got no answer from Stripe at all is a timeout.

Also here, because only the client uses them: the simulated links of test mode
(``sim_plink_...`` on ``simulated.maya.invalid``) and the ``AvailabilityCache``.

Safe links: a link's URL must be ``https`` on a Stripe host (``buy.stripe.com``,
``checkout.stripe.com``; ``link_hosts`` changes the list), or ``http``/``https`` on a
loopback host for the sandbox. Anything else is deactivated where possible and raised
as ``UnsafePaymentLinkError``; it never reaches the model.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, Literal, Self, TypeVar

import anyio
from mcp.server import Server
from mcp.server.mcpserver import MCPServer

from maya.money import minor_units
from maya.payments._failures import CallFailure
from maya.payments._links import STRIPE_LINK_HOSTS, check_link_url
from maya.payments._schema import check_arguments
from maya.payments._session import McpSession, StartingError, ToolInfo, ToolReply
from maya.payments._transports import Connector, connector_for, in_memory_connector
from maya.payments.config import McpServerConfig, ensure_mode_allowed
from maya.payments.dialects import (
    Dialect,
    DialectUnsupportedError,
    LinkCreated,
    LinkProgress,
    LinkRequest,
    ToolCaller,
    choose_dialect,
)
from maya.payments.errors import (
    PaymentLinkCreationError,
    PaymentNotFoundError,
    PaymentRequestInvalidError,
    PaymentStatusTimeoutError,
    PaymentStatusUnsupportedError,
    StripeAccountError,
    StripeSchemaError,
    StripeUnavailableError,
    UnsafePaymentLinkError,
)
from maya.payments.results import PaymentLink, PaymentStatusResult, StripeMode
from maya.payments.retry import Clock, RetryPolicy, Sleep

__all__ = [
    "CHAT_STATUS_BOUNDS",
    "MAX_AMOUNT_CENTS",
    "MAX_DESCRIPTION_LENGTH",
    "MAX_KEY_LENGTH",
    "MAX_STATUS_POLLS",
    "SIMULATED_ID_PREFIX",
    "SIMULATED_URL_BASE",
    "AvailabilityCache",
    "CachedAnswer",
    "StatusBounds",
    "StripeMCPClient",
    "WriteHook",
    "is_simulated_id",
    "simulated_link",
    "validate_link_request",
    "validate_payment_id",
]

_log = logging.getLogger("maya.payments")

MAX_STATUS_POLLS = 15
"""``check_payment_status`` reads the status at most this many times."""

# -- Checking payment arguments before anything is sent; failures are never retried ----

MAX_AMOUNT_CENTS = 99_999_999
"""Stripe's largest amount for a price: $999,999.99."""

MAX_DESCRIPTION_LENGTH = 250
"""Longest product name accepted."""

MAX_KEY_LENGTH = 255
"""Stripe's limit for an idempotency key."""

_CURRENCY = re.compile(r"^[a-z]{3}$")
_METADATA_KEYS = 40  # Stripe allows 50 keys; ours take a few.


def validate_link_request(
    amount_cents: object,
    description: object,
    idempotency_key: object,
    *,
    currency: str,
    metadata: Mapping[str, str] | None,
) -> LinkRequest:
    """Validate ``create_payment_link``'s arguments into a ``LinkRequest``.

    Raises:
        PaymentRequestInvalidError: an argument is the wrong type or out of range; the
            error's ``field`` names it.
    """
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise PaymentRequestInvalidError("must be an integer number of cents", field="amount_cents")
    if not 0 < amount_cents <= MAX_AMOUNT_CENTS:
        raise PaymentRequestInvalidError(
            f"must be between 1 and {MAX_AMOUNT_CENTS}", field="amount_cents"
        )
    if not isinstance(description, str) or not description.strip():
        raise PaymentRequestInvalidError("must be a non-empty string", field="description")
    if len(description) > MAX_DESCRIPTION_LENGTH:
        raise PaymentRequestInvalidError(
            f"must be at most {MAX_DESCRIPTION_LENGTH} characters", field="description"
        )
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        raise PaymentRequestInvalidError("must be a non-empty string", field="idempotency_key")
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise PaymentRequestInvalidError(
            f"must be at most {MAX_KEY_LENGTH} characters", field="idempotency_key"
        )
    if not _CURRENCY.match(currency):
        raise PaymentRequestInvalidError("must be a lower-case ISO code", field="currency")
    if minor_units(currency) == 3 and amount_cents % 10:
        # Stripe takes three-decimal amounts only when they end in 0.
        raise PaymentRequestInvalidError(
            f"must be a multiple of 10 in {currency.upper()}", field="amount_cents"
        )
    extra = dict(metadata or {})
    if len(extra) > _METADATA_KEYS or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in extra.items()
    ):
        raise PaymentRequestInvalidError(
            f"must map at most {_METADATA_KEYS} string keys to strings", field="metadata"
        )
    return LinkRequest(
        amount_cents=amount_cents,
        description=description.strip(),
        idempotency_key=idempotency_key,
        currency=currency,
        metadata=extra,
    )


def validate_payment_id(payment_id: object) -> str:
    """Validate a payment link id argument.

    Raises:
        PaymentRequestInvalidError: it is not a non-empty string.
    """
    if not isinstance(payment_id, str) or not payment_id.strip():
        raise PaymentRequestInvalidError("must be a non-empty string", field="payment_id")
    return payment_id.strip()


T = TypeVar("T")

WriteHook = Callable[[float], Awaitable[None]]
"""``before_write(seconds)``: make the "link write sent" mark durable before the write
goes out; ``seconds`` is how long that write may stay in flight. Raise to stop it."""


# -- Simulated payment links: test mode's answer when Stripe cannot be reached ---------

SIMULATED_ID_PREFIX = "sim_plink_"
"""Every simulated link id starts with this."""

SIMULATED_URL_BASE = "https://simulated.maya.invalid/pay/"
"""Every simulated link URL starts with this."""


def is_simulated_id(payment_id: str) -> bool:
    """Whether ``payment_id`` names a simulated link."""
    return payment_id.startswith(SIMULATED_ID_PREFIX)


def simulated_link(request: LinkRequest) -> PaymentLink:
    """A simulated link for ``request``; the same key always gives the same id."""
    digest = hashlib.sha256(request.idempotency_key.encode()).hexdigest()[:24]
    payment_id = f"{SIMULATED_ID_PREFIX}{digest}"
    return PaymentLink(
        payment_id=payment_id,
        url=f"{SIMULATED_URL_BASE}{payment_id}",
        amount_cents=request.amount_cents,
        currency=request.currency,
        description=request.description,
        idempotency_key=request.idempotency_key,
        is_simulated=True,
        provider="simulated",
        created_at=datetime.now(UTC),
    )


# -- Remembering whether the Stripe server answered, for a while, on an injectable clock ---


@dataclass(frozen=True, slots=True)
class CachedAnswer(Generic[T]):
    """A probe's answer and when it was given.

    Attributes:
        value: What the probe found (the dialect, or None when unavailable).
        at: When, on the cache's clock.
    """

    value: T
    at: float


class AvailabilityCache(Generic[T]):
    """Holds one probe answer for ``ttl`` seconds.

    Args:
        ttl: How long an answer stays valid.
        clock: Monotonic seconds; tests pass a fake.
    """

    def __init__(self, *, ttl: float, clock: Clock) -> None:
        self.ttl = ttl
        self._clock = clock
        self._answer: CachedAnswer[T] | None = None

    def get(self) -> CachedAnswer[T] | None:
        """The cached answer, or None when there is none or it has expired."""
        answer = self._answer
        if answer is None or self._clock() - answer.at >= self.ttl:
            return None
        return answer

    def put(self, value: T) -> None:
        """Remember ``value`` from now on."""
        self._answer = CachedAnswer(value, self._clock())

    def invalidate(self) -> None:
        """Forget the answer; the next ``get`` returns None."""
        self._answer = None


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
        max_retries: Retries after a transient failure (waits 1 s, 2 s, 4 s).
        overall_timeout: Seconds for a whole ``create_payment_link`` or deactivation.
        retry_policy: Full control over retries; overrides the two arguments above.
        call_timeout: Seconds for one MCP call within an operation.
        probe_timeout: Seconds for the availability probe (``tools/list``) once connected.
        connect_timeout: Seconds a new session may take to open (spawn + handshake).
        availability_ttl: Seconds a probe's answer is reused; also how long a server that
            failed to start is left alone before it is spawned again.
        currency: Currency of links made without one.
        provider: ``sandbox`` when the server is Maya's offline stand-in (links and
            statuses then say so); default ``stripe``.
        stripe_account: The account to act on when the hosted server offers several
            (``MAYA_STRIPE_ACCOUNT``).
        link_hosts: Hosts a link's ``https`` URL may be on (default: Stripe's).
        allow_loopback_links: Accept links on this machine (the sandbox).
        status_bounds: How long a status check polls (default ``CHAT_STATUS_BOUNDS``: a
            customer is waiting; ``StatusBounds()`` polls long, for background settlement).
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
        max_retries: int = 3,
        overall_timeout: float = 15.0,
        retry_policy: RetryPolicy | None = None,
        call_timeout: float = 5.0,
        probe_timeout: float = 5.0,
        connect_timeout: float = 30.0,
        availability_ttl: float = 30.0,
        currency: str = "usd",
        provider: Literal["stripe", "sandbox"] = "stripe",
        stripe_account: str | None = None,
        link_hosts: Collection[str] | None = None,
        allow_loopback_links: bool = False,
        status_bounds: StatusBounds | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = anyio.sleep,
    ) -> None:
        ensure_mode_allowed(mode, allow_live=allow_live, server=server_name)
        self.server_name = server_name
        self.mode: StripeMode = mode
        self.retry_policy = retry_policy or RetryPolicy(
            max_retries=max_retries, overall_timeout=overall_timeout
        )
        self.call_timeout = call_timeout
        self.probe_timeout = probe_timeout
        self.currency = currency
        self.provider: Literal["stripe", "sandbox"] = provider
        self.stripe_account = stripe_account
        self.link_hosts = frozenset(h.lower() for h in (link_hosts or STRIPE_LINK_HOSTS))
        self.allow_loopback_links = allow_loopback_links
        self.status_bounds = status_bounds if status_bounds is not None else CHAT_STATUS_BOUNDS
        self.probe_count = 0
        self.tool_calls: Counter[str] = Counter()
        """MCP tool calls made, by tool (``op`` for Stripe operations)."""
        self._clock = clock
        self._sleep = sleep
        self._availability: AvailabilityCache[Dialect | None] = AvailabilityCache(
            ttl=availability_ttl, clock=clock
        )
        self._session = McpSession(
            connector,
            server_name=server_name,
            on_connection_error=self._availability.invalidate,
            connect_timeout=connect_timeout,
            retry_after=availability_ttl,
            clock=clock,
        )
        self._tools: dict[str, ToolInfo] = {}
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
    def spawn_count(self) -> int:
        """Sessions attempted so far (processes spawned, for a stdio server)."""
        return self._session.attempt_count

    @property
    def dialect_name(self) -> str | None:
        """``hosted``, ``generic`` or ``named`` per the last probe; None when unknown."""
        answer = self._availability.get()
        return answer.value.name if answer is not None and answer.value is not None else None

    # -- availability ----------------------------------------------------------------

    async def is_available(self) -> bool:
        """Whether the server answers ``tools/list`` with a usable dialect.

        Opening a session is bounded by ``connect_timeout``, the probe by
        ``probe_timeout``. The answer, good or bad, is reused for ``availability_ttl``
        seconds (a broken connection forgets it), except "still starting", which is
        never remembered.
        """
        return await self._reach() is not None

    def invalidate_availability_cache(self) -> None:
        """Forget the last probe's answer (and any failed start); the next call probes again."""
        self._availability.invalidate()
        self._session.reset_breaker()

    async def _dialect(self) -> Dialect | None:
        answer = self._availability.get()
        if answer is not None:
            return answer.value
        async with self._probe_lock:
            answer = self._availability.get()
            if answer is not None:
                return answer.value
            self.probe_count += 1
            dialect: Dialect | None = None
            try:
                tools = await self._session.list_tools(time_limit=self.probe_timeout)
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
            self._availability.put(dialect)
            return dialect

    async def _reach(self) -> Dialect | None:
        """The dialect, waiting at most for a start plus a probe."""
        with anyio.move_on_after(self.connect_timeout + self.probe_timeout):
            return await self._dialect()
        self._last_probe_failure = (
            f"no answer within {self.connect_timeout + self.probe_timeout:.1f}s"
        )
        return None

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
        return await self._create(request, look_first=look_first, before_write=before_write)

    async def _create(
        self, request: LinkRequest, *, look_first: bool, before_write: WriteHook | None
    ) -> PaymentLink:
        policy = self.retry_policy
        attempts = 0
        last: CallFailure | None = None
        progress = LinkProgress(link_maybe_created=look_first)
        reach_started = self._clock()
        dialect = await self._reach()
        if dialect is None:
            return self._unavailable_link(request, reach_started, maybe_created=look_first)
        started = self._clock()

        def remaining() -> float:
            return policy.overall_timeout - (self._clock() - started)

        def budget() -> float:
            return min(self.call_timeout, remaining())

        if before_write is not None:
            hook = before_write

            async def writing() -> None:
                await hook(max(remaining(), 0.0))

            progress.before_write = writing
        if look_first and not dialect.supports_lookup:
            # A second write could make a second link, and this server cannot look.
            raise PaymentLinkCreationError(
                f"the payment link may have been made, and the {dialect.name} dialect "
                "cannot look it up",
                server=self.server_name,
                link_maybe_created=True,
            )

        async def attempt(dialect: Dialect) -> LinkCreated:
            nonlocal attempts
            attempts += 1
            call = self._caller(budget)
            await dialect.prepare(call, livemode=self.mode == "live", account=self.stripe_account)
            return await dialect.create_link(call, request, progress)

        created: LinkCreated | None = None
        with anyio.move_on_after(policy.overall_timeout):
            retrying = policy.retrying(clock=self._clock, sleep=self._sleep, started=started)
            try:
                created = await retrying(attempt, dialect)
            except CallFailure as failure:
                last = failure
        if created is None:
            if last is None:
                last = CallFailure("timeout", f"no link within {policy.overall_timeout:.1f}s")
            return self._failed_link(
                request,
                last,
                attempts=attempts,
                elapsed=self._clock() - started,
                # A write cut off by the budget may have reached Stripe all the same.
                maybe_created=progress.link_maybe_created or progress.in_flight,
            )
        await self._ensure_safe(dialect, created, started)
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
            with anyio.move_on_after(self.call_timeout):
                try:
                    await dialect.deactivate(
                        self._caller(lambda: self.call_timeout), created.payment_id
                    )
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
        policy = self.retry_policy
        started = self._clock()
        reason = f"no answer within {policy.overall_timeout:.1f}s"

        def budget() -> float:
            return min(self.call_timeout, policy.overall_timeout - (self._clock() - started))

        dialect = await self._reach()
        started = self._clock()
        with anyio.move_on_after(policy.overall_timeout):
            if dialect is None:
                reason = self._last_probe_failure or "unavailable"
            elif not dialect.supports_deactivate:
                reason = f"the {dialect.name} dialect cannot deactivate links"
            else:
                retrying = policy.retrying(clock=self._clock, sleep=self._sleep, started=started)
                call = self._caller(budget)

                async def attempt() -> None:
                    await dialect.prepare(
                        call, livemode=self.mode == "live", account=self.stripe_account
                    )
                    await dialect.deactivate(call, payment_id)

                try:
                    await retrying(attempt)
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
        within ``deadline`` seconds.

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
            return self._simulated_status(payment_id)
        bounds = self.status_bounds
        poll_interval = bounds.poll_interval_s if poll_interval is None else poll_interval
        poll_timeout = bounds.poll_timeout_s if poll_timeout is None else poll_timeout
        deadline = bounds.deadline_s if deadline is None else deadline
        started = self._clock()
        polls = 0
        answered = False
        last: str | None = None

        def budget() -> float:
            return min(poll_timeout, deadline - (self._clock() - started))

        with anyio.move_on_after(deadline):
            dialect = await self._reach()
            if dialect is None:
                raise StripeUnavailableError(
                    "Stripe's MCP server is unavailable",
                    server=self.server_name,
                    elapsed=self._clock() - started,
                    last_error=self._last_probe_failure,
                )
            if not dialect.supports_status:
                raise PaymentStatusUnsupportedError(
                    f"the {dialect.name} dialect has no way to read payment status",
                    server=self.server_name,
                )
            call = self._caller(budget)
            while polls < MAX_STATUS_POLLS:
                polls += 1
                try:
                    await dialect.prepare(
                        call, livemode=self.mode == "live", account=self.stripe_account
                    )
                    reading = await dialect.read_status(call, payment_id)
                except CallFailure as failure:
                    if failure.stripe_code == "resource_missing":
                        raise PaymentNotFoundError(
                            f"Stripe has no payment link {payment_id}", server=self.server_name
                        ) from None
                    if failure.stripe_code == "operation_unavailable":
                        raise PaymentStatusUnsupportedError(
                            failure.summary, server=self.server_name
                        ) from None
                    if failure.kind == "connect" and not isinstance(failure, StartingError):
                        # The server is down and will not be restarted in this window:
                        # say so now rather than polling a corpse until the deadline.
                        raise StripeUnavailableError(
                            "Stripe's MCP server is unavailable",
                            server=self.server_name,
                            attempts=polls,
                            elapsed=self._clock() - started,
                            last_error=failure.describe(),
                        ) from None
                    last = failure.describe()
                except DialectUnsupportedError as exc:
                    raise PaymentStatusUnsupportedError(str(exc), server=self.server_name) from None
                else:
                    answered = True
                    if reading.status != "pending":
                        return PaymentStatusResult(
                            payment_id=payment_id,
                            status=reading.status,
                            amount_paid_cents=reading.amount_paid_cents,
                            failure_reason=reading.failure_reason,
                            payments_received=reading.paid_count,
                            amount_received_cents=reading.total_paid_cents,
                            polls=polls,
                            provider=self.provider,
                            currency=reading.currency,
                        )
                if self._clock() - started + poll_interval >= deadline:
                    break
                if polls < MAX_STATUS_POLLS:
                    await self._sleep(poll_interval)
        elapsed = self._clock() - started
        if not answered:
            raise PaymentStatusTimeoutError(
                "no status read succeeded before the deadline",
                server=self.server_name,
                attempts=polls,
                elapsed=elapsed,
                last_error=last or f"no answer within {deadline:.1f}s",
            )
        # Stripe answered and the link is still open: not paid yet, which is an answer.
        return PaymentStatusResult(
            payment_id=payment_id, status="pending", polls=polls, provider=self.provider
        )

    def _simulated_status(self, payment_id: str) -> PaymentStatusResult:
        if self.mode != "test":
            raise PaymentNotFoundError(
                "simulated payments do not exist in live mode", server=self.server_name
            )
        # The amount is the caller's (its record of the link): nothing was paid anywhere.
        return PaymentStatusResult(
            payment_id=payment_id,
            status="simulated",
            is_simulated=True,
            provider="simulated",
            payments_received=1,
            polls=0,
        )

    # -- calls -----------------------------------------------------------------------

    def _caller(self, budget: Callable[[], float]) -> ToolCaller:
        session = self._session

        async def call(
            tool: str,
            arguments: Mapping[str, Any],
            *,
            op: str | None = None,
            repeat_safe: bool = False,
        ) -> ToolReply:
            timeout = budget()
            if timeout <= 0:
                raise CallFailure("timeout", "the operation's time budget is spent", tool=tool)
            check_arguments(self._tools.get(tool), tool, arguments)
            self.tool_calls[op or tool] += 1
            return await session.call_tool(
                tool, arguments, time_limit=timeout, op=op, repeat_safe=repeat_safe
            )

        return call
