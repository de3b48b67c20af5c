"""Reading a request body with a hard limit while it streams, chunked or not: counted on the
bytes as they arrive (413), bounded in time (408), and a client that hangs up halfway
refused like any other bad body (400), not left to fail the app.
"""

from __future__ import annotations

from dataclasses import dataclass

import anyio
from starlette.requests import ClientDisconnect, Request

__all__ = ["BODY_TIMEOUT_S", "BodyRefused", "read_body"]

BODY_TIMEOUT_S = 30.0
"""The longest a body may take to arrive, in seconds."""


@dataclass(frozen=True, slots=True)
class BodyRefused(Exception):
    """A body not read: too large (413), too slow (408) or cut off by the client (400).

    Attributes:
        status: the HTTP status.
        reason: a short reason, safe to log and to answer.
    """

    status: int
    reason: str

    def __str__(self) -> str:
        return f"{self.status} {self.reason}"


async def read_body(request: Request, *, limit: int, timeout_s: float = BODY_TIMEOUT_S) -> bytes:
    """The request's body, at most ``limit`` bytes.

    Raises:
        BodyRefused: 413 when the declared or the received length passes ``limit`` (no
            more than ``limit`` bytes plus one chunk are ever held), 408 when the body
            takes longer than ``timeout_s``, 400 when the client disconnects before the
            body has arrived (nobody reads that answer; the request's log line says why).
    """
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyRefused(413, f"body over {limit} bytes")
    body = bytearray()
    with anyio.move_on_after(timeout_s) as scope:
        try:
            async for chunk in request.stream():
                if len(body) + len(chunk) > limit:
                    raise BodyRefused(413, f"body over {limit} bytes")
                body += chunk
        except ClientDisconnect:
            raise BodyRefused(400, "the client left before its body arrived") from None
    if scope.cancelled_caught:
        raise BodyRefused(408, "the body took too long to arrive")
    return bytes(body)
