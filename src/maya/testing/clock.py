"""Helpers for testing code built on Maya without waiting for real time.

``StripeMCPClient`` (and anything else that takes ``clock=`` and ``sleep=``) can run on a
``FakeClock``: every retry wait and status poll then completes at once, and the test can
read what would have been waited.
"""

from __future__ import annotations

import anyio.lowlevel

__all__ = ["FakeClock"]


class FakeClock:
    """A monotonic clock that moves only when ``sleep`` (or a test) moves it.

    Pass the instance as ``clock=`` and its ``sleep`` as ``sleep=``.

    Attributes:
        now: the current reading, in seconds.
        sleeps: every duration ``sleep`` was asked for, in order.
    """

    def __init__(self, start: float = 1000.0) -> None:
        """Start the clock at ``start`` seconds."""
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        """The current reading."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward without sleeping."""
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait, move time forward, and yield to other tasks once."""
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()
