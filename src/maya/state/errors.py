"""The typed error every tab operation raises when it refuses to act."""

from __future__ import annotations

from maya.errors import MayaError

__all__ = ["StateError"]


class StateError(MayaError):
    """A refused tab operation. The state is exactly as it was before the call.

    Attributes:
        code: why it was refused.
        details: facts a caller needs to explain it (the item, its price, the balance...),
            all JSON-serialisable.
    """
