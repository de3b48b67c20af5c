"""The error a SQL store raises when it cannot do its job at all."""

from __future__ import annotations

__all__ = ["StoreError"]


class StoreError(RuntimeError):
    """The store is unusable: closed, unreachable, or its database is from a newer Maya.

    This is never a refusal by the tab's rules (those are ``StateError``); it means the
    operation did not run and the stored state is unchanged.
    """
