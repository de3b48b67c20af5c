"""PostgreSQL ``LISTEN``/``NOTIFY``: committed tab changes heard by every process.

The writing transaction sends ``pg_notify`` (delivered only if it commits);
``PostgresChangeFeed`` listens on its own connection, per schema, reconnecting when lost.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING

import anyio

from maya.redact import redact_conninfo

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg.rows import TupleRow

__all__ = ["CHANNEL", "PostgresChangeFeed", "channel_for", "notification_payload", "parse_payload"]

CHANNEL = "maya_tabs"
"""The channel of the default schema."""

_log = logging.getLogger("maya.state.notify")


def channel_for(schema: str | None) -> str:
    """The notification channel of ``schema`` (an identifier shorter than 63 bytes)."""
    if schema is None:
        return CHANNEL
    return f"{CHANNEL}_{hashlib.sha256(schema.encode()).hexdigest()[:24]}"


def notification_payload(session_id: str, version: int) -> str:
    """``'<version> <session id>'``: what a commit announces (well under 8,000 bytes)."""
    return f"{version} {session_id}"


def parse_payload(payload: str) -> tuple[str, int] | None:
    """``(session_id, version)`` from a payload, or None when it is not one of ours."""
    version, _, session_id = payload.partition(" ")
    if not session_id or not version.isdigit():
        return None
    return session_id, int(version)


class PostgresChangeFeed:
    """Listens to one channel on a dedicated connection; a ``ChangeFeed``."""

    def __init__(
        self,
        conninfo: str,
        channel: str,
        *,
        connect_timeout: float = 10.0,
        max_backoff_s: float = 5.0,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        """Prepare a feed; nothing connects until ``run``.

        Args:
            conninfo: a libpq URL or keyword string.
            channel: the channel to ``LISTEN`` on (``channel_for(schema)``).
            connect_timeout: seconds to wait for the server on each connect.
            max_backoff_s: the longest wait between two reconnect attempts.
            sleep: how to wait between attempts (tests pass a fake).
        """
        self._conninfo = conninfo
        self.channel = channel
        self._connect_timeout = connect_timeout
        self._max_backoff_s = max_backoff_s
        self._sleep = sleep
        # A connection still listening, left by a cancelled run for the next one.
        self._kept: AsyncConnection[TupleRow] | None = None

    def __repr__(self) -> str:
        return f"PostgresChangeFeed({redact_conninfo(self._conninfo)!r}, {self.channel!r})"

    async def _connect(self) -> AsyncConnection[TupleRow]:
        from psycopg import AsyncConnection, sql

        connection = await AsyncConnection.connect(
            self._conninfo,
            autocommit=True,
            connect_timeout=max(1, round(self._connect_timeout)),
        )
        try:
            await connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        except BaseException:
            await connection.close()
            raise
        return connection

    async def run(
        self,
        on_ready: Callable[[], Awaitable[None]],
        on_change: Callable[[str, int], Awaitable[None]],
        *,
        watched: Callable[[], Collection[str]] = tuple,
    ) -> None:
        """Listen until cancelled; see ``maya.state.watch.ChangeFeed`` (every commit names
        its session: ``watched`` is not needed).

        A run cancelled while it waits for the server leaves its connection listening
        for the next run, which goes on where it stopped: a notification that arrived in
        between waits in the socket, so no ``on_ready`` (and no re-read) is needed, nor a
        new connection. ``release`` closes it when nobody will listen again.
        """
        from psycopg import Error

        backoff = 0.1
        while True:
            connection, self._kept = self._kept, None
            ready = connection is not None and not connection.closed
            if connection is None or not ready:
                try:
                    with anyio.fail_after(self._connect_timeout + 1):
                        connection = await self._connect()
                except (Error, OSError, TimeoutError) as exc:
                    _log.warning(
                        "cannot listen for tab changes on %r: %s", self, redact_conninfo(str(exc))
                    )
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, self._max_backoff_s)
                    continue
            keep = False
            try:
                backoff = 0.1
                if not ready:
                    await on_ready()
                    ready = True
                # on_change never suspends, so a cancellation lands only while waiting
                # for the server: no notification read is dropped, and no query is
                # under way that psycopg would have to cancel (closing the connection).
                async for notice in connection.notifies():
                    parsed = parse_payload(notice.payload)
                    if parsed is not None:
                        await on_change(*parsed)
            except (Error, OSError) as exc:
                _log.warning(
                    "lost the tab-change listener on %r: %s", self, redact_conninfo(str(exc))
                )
            except anyio.get_cancelled_exc_class():
                keep = ready and not connection.closed
                raise
            finally:
                if keep:
                    self._kept = connection
                else:
                    with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                        await connection.close()

    async def release(self) -> None:
        """Close the connection a cancelled run left listening (nobody watches now)."""
        connection, self._kept = self._kept, None
        if connection is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                await connection.close()
