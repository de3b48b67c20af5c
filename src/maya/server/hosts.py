"""The ``Host`` allow-list of ``maya serve`` (421 for a foreign name: no DNS-rebinding page
can drive a server on loopback), and ``nosniff`` on every response.
"""

from __future__ import annotations

import json
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from maya.addresses import is_loopback_host

__all__ = ["LOOPBACK_NAMES", "HostGuard", "allowed_hosts_for", "host_name"]

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
"""The names a server bound to loopback is reached by."""

_WILDCARDS = frozenset({"0.0.0.0", "::", ""})
_NOSNIFF = (b"x-content-type-options", b"nosniff")


def host_name(header: str) -> str:
    """The name in a ``Host`` header, lowercased, without port or IPv6 brackets."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].split("]", 1)[0]
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


def allowed_hosts_for(bound_host: str, extra: Collection[str] = ()) -> frozenset[str]:
    """The loopback names, the bound address itself (unless a wildcard), and ``extra``
    (``*`` in ``extra`` allows any Host)."""
    names = set(LOOPBACK_NAMES)
    if bound_host not in _WILDCARDS and not is_loopback_host(bound_host):
        names.add(host_name(bound_host))
    names.update(host_name(name) if name != "*" else "*" for name in extra)
    return frozenset(names)


class HostGuard:
    """421 for a request whose ``Host`` is not allowed; ``nosniff`` on every response."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Collection[str] | None = None) -> None:
        """Wrap ``app``; ``allowed_hosts`` None (or containing ``*``) checks no Host."""
        self.app = app
        self.allowed = (
            None if allowed_hosts is None or "*" in allowed_hosts else frozenset(allowed_hosts)
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a foreign Host; mark every response ``nosniff``."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == _NOSNIFF[0] for name, _ in headers):
                    headers.append(_NOSNIFF)
                message = {**message, "headers": headers}
            await send(message)

        if self.allowed is not None:
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if host_name(host) not in self.allowed:
                body = json.dumps({"error": "misdirected request: not a host of this server"})
                await marked(
                    {
                        "type": "http.response.start",
                        "status": 421,
                        "headers": [(b"content-type", b"application/json")],
                    }
                )
                await marked({"type": "http.response.body", "body": body.encode()})
                return
        await self.app(scope, receive, marked)
