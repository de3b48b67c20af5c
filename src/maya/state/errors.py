"""The state layer's two errors: ``StateError`` when a tab operation refuses to act (by the
tab's rules), ``StoreError`` when the store cannot run it at all."""

from __future__ import annotations

from maya.codes import ErrorCode
from maya.errors import MayaError

__all__ = ["StateError", "StoreError"]


class StateError(MayaError):
    """A refused tab operation. The state is exactly as it was before the call.

    Attributes:
        code: why it was refused.
        details: facts a caller needs to explain it (the item, its price, the balance...),
            all JSON-serialisable.
    """


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

    retry_after_s = 2
    """Seconds an HTTP client is asked to wait (``Retry-After``) before asking again."""

    def __init__(self, message: str, *, code: ErrorCode = ErrorCode.STORE_UNAVAILABLE) -> None:
        super().__init__(code, message)
