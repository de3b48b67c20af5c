"""Secrets out of log lines: API keys, Stripe keys and bearer tokens become ``[REDACTED]``."""

from __future__ import annotations

import re

__all__ = ["REDACTED", "redact"]

REDACTED = "[REDACTED]"

_SECRETS = re.compile(
    r"""
      AIza[0-9A-Za-z_\-]{10,}                              # Google API keys
    | \b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{6,}         # Stripe secret/restricted/publishable
    | \bwhsec_[0-9A-Za-z]{6,}                              # Stripe webhook secrets
    | (?i:bearer)\s+[A-Za-z0-9._~+/=\-]{6,}                # Authorization: Bearer ...
    | (?i:(?<=[?&]key=))[^&\s"']+                          # ?key=... in URLs
    | (?i:(?<=x-goog-api-key[:=]\s))\S+                    # header dumps
    | (?i:(?<=api[_-]key=))[^&\s"',]+                      # api_key=... / --api-key=...
    """,
    re.VERBOSE,
)


def redact(text: str) -> str:
    """``text`` with every secret-looking token replaced by ``[REDACTED]``."""
    return _SECRETS.sub(REDACTED, text)
