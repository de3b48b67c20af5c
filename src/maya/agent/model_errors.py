"""A failing model call, turned into what the loop needs: a category and Maya's words.

The classification (and the one log line per failure) is ``maya.errors``'s; this module
only adapts it to the loop and makes sure the key never travels with the words.
"""

from __future__ import annotations

from dataclasses import dataclass

from maya.errors import classify_and_log_genai_error

__all__ = ["ModelFailure", "describe_model_error"]


@dataclass(frozen=True, slots=True)
class ModelFailure:
    """Why the model could not answer, and what Maya tells the customer.

    Attributes:
        category: e.g. ``rate_limit``, ``server``, ``bad_request``, ``timeout``.
        retryable: whether asking again later may work.
        user_message: Maya's words for the customer.
        log_line: the (redacted) line that was logged.
        status_code: the HTTP status, when there was one.
    """

    category: str
    retryable: bool
    user_message: str
    log_line: str
    status_code: int | None = None


def describe_model_error(exc: BaseException) -> ModelFailure:
    """Classify and log ``exc`` (via ``maya.errors``) and return the loop's view of it."""
    info = classify_and_log_genai_error(exc)
    return ModelFailure(
        category=info.category.value,
        retryable=info.retryable,
        user_message=info.user_message,
        log_line=info.log_line,
        status_code=info.status_code,
    )
