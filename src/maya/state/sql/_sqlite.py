"""What the SQLite store and its change feed both ask of a ``sqlite3`` error."""

from __future__ import annotations

import sqlite3

__all__ = ["busy"]

# SQLITE_BUSY and SQLITE_LOCKED (primary codes): another connection held the lock.
_BUSY_CODES = (5, 6)


def busy(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says another connection held a lock (worth trying again)."""
    # Extended codes (SQLITE_BUSY_SNAPSHOT, ...) keep the primary code in the low byte.
    return ((getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF) in _BUSY_CODES
