"""A failing model call, turned into what the loop needs: a category, Maya's words, and
whether (and when) to try again.

The classification (and the one log line per failure) is ``maya.errors``'s; this module
adapts it to the loop, makes sure the key never travels with the words, and holds the
retry policy as data.
"""

from __future__ import annotations

from dataclasses import dataclass

from maya.errors import classify_and_log_genai_error

__all__ = ["DEFAULT_TURN_BUDGET_S", "ModelFailure", "RetryPolicy", "describe_model_error"]

DEFAULT_TURN_BUDGET_S = 30.0
"""How long one customer message may take, every model call, retry and wait included."""


@dataclass(frozen=True, slots=True)
class ModelFailure:
    """Why the model could not answer, and what Maya tells the customer.

    Attributes:
        category: e.g. ``rate_limit``, ``server``, ``api_key_invalid``, ``timeout``.
        retryable: whether asking again later may work.
        user_message: Maya's words for the customer.
        log_line: the (redacted) line that was logged.
        status_code: the HTTP status, when there was one.
        retry_after_s: the wait the service asked for (``RetryInfo.retryDelay``), if any.
    """

    category: str
    retryable: bool
    user_message: str
    log_line: str
    status_code: int | None = None
    retry_after_s: float | None = None


def describe_model_error(exc: BaseException) -> ModelFailure:
    """Classify and log ``exc`` (via ``maya.errors``) and return the loop's view of it."""
    info = classify_and_log_genai_error(exc)
    return ModelFailure(
        category=info.category.value,
        retryable=info.retryable,
        user_message=info.user_message,
        log_line=info.log_line,
        status_code=info.status_code,
        retry_after_s=info.retry_after_s,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    """When the loop calls the model again after a retryable failure.

    A wait the service asked for (a 429's ``retryDelay``) replaces the back-off; any wait
    is taken only if it and one more call still fit in the turn's budget.

    Attributes:
        attempts: calls per model step, the first included (1 disables retries).
        initial_delay_s: the first back-off.
        max_delay_s: the longest back-off (a server-asked wait may be longer).
        min_call_s: the least time worth leaving for the call after a wait.
    """

    attempts: int = 3
    initial_delay_s: float = 1.0
    max_delay_s: float = 8.0
    min_call_s: float = 2.0

    def backoff_s(self, failures: int) -> float:
        """The wait after the ``failures``-th failure (1-based): doubling, capped."""
        return float(min(self.max_delay_s, self.initial_delay_s * 2 ** max(0, failures - 1)))

    def wait_s(self, failures: int, failure: ModelFailure) -> float | None:
        """How long to wait before the next attempt, or None when not to retry."""
        if not failure.retryable or failures >= max(1, self.attempts):
            return None
        if failure.retry_after_s is not None:
            return failure.retry_after_s
        return self.backoff_s(failures)
