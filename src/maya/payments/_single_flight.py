"""One in-flight operation per key: concurrent callers with the same key share its result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

import anyio

__all__ = ["SingleFlight"]

T = TypeVar("T")


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.finished = False


class SingleFlight(Generic[T]):
    """Runs at most one call per key at a time; others wait for and share its outcome."""

    def __init__(self) -> None:
        self._flights: dict[str, _Flight[T]] = {}

    async def run(self, key: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run ``call`` unless one for ``key`` is running; then wait for that one.

        A leader that was cancelled leaves no outcome, and a waiter then runs ``call``
        itself. Exceptions are shared like results.

        Raises:
            BaseException: whatever the shared call raised.
        """
        while True:
            flight = self._flights.get(key)
            if flight is None:
                break
            await flight.done.wait()
            if flight.finished:
                if flight.error is not None:
                    raise flight.error
                return cast(T, flight.result)
        flight = _Flight[T]()
        self._flights[key] = flight
        try:
            flight.result = await call()
            flight.finished = True
            return flight.result
        except Exception as exc:
            flight.error = exc
            flight.finished = True
            raise
        finally:
            del self._flights[key]
            flight.done.set()
