"""Gemini SDK errors: sorted by the error body's reason and status (not the HTTP code alone),
logged once without secrets, each told in its own words.

The bodies are Google's ``google.rpc.Status`` as the Gemini API sends them: ``ErrorInfo``
(reason, domain, metadata), ``RetryInfo`` (retryDelay), ``QuotaFailure`` (violations),
``Help`` and ``LocalizedMessage`` details.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from google.genai import errors

from maya.agent.model_errors import GenAIErrorCategory, wait_words
from maya.agent.model_errors import describe_model_error as classify_and_log_genai_error
from maya.tools import MessageBook

KEY = "AIzaSyA-1234567890abcdefghijklmnopqrs"
STRIPE_KEY = "sk_test_51AbCdEfGhIjKlMnOp"

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
HELP = "type.googleapis.com/google.rpc.Help"
LOCALIZED = "type.googleapis.com/google.rpc.LocalizedMessage"


def _body(code: int, status: str, message: str, *details: dict[str, Any]) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = list(details)
    return {"error": error}


def _info(reason: str, **metadata: str) -> dict[str, Any]:
    return {
        "@type": ERROR_INFO,
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com", **metadata},
    }


def _quota(quota_id: str) -> dict[str, Any]:
    return {
        "@type": QUOTA_FAILURE,
        "violations": [
            {
                "quotaMetric": (
                    "generativelanguage.googleapis.com/generate_content_free_tier_requests"
                ),
                "quotaId": quota_id,
                "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                "quotaValue": "10",
            }
        ],
    }


HELP_LINK = {
    "@type": HELP,
    "links": [
        {
            "description": "Learn more about Gemini API quotas",
            "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
        }
    ],
}

API_KEY_INVALID = _body(
    400,
    "INVALID_ARGUMENT",
    "API key not valid. Please pass a valid API key.",
    _info("API_KEY_INVALID"),
    {
        "@type": LOCALIZED,
        "locale": "en-US",
        "message": "API key not valid. Please pass a valid API key.",
    },
)
PER_MINUTE_429 = _body(
    429,
    "RESOURCE_EXHAUSTED",
    "You exceeded your current quota, please check your plan and billing details.",
    _quota("GenerateRequestsPerMinutePerProjectPerModel-FreeTier"),
    HELP_LINK,
    {"@type": RETRY_INFO, "retryDelay": "23s"},
)
PER_DAY_429 = _body(
    429,
    "RESOURCE_EXHAUSTED",
    "You exceeded your current quota, please check your plan and billing details.",
    _quota("GenerateRequestsPerDayPerProjectPerModel-FreeTier"),
    HELP_LINK,
    {"@type": RETRY_INFO, "retryDelay": "37.5s"},
)

CASES: list[tuple[BaseException, GenAIErrorCategory, bool, str]] = [
    (
        errors.ClientError(400, API_KEY_INVALID),
        GenAIErrorCategory.API_KEY_INVALID,
        False,
        "key to my model isn't valid",
    ),
    (
        errors.ClientError(
            400, _body(400, "INVALID_ARGUMENT", f"Invalid JSON payload received; key={KEY}")
        ),
        GenAIErrorCategory.BAD_REQUEST,
        False,
        "words in a twist",
    ),
    (
        errors.ClientError(
            400,
            _body(400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
        ),
        GenAIErrorCategory.UNSUPPORTED_LOCATION,
        False,
        "isn't available from where",
    ),
    (
        errors.ClientError(
            401,
            _body(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials.",
                _info("ACCESS_TOKEN_EXPIRED"),
            ),
        ),
        GenAIErrorCategory.AUTH,
        False,
        "isn't authorised",
    ),
    (
        errors.ClientError(
            403,
            _body(
                403,
                "PERMISSION_DENIED",
                "Generative Language API has not been used in project 123 before or it is "
                f"disabled. Bearer {KEY}",
                _info("SERVICE_DISABLED", consumer="projects/123"),
            ),
        ),
        GenAIErrorCategory.PERMISSION_DENIED,
        False,
        "won't let me in",
    ),
    (
        errors.ClientError(
            403,
            _body(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers.",
            ),
        ),
        GenAIErrorCategory.PERMISSION_DENIED,
        False,
        "won't let me in",
    ),
    (
        errors.ClientError(
            404,
            _body(
                404,
                "NOT_FOUND",
                "models/gemini-9 is not found for API version v1beta, or is not supported "
                "for generateContent.",
            ),
        ),
        GenAIErrorCategory.MODEL_NOT_FOUND,
        False,
        "model I'm meant to use",
    ),
    (
        errors.ClientError(429, PER_MINUTE_429),
        GenAIErrorCategory.RATE_LIMIT,
        True,
        "about 25 seconds",
    ),
    (
        errors.ClientError(429, PER_DAY_429),
        GenAIErrorCategory.QUOTA_EXHAUSTED,
        False,
        "for today",
    ),
    (
        errors.ServerError(
            500, _body(500, "INTERNAL", "An internal error has occurred. Please retry.")
        ),
        GenAIErrorCategory.SERVER,
        True,
        "slow tonight",
    ),
    (
        errors.ServerError(
            503,
            _body(503, "UNAVAILABLE", f"The model is overloaded. Please try later. {STRIPE_KEY}"),
        ),
        GenAIErrorCategory.SERVER,
        True,
        "slow tonight",
    ),
    (
        errors.ServerError(
            504,
            _body(504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
        ),
        GenAIErrorCategory.TIMEOUT,
        True,
        "too slow",
    ),
    (
        httpx.ConnectError(f"connect failed https://x/v1beta?key={KEY}"),
        GenAIErrorCategory.CONNECTION,
        True,
        "over the network",
    ),
    (httpx.ReadTimeout("timed out"), GenAIErrorCategory.TIMEOUT, True, "too slow"),
    (TimeoutError("no answer"), GenAIErrorCategory.TIMEOUT, True, "too slow"),
    (ConnectionResetError("reset by peer"), GenAIErrorCategory.CONNECTION, True, "network"),
    (
        RuntimeError(f"weird {KEY} {STRIPE_KEY}"),
        GenAIErrorCategory.UNKNOWN,
        False,
        "went wrong on my side",
    ),
]


@pytest.mark.parametrize(("exc", "category", "retryable", "words"), CASES)
def test_each_error_class_is_classified_and_logged_without_secrets(
    exc: BaseException,
    category: GenAIErrorCategory,
    retryable: bool,
    words: str,
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
    assert words in info.user_message and "{" not in info.user_message


def test_every_category_has_its_own_words() -> None:
    said = {info.category: info.user_message for info in map(_classify, CASES)}
    # Categories reached by the cases above, each told differently.
    assert len(set(said.values())) == len(said)


def _classify(case: tuple[BaseException, GenAIErrorCategory, bool, str]) -> Any:
    return classify_and_log_genai_error(case[0])


def test_a_bad_key_is_told_by_its_reason_not_its_status_code() -> None:
    info = classify_and_log_genai_error(errors.ClientError(400, API_KEY_INVALID))
    assert info.status_code == 400 and info.api_status == "INVALID_ARGUMENT"
    assert info.reason == "API_KEY_INVALID"
    assert (
        "reason=API_KEY_INVALID" in info.log_line and "api_status=INVALID_ARGUMENT" in info.log_line
    )
    assert "again" not in info.user_message


def test_the_status_code_and_the_asked_for_delay_are_kept() -> None:
    info = classify_and_log_genai_error(errors.ClientError(429, PER_MINUTE_429))
    assert info.status_code == 429 and info.retry_after_s == 23.0
    assert "retry_delay=23s" in info.log_line
    fractional = classify_and_log_genai_error(errors.ClientError(429, PER_DAY_429))
    assert fractional.retry_after_s == 37.5


def test_a_vertex_style_list_body_is_read_too() -> None:
    info = classify_and_log_genai_error(errors.ClientError(429, [PER_MINUTE_429]))
    assert info.category is GenAIErrorCategory.RATE_LIMIT and info.retry_after_s == 23.0


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(3, "about 5 seconds"), (23, "about 25 seconds"), (45, "about 45 seconds"),
     (61, "about a minute"), (150, "about 2 minutes")],
)  # fmt: skip
def test_waits_are_told_roughly(seconds: float, words: str) -> None:
    assert wait_words(seconds) == words


def test_user_messages_come_from_the_messages_file() -> None:
    exc = errors.ClientError(429, _body(429, "RESOURCE_EXHAUSTED", "slow down"))
    book = MessageBook.from_yaml("genai_rate_limit: 'Busy night! One moment.'")
    assert (
        classify_and_log_genai_error(exc, messages=book).user_message == "Busy night! One moment."
    )


def test_without_a_template_maya_still_says_something_plain() -> None:
    info = classify_and_log_genai_error(httpx.ConnectError("down"), messages=MessageBook({}))
    assert info.user_message.startswith("Sorry")
