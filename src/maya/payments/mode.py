"""Telling test mode from live mode, and refusing live mode unless it was asked for."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from maya.payments.errors import LiveModeRefusedError
from maya.payments.results import StripeMode

__all__ = [
    "ALLOW_LIVE_ENV",
    "allow_live_from_env",
    "detect_mode",
    "ensure_mode_allowed",
    "is_loopback_url",
]

ALLOW_LIVE_ENV = "MAYA_ALLOW_LIVE"
"""Set to ``1`` to let Maya use a live-mode Stripe key."""

_KEY = re.compile(r"\b(?:sk|rk)_(test|live)_[A-Za-z0-9]+")
_TRUE = {"1", "true", "yes", "on"}


def allow_live_from_env(environ: Mapping[str, str]) -> bool:
    """Whether ``MAYA_ALLOW_LIVE`` enables live mode in ``environ``."""
    return environ.get(ALLOW_LIVE_ENV, "").strip().lower() in _TRUE


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine (where only the sandbox is expected)."""
    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")


def detect_mode(
    values: Iterable[str], *, fallback_key: str | None = None, local: bool = False
) -> StripeMode:
    """Decide test or live from the Stripe keys found in a server's configuration.

    Any live key makes it live. With no key in ``values``, a local server (the sandbox)
    is test mode; otherwise ``fallback_key`` (the ``STRIPE_SECRET_KEY`` variable)
    decides. With no key at all a remote server counts as live: without a test key
    there is no proof real money is out of reach.

    Args:
        values: Arguments, environment values and header values, already expanded.
        fallback_key: ``STRIPE_SECRET_KEY``, if set.
        local: The server is the sandbox or listens on a loopback address.

    Returns:
        ``"test"`` or ``"live"``.
    """
    modes = {match.group(1) for value in values for match in _KEY.finditer(value)}
    if not modes and local:
        return "test"
    if not modes and fallback_key:
        modes = {match.group(1) for match in _KEY.finditer(fallback_key)}
    return "test" if modes == {"test"} else "live"


def ensure_mode_allowed(mode: StripeMode, *, allow_live: bool, server: str) -> None:
    """Refuse live mode unless it was enabled explicitly.

    Args:
        mode: The configured server's mode.
        allow_live: Whether live mode was enabled (``MAYA_ALLOW_LIVE=1``).
        server: The server's name, for the message.

    Raises:
        LiveModeRefusedError: ``mode`` is live and ``allow_live`` is False.
    """
    if mode == "live" and not allow_live:
        raise LiveModeRefusedError(
            "the configured Stripe server uses a live-mode key (or no test key was found); "
            f"set {ALLOW_LIVE_ENV}=1 to take real payments",
            server=server,
        )
