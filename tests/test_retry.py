"""``maya.retry.RetryPolicy`` beyond the payments client: polling on answers, a wait the
failure asks for, and the time left for the call after a wait."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from maya.retry import RetryPolicy
from maya.testing import FakeClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass(frozen=True)
class Failure:
    retryable: bool
    retry_after_s: float | None = None


def test_a_wait_the_failure_asks_for_replaces_the_back_off() -> None:
    policy = RetryPolicy(max_retries=2, initial_wait=1.0, max_wait=8.0)
    assert policy.wait_s(1, Failure(True)) == 1.0
    assert policy.wait_s(2, Failure(True, retry_after_s=17.0)) == 17.0
    assert policy.wait_s(3, Failure(True)) is None  # out of retries
    assert policy.wait_s(1, Failure(False)) is None  # not worth another call


async def test_answers_asked_again_stop_at_the_last_one(clock: FakeClock) -> None:
    answers = iter(["pending", "pending", "pending", "paid"])
    policy = RetryPolicy(max_retries=2, initial_wait=0.5, max_wait=0.5, overall_timeout=30.0)
    retrying = policy.retrying(
        clock=clock,
        sleep=clock.sleep,
        started=clock(),
        again_if=lambda answer: answer == "pending",
    )

    async def read() -> str:
        return next(answers)

    assert await retrying(read) == "pending"  # three reads, then the last answer stands
    assert clock.sleeps == [0.5, 0.5]


async def test_no_wait_that_leaves_too_little_for_the_call(clock: FakeClock) -> None:
    started = clock()
    attempts = 0

    async def fail() -> None:
        nonlocal attempts
        attempts += 1
        clock.advance(3.0)
        raise Failed

    policy = RetryPolicy(max_retries=5, initial_wait=1.0, overall_timeout=10.0, min_call_s=2.0)
    retrying = policy.retrying(clock=clock, sleep=clock.sleep, started=started)
    with pytest.raises(Failed):
        await retrying(fail)
    # 3 + 1 + 3 = 7 s; a 2 s wait and 2 s for the call would end at 11 s, past 10 s.
    assert attempts == 2
    assert clock.sleeps == [1.0]


class Failed(Exception):
    retryable = True
