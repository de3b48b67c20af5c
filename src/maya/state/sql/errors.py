"""The error a SQL store raises when it cannot do its job at all."""

from __future__ import annotations

from maya.codes import ErrorCode
from maya.errors import MayaError

__all__ = ["StoreError"]


class StoreError(MayaError, RuntimeError):
    """The store could not run the operation: busy past its timeout, closed, unreachable,
    refusing the data, or its database is from a newer Maya.

    This is never a refusal by the tab's rules (those are ``StateError``); it means the
    operation did not run and the stored state is unchanged. The message names the store
    (a file, or a connection string with its password masked) and never a secret.

    Attributes:
        code: ``STORE_BUSY`` (a lock or statement timeout: asking again may work) or
            ``STORE_UNAVAILABLE``.
        message: the text, as ``str(error)``.
        details: always empty.
        retryable: True when the same call may succeed if made again (the store was busy).
    """

    # The message names the database; the model hears only the code.
    public_text = False

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.STORE_UNAVAILABLE) -> None:
        super().__init__(code, message)
