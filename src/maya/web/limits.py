"""A sliding-window rate limit per key (a session, a client address), on an injected clock.

The keys kept are bounded (least recently used first out); each process counts for itself.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    """At most ``limit`` events per ``window_s`` seconds for each key."""

    def __init__(
        self,
        *,
        limit: int,
        window_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        """A limiter; ``limit`` below 1 accepts everything (the limit is off)."""
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Record an event for ``key`` if allowed: 0.0; else the seconds to wait (> 0)."""
        wait = self.wait(key)
        if wait == 0.0 and self.limit >= 1:
            self._seen[key].append(self._clock())
        return wait

    def wait(self, key: str) -> float:
        """Seconds until an event for ``key`` would be allowed (0.0: now); records nothing."""
        if self.limit < 1:
            return 0.0
        now = self._clock()
        times = self._seen.get(key)
        if times is None:
            times = deque(maxlen=self.limit)
            self._seen[key] = times
            if len(self._seen) > self._max_keys:
                self._seen.popitem(last=False)
        else:
            self._seen.move_to_end(key)
        while times and times[0] <= now - self.window_s:
            times.popleft()
        if len(times) >= self.limit:
            return max(times[0] + self.window_s - now, 1e-3)
        return 0.0
