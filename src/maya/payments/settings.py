"""The payments client's settings, as small values: timeouts and status-check bounds."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AVAILABILITY_TTL_S",
    "CHAT_STATUS_BOUNDS",
    "MAX_STATUS_POLLS",
    "StatusBounds",
    "Timeouts",
]

MAX_STATUS_POLLS = 15
"""``check_payment_status`` reads the status at most this many times."""

AVAILABILITY_TTL_S = 30.0
"""Seconds a probe's answer is reused; also how long a server that failed to start is
left alone before it is spawned again."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Timeouts:
    """How long reaching the server and one call may take.

    Attributes:
        call_s: One MCP call within an operation.
        probe_s: The availability probe (``tools/list``) once connected.
        connect_s: Opening a new session (spawn and handshake; a cold ``npx`` is slow).
    """

    call_s: float = 5.0
    probe_s: float = 5.0
    connect_s: float = 30.0


@dataclass(frozen=True, slots=True)
class StatusBounds:
    """How long ``StripeMCPClient.check_payment_status`` polls.

    The defaults suit a background job (settlement polling); a customer who is waiting
    gets ``CHAT_STATUS_BOUNDS``, the client's default.

    Attributes:
        poll_interval_s: between two reads of the status.
        poll_timeout_s: for one read.
        deadline_s: for the whole check.
    """

    poll_interval_s: float = 2.0
    poll_timeout_s: float = 5.0
    deadline_s: float = 30.0


CHAT_STATUS_BOUNDS = StatusBounds(poll_interval_s=0.5, poll_timeout_s=2.0, deadline_s=4.0)
"""Status-check bounds for a chat turn: a customer is waiting for the answer."""
