"""The one base of Maya's coded errors: ``MayaError(code, message, **details)``.

Every refusal (state, store, tool, Stripe) subclasses it, so the dispatcher catches one
type and answers with its code, ``retryable`` and the words for it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from maya.codes import ErrorCode

__all__ = ["MayaError"]


class MayaError(Exception):
    """An operation refused or failed for a reason with a stable code.

    Args:
        code: why (``maya.codes.ErrorCode``).
        message: a plain sentence, never carrying a secret.
        **details: JSON-serialisable facts a caller needs to explain it (the item, its
            price, the balance...).

    Attributes:
        code: why.
        message: the sentence.
        details: the facts.
        public_text: whether ``message`` and ``details`` may be shown to the model. False
            where the text can carry a provider's or a database's internals; then only
            the code (and Maya's words for it) travels.
    """

    public_text: ClassVar[bool] = True

    def __init__(self, code: ErrorCode, message: str, **details: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details: dict[str, Any] = details

    @property
    def retryable(self) -> bool:
        """Whether the same call may succeed if made again (``ErrorCode.retryable``)."""
        return self.code.retryable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code.value}, {self.message!r}, {self.details!r})"
