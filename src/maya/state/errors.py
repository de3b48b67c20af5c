"""The typed error every tab operation raises when it refuses to act."""

from __future__ import annotations

from typing import Any

from maya.codes import ErrorCode

__all__ = ["StateError"]


class StateError(Exception):
    """A refused tab operation. The state is exactly as it was before the call.

    Attributes:
        code: why it was refused.
        details: facts a caller needs to explain it (the item, its price, the balance...),
            all JSON-serialisable.
    """

    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details

    def __repr__(self) -> str:
        return f"StateError({self.code.value}, {self.message!r}, {self.details!r})"
