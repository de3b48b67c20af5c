"""Who a request is, and whether it may change anything: the signed session cookie, the
``Origin`` check of state-changing requests, and the security headers (CSP, no framing).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, MutableMapping

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from maya.signing import Signer

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "COOKIE_MAX_AGE_S",
    "COOKIE_NAME",
    "COOKIE_PURPOSE",
    "SECURE_COOKIE_NAME",
    "cookie_name",
    "new_token",
    "origin_allowed",
    "secure_headers",
    "session_of",
    "set_session_cookie",
    "token_of",
]

COOKIE_NAME = "maya_tab"
"""The cookie's name over plain http (loopback)."""
SECURE_COOKIE_NAME = "__Host-maya_tab"
"""The cookie's name when it is ``Secure``: browsers keep it only from https, for this host."""
COOKIE_PURPOSE = "maya-web-cookie"
"""What the cookie's signing key is derived for (``Signer(secret, purpose=...)``)."""
COOKIE_MAX_AGE_S = 30 * 24 * 3600
"""A browser keeps its tab for 30 days (or until "New tab")."""

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def cookie_name(*, secure: bool) -> str:
    """The cookie's name: ``__Host-`` prefixed when it is ``Secure``."""
    return SECURE_COOKIE_NAME if secure else COOKIE_NAME


def new_token(signer: Signer) -> str:
    """A fresh browser token: 256 random bits, signed by ``signer`` (66 characters)."""
    return signer.issue()


def token_of(connection: HTTPConnection, signer: Signer, *, secure: bool) -> str | None:
    """The request's browser token, if it carries one this server issued."""
    token = connection.cookies.get(cookie_name(secure=secure))
    return token if token is not None and signer.valid(token) else None


def session_of(token: str) -> str:
    """The tab's session id for a browser token (a one-way hash of it)."""
    return "web-" + hashlib.sha256(token.encode()).hexdigest()[:40]


def set_session_cookie(response: Response, token: str, *, secure: bool) -> None:
    """Give the browser ``token``: HttpOnly, SameSite=Lax, for the whole site."""
    response.set_cookie(
        cookie_name(secure=secure),
        token,
        max_age=COOKIE_MAX_AGE_S,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def origin_allowed(request: Request, allowed: Collection[str]) -> bool:
    """True when the request's ``Origin`` is this server's own, or one of ``allowed``."""
    origin = request.headers.get("origin")
    if not origin:
        return False
    # The URL's scheme and netloc as Starlette gives them (the Host header, else the
    # server's address), without parsing the whole URL for a POST's every check.
    host = request.headers.get("host")
    own = (
        f"{request.scope['scheme']}://{host}"
        if host
        else f"{request.url.scheme}://{request.url.netloc}"
    )
    return origin == own or origin in allowed


def secure_headers(headers: MutableHeaders | MutableMapping[str, str]) -> None:
    """The headers every response of the page carries."""
    headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers.setdefault("Cache-Control", "no-store")
