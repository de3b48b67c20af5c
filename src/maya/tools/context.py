"""What a tool handler works with: the tab manager, the payment gateway, Maya's words."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import anyio

from maya.messages import MessageBook
from maya.state.manager import TabManager
from maya.tools.gateway import PaymentGateway

__all__ = ["ToolContext"]


@dataclass(slots=True, eq=False)
class ToolContext:
    """Everything the handlers share; one per ``Toolset``.

    Attributes:
        manager: the tab's atomic operations.
        payments: the payment gateway, or None when card payment is not available.
        messages: Maya's words for errors and payment outcomes.
    """

    manager: TabManager
    payments: PaymentGateway | None
    messages: MessageBook
    _payment_locks: weakref.WeakValueDictionary[str, anyio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )

    def payment_lock(self, session_id: str) -> anyio.Lock:
        """The lock that makes payment-link creation single-flight for one session.

        Locks live only while someone holds or waits on them, so idle sessions cost
        nothing.
        """
        lock = self._payment_locks.get(session_id)
        if lock is None:
            lock = anyio.Lock()
            self._payment_locks[session_id] = lock
        return lock
