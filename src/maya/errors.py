"""What went wrong talking to Gemini: a category, whether to retry, a safe log line, and
what Maya tells the customer.

``google.genai`` raises ``errors.ClientError`` (4xx) and ``errors.ServerError`` (5xx),
both carrying the HTTP status in ``.code``; a network failure surfaces as the HTTP
client's own exception (``httpx`` or its fork ``httpx2``) or a plain ``OSError``.
``classify_genai_error`` sorts them; ``classify_and_log_genai_error`` also logs one line
on ``maya.genai`` with every key and token redacted.
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

from maya.redact import redact
from maya.tools.messages import MessageBook, load_messages

__all__ = [
    "GenAIErrorCategory",
    "GenAIErrorInfo",
    "classify_and_log_genai_error",
    "classify_genai_error",
]

_log = logging.getLogger("maya.genai")

_DETAIL_LIMIT = 300


class GenAIErrorCategory(StrEnum):
    """Kinds of failure calling the model."""

    BAD_REQUEST = "bad_request"
    AUTH = "auth"
    MODEL_NOT_FOUND = "model_not_found"
    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    CONNECTION = "connection"
    UNKNOWN = "unknown"


_RETRYABLE = frozenset(
    {GenAIErrorCategory.RATE_LIMIT, GenAIErrorCategory.SERVER, GenAIErrorCategory.CONNECTION}
)

_FALLBACK_WORDS: dict[GenAIErrorCategory, str] = {
    GenAIErrorCategory.BAD_REQUEST: "Sorry, I got my words in a twist. Could you say that again?",
    GenAIErrorCategory.AUTH: "Sorry, I can't reach my model right now. Please tell the staff.",
    GenAIErrorCategory.MODEL_NOT_FOUND: "Sorry, I can't reach my model. Please tell the staff.",
    GenAIErrorCategory.RATE_LIMIT: "Sorry, it's busy right now. Please try again shortly.",
    GenAIErrorCategory.SERVER: "Sorry, I'm slow right now. Please try again in a moment.",
    GenAIErrorCategory.CONNECTION: "Sorry, I can't reach my model. Please try again in a moment.",
    GenAIErrorCategory.UNKNOWN: "Sorry, something went wrong on my side. Please try again.",
}


@dataclass(frozen=True, slots=True)
class GenAIErrorInfo:
    """A classified model-call failure.

    Attributes:
        category: what kind of failure it was.
        retryable: whether calling again later may succeed (rate limit, 5xx, network).
        status_code: the HTTP status, when there was a response.
        retry_after_s: how long the service asked us to wait, when it said.
        log_line: one line describing it, with every secret redacted.
        user_message: what Maya tells the customer.
    """

    category: GenAIErrorCategory
    retryable: bool
    status_code: int | None
    retry_after_s: float | None
    log_line: str
    user_message: str


def _network_errors() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [ConnectionError, TimeoutError]
    # google-genai talks through httpx or its fork httpx2 (same names, other module).
    for module in ("httpx", "httpx2"):
        try:
            transport = getattr(importlib.import_module(module), "TransportError", None)
        except ImportError:
            continue
        if isinstance(transport, type) and issubclass(transport, BaseException):
            found.append(transport)
    return tuple(found)


_NETWORK_ERRORS = _network_errors()


def _category_of_status(status: int) -> GenAIErrorCategory:
    if status in (401, 403):
        return GenAIErrorCategory.AUTH
    if status == 404:
        return GenAIErrorCategory.MODEL_NOT_FOUND
    if status == 429:
        return GenAIErrorCategory.RATE_LIMIT
    if status == 408 or status >= 500:
        return GenAIErrorCategory.SERVER
    if 400 <= status < 500:
        return GenAIErrorCategory.BAD_REQUEST
    return GenAIErrorCategory.UNKNOWN


_DELAY = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def _retry_after(details: Any) -> float | None:
    """The ``RetryInfo.retryDelay`` (e.g. ``"12s"``) Gemini puts in a 429's details."""
    error = details.get("error") if isinstance(details, dict) else None
    entries = error.get("details") if isinstance(error, dict) else None
    for entry in entries if isinstance(entries, list) else ():
        delay = entry.get("retryDelay") if isinstance(entry, dict) else None
        match = _DELAY.match(delay) if isinstance(delay, str) else None
        if match:
            return float(match[1])
    return None


@cache
def _packaged_messages() -> MessageBook:
    return load_messages()


def classify_genai_error(
    exc: BaseException, *, messages: MessageBook | None = None
) -> GenAIErrorInfo:
    """Sort a model-call failure into a category, without logging it.

    Args:
        exc: what the ``google.genai`` call raised.
        messages: Maya's words; default: the packaged ``prompts/messages.yaml``.
    """
    status: int | None = None
    retry_after: float | None = None
    detail = getattr(exc, "message", None) or str(exc)
    if isinstance(exc, genai_errors.APIError):
        status = exc.code if isinstance(exc.code, int) else None
        if isinstance(exc, genai_errors.ServerError):
            category = GenAIErrorCategory.SERVER
        elif status is not None:
            category = _category_of_status(status)
        else:
            category = GenAIErrorCategory.UNKNOWN
        if category is GenAIErrorCategory.RATE_LIMIT:
            retry_after = _retry_after(exc.details)
    elif isinstance(exc, _NETWORK_ERRORS):
        category = GenAIErrorCategory.CONNECTION
    else:
        category = GenAIErrorCategory.UNKNOWN
    detail = redact(" ".join(str(detail).split()))[:_DETAIL_LIMIT]
    log_line = (
        f"gemini call failed: category={category.value} status={status if status else '-'} "
        f"retryable={category in _RETRYABLE} error={type(exc).__name__}: {detail}"
    )
    book = messages if messages is not None else _packaged_messages()
    return GenAIErrorInfo(
        category=category,
        retryable=category in _RETRYABLE,
        status_code=status,
        retry_after_s=retry_after,
        log_line=log_line,
        user_message=book.render(f"genai_{category.value}", fallback=_FALLBACK_WORDS[category]),
    )


def classify_and_log_genai_error(
    exc: BaseException, *, messages: MessageBook | None = None
) -> GenAIErrorInfo:
    """Classify a model-call failure and log it once on ``maya.genai``.

    Retryable failures log a warning, the rest an error; the line never contains an API
    key, a Stripe key or a bearer token.

    Args:
        exc: what the ``google.genai`` call raised.
        messages: Maya's words; default: the packaged ``prompts/messages.yaml``.
    """
    info = classify_genai_error(exc, messages=messages)
    _log.log(logging.WARNING if info.retryable else logging.ERROR, "%s", info.log_line)
    return info
