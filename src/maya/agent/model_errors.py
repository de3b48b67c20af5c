"""A failing model call, turned into what the loop needs: a category, Maya's words, and
whether (and when) to try again (``MODEL_RETRY_POLICY``, a ``maya.retry.RetryPolicy``).
``describe_model_error`` sorts ``google.genai`` and network errors into a ``ModelFailure``
and logs one redacted line on ``maya.genai``.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from google.genai import errors as genai_errors

from maya.bar.menu import bar_messages
from maya.messages import MessageBook
from maya.redact import redact
from maya.retry import RetryPolicy

__all__ = [
    "DEFAULT_TURN_BUDGET_S",
    "MODEL_ERRORS",
    "MODEL_RETRY_POLICY",
    "GenAIErrorCategory",
    "ModelFailure",
    "RetryPolicy",
    "describe_model_error",
    "wait_words",
]

DEFAULT_TURN_BUDGET_S = 30.0
"""How long one customer message may take, every model call, retry and wait included."""

_log = logging.getLogger("maya.genai")

_DETAIL_LIMIT = 300


class GenAIErrorCategory(StrEnum):
    """Kinds of failure calling the model, each with its own words for the customer."""

    BAD_REQUEST = "bad_request"
    API_KEY_INVALID = "api_key_invalid"
    AUTH = "auth"
    PERMISSION_DENIED = "permission_denied"
    UNSUPPORTED_LOCATION = "unsupported_location"
    MODEL_NOT_FOUND = "model_not_found"
    RATE_LIMIT = "rate_limit"
    QUOTA_EXHAUSTED = "quota_exhausted"
    SERVER = "server"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    UNKNOWN = "unknown"


_RETRYABLE = frozenset(
    {
        GenAIErrorCategory.RATE_LIMIT,
        GenAIErrorCategory.SERVER,
        GenAIErrorCategory.TIMEOUT,
        GenAIErrorCategory.CONNECTION,
    }
)

_FALLBACK_WORDS: dict[GenAIErrorCategory, str] = {
    GenAIErrorCategory.BAD_REQUEST: "Sorry, I got my words in a twist. Could you say that again?",
    GenAIErrorCategory.API_KEY_INVALID: "Sorry, my model key isn't valid. Please tell the staff.",
    GenAIErrorCategory.AUTH: "Sorry, I'm not signed in to my model. Please tell the staff.",
    GenAIErrorCategory.PERMISSION_DENIED: "Sorry, my model won't let me in. Please tell the staff.",
    GenAIErrorCategory.UNSUPPORTED_LOCATION: (
        "Sorry, my model isn't available from here. Please tell the staff."
    ),
    GenAIErrorCategory.MODEL_NOT_FOUND: "Sorry, I can't reach my model. Please tell the staff.",
    GenAIErrorCategory.RATE_LIMIT: "Sorry, it's busy right now. Please try again shortly.",
    GenAIErrorCategory.QUOTA_EXHAUSTED: (
        "Sorry, I've used up my thinking for today. Please tell the staff."
    ),
    GenAIErrorCategory.SERVER: "Sorry, I'm slow right now. Please try again in a moment.",
    GenAIErrorCategory.TIMEOUT: "Sorry, my model was too slow to answer. Please try again.",
    GenAIErrorCategory.CONNECTION: "Sorry, I can't reach my model. Please try again in a moment.",
    GenAIErrorCategory.UNKNOWN: "Sorry, something went wrong on my side. Please try again.",
}

# Gemini's error body is a google.rpc.Status: {"error": {"code", "message", "status",
# "details": [{"@type": ".../google.rpc.ErrorInfo", "reason": ...}, {".../RetryInfo",
# "retryDelay": "23s"}, {".../QuotaFailure", "violations": [...]}]}}. The reason says more
# than the status code: a bad key is 400 INVALID_ARGUMENT with reason API_KEY_INVALID.
_BY_REASON: dict[str, GenAIErrorCategory] = {
    "API_KEY_INVALID": GenAIErrorCategory.API_KEY_INVALID,
    "API_KEY_EXPIRED": GenAIErrorCategory.API_KEY_INVALID,
    "API_KEY_NOT_FOUND": GenAIErrorCategory.API_KEY_INVALID,
    "ACCESS_TOKEN_EXPIRED": GenAIErrorCategory.AUTH,
    "CREDENTIALS_MISSING": GenAIErrorCategory.AUTH,
    "SERVICE_DISABLED": GenAIErrorCategory.PERMISSION_DENIED,
    "API_KEY_SERVICE_BLOCKED": GenAIErrorCategory.PERMISSION_DENIED,
    "API_KEY_HTTP_REFERRER_BLOCKED": GenAIErrorCategory.PERMISSION_DENIED,
    "API_KEY_IP_ADDRESS_BLOCKED": GenAIErrorCategory.PERMISSION_DENIED,
    "IAM_PERMISSION_DENIED": GenAIErrorCategory.PERMISSION_DENIED,
    "CONSUMER_SUSPENDED": GenAIErrorCategory.PERMISSION_DENIED,
    "BILLING_DISABLED": GenAIErrorCategory.PERMISSION_DENIED,
    "RATE_LIMIT_EXCEEDED": GenAIErrorCategory.RATE_LIMIT,
    "RESOURCE_EXHAUSTED": GenAIErrorCategory.RATE_LIMIT,
}

_BY_STATUS: dict[str, GenAIErrorCategory] = {
    "INVALID_ARGUMENT": GenAIErrorCategory.BAD_REQUEST,
    "UNAUTHENTICATED": GenAIErrorCategory.AUTH,
    "PERMISSION_DENIED": GenAIErrorCategory.PERMISSION_DENIED,
    "NOT_FOUND": GenAIErrorCategory.MODEL_NOT_FOUND,
    "RESOURCE_EXHAUSTED": GenAIErrorCategory.RATE_LIMIT,
    "INTERNAL": GenAIErrorCategory.SERVER,
    "UNAVAILABLE": GenAIErrorCategory.SERVER,
    "DEADLINE_EXCEEDED": GenAIErrorCategory.TIMEOUT,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class ModelFailure:
    """Why the model could not answer, and what Maya tells the customer.

    Attributes:
        category: what kind of failure it was (a ``str`` enum: ``"rate_limit"``, ...).
        retryable: whether calling again later may succeed (rate limit, 5xx, slow, network).
        user_message: what Maya tells the customer (never carries a key).
        log_line: the one line logged for it, with every secret redacted.
        status_code: the HTTP status, when there was a response.
        retry_after_s: how long the service asked us to wait (``RetryInfo.retryDelay``).
        api_status: the error body's ``status`` (e.g. ``INVALID_ARGUMENT``), when given.
        reason: the ``ErrorInfo.reason`` (e.g. ``API_KEY_INVALID``), when given.
    """

    category: GenAIErrorCategory
    retryable: bool
    user_message: str
    log_line: str
    status_code: int | None = None
    retry_after_s: float | None = None
    api_status: str | None = None
    reason: str | None = None


def _http_errors(name: str) -> tuple[type[BaseException], ...]:
    """``name`` (e.g. ``TransportError``) from httpx and its fork httpx2, where installed."""
    found: list[type[BaseException]] = []
    # google-genai talks through httpx or its fork httpx2 (same names, other module).
    for module in ("httpx", "httpx2"):
        try:
            error = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if isinstance(error, type) and issubclass(error, BaseException):
            found.append(error)
    return tuple(found)


_NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    *_http_errors("TransportError"),
)
_TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (TimeoutError, *_http_errors("TimeoutException"))

MODEL_ERRORS: tuple[type[BaseException], ...] = (
    genai_errors.APIError,
    OSError,
    *_http_errors("HTTPError"),
)
"""What a model call may raise that becomes a reply instead of a crash."""


def _category_of_status(status: int) -> GenAIErrorCategory:
    if status == 401:
        return GenAIErrorCategory.AUTH
    if status == 403:
        return GenAIErrorCategory.PERMISSION_DENIED
    if status == 404:
        return GenAIErrorCategory.MODEL_NOT_FOUND
    if status == 429:
        return GenAIErrorCategory.RATE_LIMIT
    if status in (408, 504):
        return GenAIErrorCategory.TIMEOUT
    if status >= 500:
        return GenAIErrorCategory.SERVER
    if 400 <= status < 500:
        return GenAIErrorCategory.BAD_REQUEST
    return GenAIErrorCategory.UNKNOWN


_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def _error_of(body: Any) -> dict[str, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def _details_of(body: Any) -> list[dict[str, Any]]:
    entries = _error_of(body).get("details")
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _retry_after(body: Any) -> float | None:
    """The ``RetryInfo.retryDelay`` (a Duration such as ``"23s"`` or ``"1.5s"``)."""
    for entry in _details_of(body):
        delay = entry.get("retryDelay")
        match = _DELAY.match(delay) if isinstance(delay, str) else None
        if match:
            return float(match[1])
    return None


def _reason(body: Any) -> str | None:
    """The ``ErrorInfo.reason`` of the error body, e.g. ``API_KEY_INVALID``."""
    for entry in _details_of(body):
        reason = entry.get("reason")
        if isinstance(reason, str) and reason:
            return reason[:60]
    return None


def _api_status(exc: genai_errors.APIError) -> str | None:
    status = exc.status if isinstance(exc.status, str) else _error_of(exc.details).get("status")
    return status[:40] if isinstance(status, str) and status.isupper() else None


def _daily_quota(body: Any) -> bool:
    """True when a ``QuotaFailure`` names a per-day quota: waiting seconds will not help."""
    for entry in _details_of(body):
        for violation in entry.get("violations") or ():
            quota = violation.get("quotaId", "") if isinstance(violation, dict) else ""
            if isinstance(quota, str) and "PerDay" in quota:
                return True
    return False


def _classify_api_error(
    exc: genai_errors.APIError, status: int | None, api_status: str | None, reason: str | None
) -> GenAIErrorCategory:
    if reason is not None and reason in _BY_REASON:
        category = _BY_REASON[reason]
    elif "API key not valid" in str(exc.message or ""):
        category = GenAIErrorCategory.API_KEY_INVALID
    elif api_status == "FAILED_PRECONDITION" and "location" in str(exc.message or "").lower():
        category = GenAIErrorCategory.UNSUPPORTED_LOCATION
    elif api_status is not None and api_status in _BY_STATUS:
        category = _BY_STATUS[api_status]
    elif status is not None:
        category = _category_of_status(status)
    elif isinstance(exc, genai_errors.ServerError):
        category = GenAIErrorCategory.SERVER
    else:
        category = GenAIErrorCategory.UNKNOWN
    if category is GenAIErrorCategory.RATE_LIMIT and _daily_quota(exc.details):
        category = GenAIErrorCategory.QUOTA_EXHAUSTED
    return category


def wait_words(seconds: float) -> str:
    """About how long a wait is, in words: ``"about 25 seconds"``, ``"about 2 minutes"``."""
    if seconds < 55:
        return f"about {max(5, int(5 * round(seconds / 5)))} seconds"
    minutes = max(1, round(seconds / 60))
    return "about a minute" if minutes == 1 else f"about {minutes} minutes"


@cache
def _packaged_messages() -> MessageBook:
    return bar_messages()


def _classify(exc: BaseException, messages: MessageBook | None) -> ModelFailure:
    status: int | None = None
    retry_after: float | None = None
    api_status: str | None = None
    reason: str | None = None
    detail = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, genai_errors.APIError):
        status = exc.code if isinstance(exc.code, int) else None
        api_status = _api_status(exc)
        reason = _reason(exc.details)
        category = _classify_api_error(exc, status, api_status, reason)
        retry_after = _retry_after(exc.details)
    elif isinstance(exc, _TIMEOUT_ERRORS):
        category = GenAIErrorCategory.TIMEOUT
    elif isinstance(exc, _NETWORK_ERRORS):
        category = GenAIErrorCategory.CONNECTION
    else:
        category = GenAIErrorCategory.UNKNOWN
    detail = redact(" ".join(str(detail).split()))[:_DETAIL_LIMIT]
    log_line = (
        f"gemini call failed: category={category.value} status={status if status else '-'} "
        f"api_status={api_status or '-'} reason={reason or '-'} "
        f"retryable={category in _RETRYABLE} "
        + (f"retry_delay={retry_after:g}s " if retry_after is not None else "")
        + f"error={type(exc).__name__}: {detail}"
    )
    book = messages if messages is not None else _packaged_messages()
    details = {"wait": wait_words(retry_after)} if retry_after is not None else {}
    return ModelFailure(
        category=category,
        retryable=category in _RETRYABLE,
        status_code=status,
        retry_after_s=retry_after,
        log_line=log_line,
        user_message=book.render(
            f"genai_{category.value}", details, fallback=_FALLBACK_WORDS[category]
        ),
        api_status=api_status,
        reason=reason,
    )


def describe_model_error(
    exc: BaseException, *, messages: MessageBook | None = None
) -> ModelFailure:
    """Classify a model-call failure and log it once on ``maya.genai``.

    The category comes from the error body's ``ErrorInfo.reason`` first, then its
    ``status``, then the HTTP status code; a network failure is ``connection`` and a
    timeout is ``timeout`` (the model was slow, the network may be fine). Retryable
    failures log a warning, the rest an error; the line never contains an API key, a
    Stripe key or a bearer token.

    Args:
        exc: what the ``google.genai`` call raised.
        messages: Maya's words; default: the packaged ``prompts/messages.yaml``.
    """
    failure = _classify(exc, messages)
    _log.log(logging.WARNING if failure.retryable else logging.ERROR, "%s", failure.log_line)
    return failure


MODEL_RETRY_POLICY = RetryPolicy(
    max_retries=2,
    initial_wait=1.0,
    max_wait=8.0,
    overall_timeout=DEFAULT_TURN_BUDGET_S,
    min_call_s=2.0,
)
"""When the loop calls the model again: twice more at most, 1 s then 2 s apart (a 429's
``retryDelay`` replaces the back-off), and only if the wait and 2 s for the call still
fit in the turn's budget."""
