"""Whether the Stripe server answers, and in which dialect: one probe, reused for a while."""

from __future__ import annotations

import anyio

from maya.payments._failures import CallFailure
from maya.payments._session import McpSession, StartingError, ToolInfo
from maya.payments.dialects import Dialect, choose_dialect
from maya.payments.settings import AVAILABILITY_TTL_S
from maya.retry import Clock

__all__ = ["Availability"]


class _Unset:
    """No fresh answer: ask the server."""


_UNSET = _Unset()


class Availability:
    """The last probe's answer (``tools/list``), good or bad, for ``AVAILABILITY_TTL_S``.

    A broken connection forgets it (``forget``); "still starting" is never remembered.

    Args:
        session: The MCP session probed.
        probe_s: Seconds for ``tools/list`` once connected.
        clock: Monotonic seconds; tests pass a fake.

    Attributes:
        tools: The tools the last probe listed, by name, with their input schemas.
        last_failure: Why the last probe found no dialect, for errors and logs.
    """

    def __init__(self, session: McpSession, *, probe_s: float, clock: Clock) -> None:
        self._session = session
        self._probe_s = probe_s
        self._clock = clock
        self._lock = anyio.Lock()
        self._answer: tuple[float, Dialect | None] | None = None  # when, and what was found
        self._dialect: Dialect | None = None
        self.tools: dict[str, ToolInfo] = {}
        self.last_failure: str | None = None

    def forget(self) -> None:
        """Forget the answer; the next ``reach`` probes again."""
        self._answer = None

    def known(self) -> Dialect | _Unset | None:
        """The fresh answer, or ``_UNSET`` when there is none."""
        answer = self._answer
        if answer is None or self._clock() - answer[0] >= AVAILABILITY_TTL_S:
            return _UNSET
        return answer[1]

    async def reach(self) -> Dialect | None:
        """The dialect, waiting at most for a start plus a probe; None when unavailable."""
        known = self.known()
        if not isinstance(known, _Unset):
            return known
        seconds = self._session.connect_timeout + self._probe_s
        with anyio.move_on_after(seconds):
            return await self._probe()
        self.last_failure = f"no answer within {seconds:.1f}s"
        return None

    async def _probe(self) -> Dialect | None:
        async with self._lock:
            known = self.known()
            if not isinstance(known, _Unset):
                return known
            dialect: Dialect | None = None
            try:
                tools = await self._session.list_tools(time_limit=self._probe_s)
            except StartingError as failure:
                # Not a verdict: the server is still starting; the next call asks again.
                self.last_failure = failure.describe()
                return None
            except CallFailure as failure:
                self.last_failure = failure.describe()
            else:
                self.tools = {tool.name: tool for tool in tools}
                dialect = choose_dialect(tools)
                previous = self._dialect
                if dialect is not None and previous is not None and previous.name == dialect.name:
                    previous.tools = dialect.tools
                    dialect = previous  # keeps what it learned (the hosted account)
                if dialect is None:
                    self.last_failure = (
                        "no Stripe dialect in tools/list: " + ", ".join(sorted(self.tools))[:200]
                    )
                self._dialect = dialect
            self._answer = (self._clock(), dialect)
            return dialect
