"""What ``maya serve`` hands to the apps it mounts beside the webhook (the web chat)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from starlette.routing import BaseRoute

from maya.payments import StripeMCPClient
from maya.state.manager import TabManager

__all__ = ["RouteFactory", "ServeContext", "extra_routes"]


class ServeContext:
    """What a mounted app (the web chat) gets from ``maya serve``.

    Attributes:
        manager: the tabs.
        payments: the Stripe MCP client, bounded for a waiting customer.
        base_url: the server's own address (``http://127.0.0.1:8000``).
    """

    def __init__(self, *, manager: TabManager, payments: StripeMCPClient, base_url: str) -> None:
        """Hold what the routes need."""
        self.manager = manager
        self.payments = payments
        self.base_url = base_url


RouteFactory = Callable[[ServeContext], Sequence[BaseRoute]]
"""Makes extra routes or mounts from the server's context (the web chat is one)."""


def extra_routes() -> Sequence[RouteFactory]:
    """What ``maya serve`` mounts beside the webhook, in every worker (the web chat adds
    itself here, with one line)."""
    from maya.web import serve_routes  # imported late: the page pulls in the agent

    return (serve_routes,)
