"""The retry policy: which failures retry, the waits, and the overall budget."""

from __future__ import annotations

import pytest

from maya.payments import RetryPolicy
from maya.payments._failures import CallFailure
from maya.testing import FakeClock

pytestmark = pytest.mark.anyio


def test_waits_are_one_two_four_seconds() -> None:
    assert RetryPolicy().waits() == (1.0, 2.0, 4.0)


@pytest.mark.parametrize(
    ("failure", "retried"),
    [
        (CallFailure("timeout", "slow"), True),
        (CallFailure("lost", "gone"), True),
        (CallFailure("connect", "refused"), True),
        (CallFailure("server", "api_error"), True),
        (CallFailure("malformed", "garbage"), True),
        (CallFailure("rejected", "invalid_request_error"), False),
        (CallFailure("timeout", "slow", repeat_safe=False), False),
        (CallFailure("server", "Failed to create payment link", repeat_safe=False), True),
    ],
)
async def test_only_transient_repeatable_failures_retry(
    clock: FakeClock, failure: CallFailure, retried: bool
) -> None:
    attempts = 0

    async def attempt() -> None:
        nonlocal attempts
        attempts += 1
        raise failure

    retrying = RetryPolicy().retrying(clock=clock, sleep=clock.sleep, started=clock())
    with pytest.raises(CallFailure):
        await retrying(attempt)
    assert attempts == (4 if retried else 1)
    assert clock.sleeps == ([1.0, 2.0, 4.0] if retried else [])


async def test_no_retry_starts_that_would_end_past_the_budget(clock: FakeClock) -> None:
    attempts = 0

    started = clock()

    async def slow_attempt() -> None:
        nonlocal attempts
        attempts += 1
        # Each attempt times out after 5 s, or when the budget runs out (as the client's).
        clock.advance(min(5.0, 15.0 - (clock() - started)))
        raise CallFailure("timeout", "slow")

    retrying = RetryPolicy().retrying(clock=clock, sleep=clock.sleep, started=started)
    with pytest.raises(CallFailure):
        await retrying(slow_attempt)
    # 5 + 1 + 5 + 2 + 2 (cut short) = 15; a fourth attempt would start after 15 s.
    assert attempts == 3
    assert clock.sleeps == [1.0, 2.0]
    assert clock() - started == 15.0


def test_invalid_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
    with pytest.raises(ValueError):
        RetryPolicy(overall_timeout=0)
