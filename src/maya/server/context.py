"""What ``maya serve`` hands to the apps it mounts beside the webhook (the web chat)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute

from maya.state.manager import TabManager
from maya.tools.context import PaymentGateway

__all__ = ["OPTIONS_ENV", "RouteFactory", "ServeContext", "ServeOptions", "extra_routes"]

OPTIONS_ENV = "MAYA_SERVE_OPTIONS"
"""``ServeOptions`` as JSON, told by ``maya serve --workers`` to its workers."""


@dataclass(frozen=True, kw_only=True)
class ServeOptions:
    """The command line's choices that the app and its mounted routes apply.

    Attributes:
        host: the address bound (its loopback names are always allowed as ``Host``).
        allowed_hosts: more ``Host`` names to answer (``*``: any).
        secure_cookies: cookies ``Secure`` and ``__Host-`` prefixed; None: over https.
        header_timeout_s: the longest a connection may take to send its headers.
        keep_alive_s: how long an idle kept-alive connection stays open.
        max_connections: connections open at once.
        max_streams_per_session: tab streams one session may hold open (None: the page's).
        chat_turns_per_session: chat turns per minute per session (None: the page's).
        chat_turns_per_client: chat turns per minute per client address (None: the page's).
        max_tool_calls: tool calls per model answer (None: the page's).
    """

    host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()
    secure_cookies: bool | None = None
    header_timeout_s: float = 10.0
    keep_alive_s: int = 5
    max_connections: int = 900
    max_streams_per_session: int | None = None
    chat_turns_per_session: int | None = None
    chat_turns_per_client: int | None = None
    max_tool_calls: int | None = None

    def to_json(self) -> str:
        """These options as JSON (for ``OPTIONS_ENV``)."""
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> ServeOptions:
        """Options from ``to_json``'s text; the defaults for None or empty text."""
        if not text:
            return cls()
        data = json.loads(text)
        data["allowed_hosts"] = tuple(data.get("allowed_hosts", ()))
        return cls(**data)


@dataclass(frozen=True, kw_only=True)
class ServeContext:
    """What a mounted app (the web chat) gets from ``maya serve``.

    Attributes:
        manager: the tabs.
        payments: the payment gateway (``maya serve``'s Stripe MCP client, bounded for a
            waiting customer); None: no card payments.
        base_url: the server's own address (``http://127.0.0.1:8000``).
        options: the command line's choices (cookies, rate limits, streams).
        secret: the server's secret (``maya.signing``), shared by every worker; None: the
            mounted app makes one of its own.
    """

    manager: TabManager
    payments: PaymentGateway | None
    base_url: str
    options: ServeOptions = dataclasses.field(default_factory=ServeOptions)
    secret: bytes | None = dataclasses.field(default=None, repr=False)


RouteFactory = Callable[[ServeContext], Sequence[BaseRoute]]
"""Makes extra routes or mounts from the server's context (the web chat is one)."""


def extra_routes() -> Sequence[RouteFactory]:
    """What ``maya serve`` mounts beside the webhook, in every worker (the web chat adds
    itself here, with one line)."""
    from maya.web import serve_routes  # imported late: the page pulls in the agent

    return (serve_routes,)
