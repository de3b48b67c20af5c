"""Secrets out of traces: Stripe keys, Gemini keys, bearer tokens and known values.

Traces keep what the model saw and what the tools said, which can include error text
from a provider; everything written passes through ``Redactor`` first. The patterns are
``maya.redact``'s; on top, the exact values of
the secret environment variables (and any secret handed over) are hidden even when they
look like nothing in particular."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from maya.redact import REDACTED, redact

__all__ = ["REDACTED", "SECRET_ENV_VARS", "Redactor"]

SECRET_ENV_VARS: tuple[str, ...] = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_API_KEY",
)
"""Environment variables whose values are redacted wherever they appear."""


class Redactor:
    """Replaces secrets in text and in JSON-like values."""

    def __init__(
        self, *, secrets: Iterable[str] = (), env: Mapping[str, str] | None = None
    ) -> None:
        """Create a redactor.

        Args:
            secrets: exact values to hide (at least 6 characters each; shorter are ignored).
            env: also hide the values of ``SECRET_ENV_VARS`` found here (default:
                ``os.environ``).
        """
        environ = os.environ if env is None else env
        values = {s for s in secrets if len(s) >= 6}
        values.update(v for name in SECRET_ENV_VARS if len(v := environ.get(name, "")) >= 6)
        self._values = sorted(values, key=len, reverse=True)

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by ``REDACTED``."""
        for secret in self._values:
            value = value.replace(secret, REDACTED)
        return redact(value)

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string redacted (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value
