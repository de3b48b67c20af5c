"""Remembering whether the Stripe server answered, for a while, on an injectable clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from maya.payments.retry import Clock

__all__ = ["AvailabilityCache", "CachedAnswer"]

T = TypeVar("T")


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
