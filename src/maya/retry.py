"""``RetryPolicy``: one retry policy for Maya, as data, run by tenacity.

Waits double up to ``max_wait``, at most ``max_retries`` retries, never past
``overall_timeout``; a wait the failure asks for (``retry_after_s``) replaces the back-off.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_result,
    stop_after_attempt,
)
from tenacity.retry import retry_base
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential

__all__ = ["Clock", "RetryPolicy", "Sleep", "says_retryable"]

Clock = Callable[[], float]
"""Seconds on a monotonic clock; tests pass a fake."""

Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds; tests pass a fake that only advances their clock."""


class Failure(Protocol):
    """What ``RetryPolicy.wait_s`` needs of a failure."""

    @property
    def retryable(self) -> bool: ...

    @property
    def retry_after_s(self) -> float | None: ...


class _BudgetSpent(stop_base):
    """Stop when the next wait (and ``min_call_s``) would end at or past the deadline."""

    def __init__(self, clock: Clock, started: float, policy: RetryPolicy) -> None:
        self._clock = clock
        self._started = started
        self._policy = policy

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = self._clock() - self._started + self._policy.min_call_s
        return elapsed + retry_state.upcoming_sleep >= self._policy.overall_timeout


def says_retryable(exc: BaseException) -> bool:
    """The default ``retry_if``: the failure says it is worth retrying (``retryable``)."""
    return getattr(exc, "retryable", False) is True


def _last_answer(retry_state: RetryCallState) -> Any:
    # Retries on the answer ran out: the last answer is the answer (or its failure).
    assert retry_state.outcome is not None  # tenacity sets it before calling back
    return retry_state.outcome.result()


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How a failed call is retried.

    Attributes:
        max_retries: Retries after the first attempt (so ``max_retries + 1`` attempts).
        initial_wait: Seconds before the first retry; each later wait doubles.
        max_wait: Longest back-off (a wait the failure asks for may be longer).
        overall_timeout: Seconds for everything: attempts, waits and the final answer.
        min_call_s: The least time worth leaving for an attempt after a wait.
    """

    max_retries: int = 3
    initial_wait: float = 1.0
    max_wait: float = 4.0
    overall_timeout: float = 15.0
    min_call_s: float = 0.0

    def __post_init__(self) -> None:
        if min(self.max_retries, self.initial_wait, self.max_wait, self.min_call_s) < 0:
            raise ValueError("retry counts and waits must not be negative")
        if self.overall_timeout <= 0:
            raise ValueError("overall_timeout must be positive")

    def waits(self) -> tuple[float, ...]:
        """The waits between attempts, ignoring the overall timeout: (1.0, 2.0, 4.0)."""
        return tuple(self.backoff_s(failures) for failures in range(1, self.max_retries + 1))

    def backoff_s(self, failures: int) -> float:
        """The back-off after the ``failures``-th failure (1-based), as ``retrying`` waits it."""
        return float(min(self.max_wait, self.initial_wait * 2 ** max(0, failures - 1)))

    def wait_s(self, failures: int, failure: Failure) -> float | None:
        """The wait before the next attempt after ``failures`` failures, or None: no retry."""
        if not failure.retryable or failures > self.max_retries:
            return None
        if failure.retry_after_s is not None:
            return failure.retry_after_s
        return self.backoff_s(failures)

    def retrying(
        self,
        *,
        clock: Clock,
        sleep: Sleep,
        started: float,
        retry_if: Callable[[BaseException], bool] = says_retryable,
        again_if: Callable[[Any], bool] | None = None,
    ) -> AsyncRetrying:
        """A tenacity controller applying this policy from ``started`` on ``clock``.

        Args:
            clock: The clock the overall timeout is measured on.
            sleep: Used for the waits between attempts.
            started: When the operation began, on ``clock``.
            retry_if: Which failures are retried (default: those that say they are
                ``retryable``); the others propagate at once.
            again_if: Which answers are asked for again (polling); the last one stands.
        """
        retry: retry_base = retry_if_exception(retry_if)
        if again_if is not None:
            retry = retry | retry_if_result(again_if)
        return AsyncRetrying(
            retry=retry,
            wait=wait_exponential(multiplier=self.initial_wait, max=self.max_wait),
            stop=stop_after_attempt(self.max_retries + 1) | _BudgetSpent(clock, started, self),
            sleep=sleep,
            reraise=True,
            retry_error_callback=_last_answer if again_if is not None else None,
        )
