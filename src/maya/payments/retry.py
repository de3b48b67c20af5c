"""The retry policy for Stripe calls, as data: what retries, how long to wait, when to stop.

Only transient failures retry (timeouts, lost sessions, server errors, garbled answers),
and only when repeating cannot duplicate anything. Waits grow 1 s, 2 s, 4 s; at most
``max_retries`` retries; and never past ``overall_timeout`` measured on the injected
clock, so a retry that could not finish in time is not started.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential

from maya.payments._failures import CallFailure

__all__ = ["Clock", "RetryPolicy", "Sleep", "is_retryable"]

Clock = Callable[[], float]
"""Seconds on a monotonic clock; tests pass a fake."""

Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds; tests pass a fake that only advances their clock."""


def is_retryable(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure the policy retries."""
    return isinstance(exc, CallFailure) and exc.retryable


class _BudgetSpent(stop_base):
    """Stop when the next wait would end at or past the overall deadline."""

    def __init__(self, clock: Clock, started: float, budget: float) -> None:
        self._clock = clock
        self._started = started
        self._budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = self._clock() - self._started
        return elapsed + retry_state.upcoming_sleep >= self._budget


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How Stripe calls are retried.

    Attributes:
        max_retries: Retries after the first attempt (so ``max_retries + 1`` attempts).
        initial_wait: Seconds before the first retry; each later wait doubles.
        max_wait: Longest single wait.
        overall_timeout: Seconds for everything: attempts, waits and the final answer.
    """

    max_retries: int = 3
    initial_wait: float = 1.0
    max_wait: float = 4.0
    overall_timeout: float = 15.0

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.initial_wait < 0 or self.max_wait < 0:
            raise ValueError("retry counts and waits must not be negative")
        if self.overall_timeout <= 0:
            raise ValueError("overall_timeout must be positive")

    def waits(self) -> tuple[float, ...]:
        """The waits between attempts, ignoring the overall timeout: (1.0, 2.0, 4.0)."""
        return tuple(
            min(self.initial_wait * 2**attempt, self.max_wait)
            for attempt in range(self.max_retries)
        )

    def retrying(self, *, clock: Clock, sleep: Sleep, started: float) -> AsyncRetrying:
        """A tenacity controller applying this policy from ``started`` on ``clock``.

        Args:
            clock: The clock the overall timeout is measured on.
            sleep: Used for the waits between attempts.
            started: When the operation began, on ``clock``.
        """
        return AsyncRetrying(
            retry=retry_if_exception(is_retryable),
            wait=wait_exponential(multiplier=self.initial_wait, max=self.max_wait),
            stop=stop_after_attempt(self.max_retries + 1)
            | _BudgetSpent(clock, started, self.overall_timeout),
            sleep=sleep,
            reraise=True,
        )
