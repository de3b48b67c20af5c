"""A store that fails on demand: a real memory store behind a switch, for fault tests.

``FailingStore`` is a ``MemoryTabStore`` that raises ``StoreError`` (the error every real
store raises when it cannot run an operation, having changed nothing) while ``failing``
is set, or from the ``fail_from_write``-th write on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from maya.codes import ErrorCode
from maya.state import MemoryTabStore, StoreError, TabState
from maya.state.store import Transition

R = TypeVar("R")


class FailingStore(MemoryTabStore):
    """A ``TabStore`` that refuses to work while told to, as a lost database would."""

    def __init__(
        self, *, code: ErrorCode = ErrorCode.STORE_UNAVAILABLE, fail_from_write: int | None = None
    ) -> None:
        """Work normally; ``fail_from_write=n`` fails the n-th write (1-based) and later ones."""
        super().__init__()
        self.code = code
        self.failing = False
        self.fail_from_write = fail_from_write
        self.writes = 0

    def _check(self) -> None:
        if self.failing:
            raise StoreError("the test database is gone", code=self.code)

    async def load(self, session_id: str) -> TabState | None:
        """The stored state, unless failing."""
        self._check()
        return await super().load(session_id)

    async def transact(
        self, session_id: str, initial: Callable[[], TabState], transition: Transition[R]
    ) -> tuple[TabState, R]:
        """The memory store's write (every write goes through it), unless failing."""
        self.writes += 1
        if self.fail_from_write is not None and self.writes >= self.fail_from_write:
            self.failing = True
        self._check()
        return await super().transact(session_id, initial, transition)

    async def session_ids(self) -> list[str]:
        """The stored sessions, unless failing."""
        self._check()
        return await super().session_ids()
