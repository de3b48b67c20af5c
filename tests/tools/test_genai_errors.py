"""Gemini SDK errors: sorted into categories, logged once without secrets, told in Maya's voice."""

from __future__ import annotations

import logging

import httpx
import pytest
from google.genai import errors

from maya.errors import GenAIErrorCategory, classify_and_log_genai_error
from maya.tools import MessageBook

KEY = "AIzaSyA-1234567890abcdefghijklmnopqrs"
STRIPE_KEY = "sk_test_51AbCdEfGhIjKlMnOp"


def _api_error(
    cls: type[errors.APIError], code: int, message: str, **extra: object
) -> errors.APIError:
    return cls(code, {"error": {"code": code, "message": message, "status": "X", **extra}})


CASES = [
    (
        _api_error(errors.ClientError, 400, f"Invalid JSON payload; key={KEY}"),
        GenAIErrorCategory.BAD_REQUEST,
        False,
    ),
    (
        _api_error(errors.ClientError, 401, f"API key not valid: {KEY}"),
        GenAIErrorCategory.AUTH,
        False,
    ),
    (
        _api_error(errors.ClientError, 403, f"Permission denied for Bearer {KEY}"),
        GenAIErrorCategory.AUTH,
        False,
    ),
    (
        _api_error(errors.ClientError, 404, "models/gemini-9 is not found"),
        GenAIErrorCategory.MODEL_NOT_FOUND,
        False,
    ),
    (
        _api_error(errors.ClientError, 429, f"Quota exceeded for {KEY}"),
        GenAIErrorCategory.RATE_LIMIT,
        True,
    ),
    (_api_error(errors.ServerError, 500, "Internal error"), GenAIErrorCategory.SERVER, True),
    (
        _api_error(errors.ServerError, 503, f"Overloaded ({STRIPE_KEY})"),
        GenAIErrorCategory.SERVER,
        True,
    ),
    (
        httpx.ConnectError(f"connect failed https://x/v1beta?key={KEY}"),
        GenAIErrorCategory.CONNECTION,
        True,
    ),
    (httpx.ReadTimeout("timed out"), GenAIErrorCategory.CONNECTION, True),
    (ConnectionResetError("reset by peer"), GenAIErrorCategory.CONNECTION, True),
    (RuntimeError(f"weird {KEY} {STRIPE_KEY}"), GenAIErrorCategory.UNKNOWN, False),
]


@pytest.mark.parametrize(("exc", "category", "retryable"), CASES)
def test_each_error_class_is_classified_and_logged_without_secrets(
    exc: BaseException,
    category: GenAIErrorCategory,
    retryable: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="maya.genai")
    info = classify_and_log_genai_error(exc)
    assert info.category is category and info.retryable is retryable
    (record,) = [r for r in caplog.records if r.name == "maya.genai"]
    line = record.getMessage()
    assert line == info.log_line and f"category={category.value}" in line
    assert record.levelno == (logging.WARNING if retryable else logging.ERROR)
    for secret in (KEY, STRIPE_KEY, KEY[8:]):
        assert secret not in line and secret not in info.user_message
    assert info.user_message and "{" not in info.user_message


def test_the_status_code_and_the_asked_for_delay_are_kept() -> None:
    exc = _api_error(
        errors.ClientError,
        429,
        "Resource exhausted",
        details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}],
    )
    info = classify_and_log_genai_error(exc)
    assert info.status_code == 429 and info.retry_after_s == 12.0


def test_user_messages_come_from_the_messages_file() -> None:
    exc = _api_error(errors.ClientError, 429, "slow down")
    book = MessageBook.from_yaml("genai_rate_limit: 'Busy night! One moment.'")
    assert (
        classify_and_log_genai_error(exc, messages=book).user_message == "Busy night! One moment."
    )


def test_without_a_template_maya_still_says_something_plain() -> None:
    info = classify_and_log_genai_error(httpx.ConnectError("down"), messages=MessageBook({}))
    assert info.user_message.startswith("Sorry")
