"""Masking secrets in text before it reaches a log line, a trace, an exception or a result.

The one place Maya's secret patterns live; payments, tools and the agent all call it.
"""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact"]

REDACTED = "***"
"""What a secret is replaced with; key prefixes stay so a reader can tell test from live."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Stripe secret and restricted keys keep their mode prefix: "sk_test_***" is still useful.
    (re.compile(r"\b(sk|rk|pk)_(test|live)_[A-Za-z0-9]+"), rf"\1_\2_{REDACTED}"),
    # Any other restricted-key shape (rk_...) and webhook signing secrets.
    (re.compile(r"\brk_(?!(?:test|live)_\*)[A-Za-z0-9_]{8,}"), f"rk_{REDACTED}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9_\-]+"), f"whsec_{REDACTED}"),
    # HTTP bearer tokens, whatever they carry.
    (re.compile(r"\b(Bearer)\s+[^\s\"',;]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # Google API keys (Gemini).
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{16,}"), f"AIza{REDACTED}"),
    # Keys that look like nothing in particular but sit where keys go: ?key=, headers,
    # --api-key=... (a Stripe key there was already masked above and keeps its prefix).
    (re.compile(r"(?i)(?<=[?&]key=)[^&\s\"']+"), REDACTED),
    (re.compile(r"(?i)(x-goog-api-key[\"']?\s*[:=]\s*[\"']?)[^\s\"',]+"), rf"\1{REDACTED}"),
    (
        re.compile(r"(?i)(?<=api[_-]key=)(?!(?:sk|rk|pk)_(?:test|live)_\*)[^&\s\"',]+"),
        REDACTED,
    ),
)


def redact(text: str) -> str:
    """Mask Stripe keys, bearer tokens and Gemini keys in ``text``.

    ``sk_test_abc`` becomes ``sk_test_***``, ``Bearer abc`` becomes ``Bearer ***``,
    ``AIza...`` becomes ``AIza***``, ``?key=abc`` becomes ``?key=***``. Text without
    secrets is returned unchanged.

    Args:
        text: Anything about to be logged, raised, traced or returned.

    Returns:
        The text with every recognised secret masked.
    """
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
