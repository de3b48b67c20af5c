"""Masking secrets in text before it reaches a log line, an exception or a result."""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact"]

REDACTED = "***"
"""What a secret is replaced with; key prefixes stay so a reader can tell test from live."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Stripe secret and restricted keys keep their mode prefix: "sk_test_***" is still useful.
    (re.compile(r"\b(sk|rk)_(test|live)_[A-Za-z0-9]+"), rf"\1_\2_{REDACTED}"),
    # Any other restricted-key shape (rk_...) and webhook signing secrets.
    (re.compile(r"\brk_[A-Za-z0-9_]{8,}"), f"rk_{REDACTED}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9]+"), f"whsec_{REDACTED}"),
    # HTTP bearer tokens, whatever they carry.
    (re.compile(r"\b(Bearer)\s+[^\s\"',;]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # Google API keys (Gemini).
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{16,}"), f"AIza{REDACTED}"),
)


def redact(text: str) -> str:
    """Mask Stripe keys, bearer tokens and Gemini keys in ``text``.

    ``sk_test_abc`` becomes ``sk_test_***``, ``Bearer abc`` becomes ``Bearer ***``,
    ``AIza...`` becomes ``AIza***``. Text without secrets is returned unchanged.

    Args:
        text: Anything about to be logged, raised or returned.

    Returns:
        The text with every recognised secret masked.
    """
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text
