"""Which payment link URLs may reach a customer: ``https`` on Stripe's hosts
(``buy.stripe.com``, ``checkout.stripe.com``), or a loopback host for the sandbox.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from maya.addresses import is_loopback_host

__all__ = ["MAX_URL_LENGTH", "STRIPE_LINK_HOSTS", "check_link_url"]

STRIPE_LINK_HOSTS: frozenset[str] = frozenset({"buy.stripe.com", "checkout.stripe.com"})
"""Where Stripe's own payment links are served."""

MAX_URL_LENGTH = 2048
"""Longer than any Stripe link; a longer answer is not a link."""


def check_link_url(url: str, *, hosts: Collection[str], allow_loopback: bool) -> str | None:
    """Why ``url`` must not be handed out, or None when it is fine.

    Args:
        url: The link's URL as the server answered it.
        hosts: Hosts an ``https`` link may be on (exact names, lower case).
        allow_loopback: Accept ``http``/``https`` on a loopback host (the sandbox).

    Returns:
        A short reason that names no part of the URL beyond its scheme and host.
    """
    if len(url) > MAX_URL_LENGTH:
        return "the URL is too long"
    if any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in url):
        return "the URL contains spaces or control characters"
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "the URL cannot be parsed"
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        return f"scheme {scheme or '(none)'!r} is not https"
    if parts.username is not None or parts.password is not None:
        return "the URL carries credentials"
    if not host:
        return "the URL has no host"
    if allow_loopback and is_loopback_host(host):
        return None
    if scheme != "https":
        return f"plain http to {host}"
    if host not in hosts:
        return f"host {host} is not a payment link host"
    return None
