"""``maya serve``: one ASGI app for Stripe's webhook, the health check and the web chat."""

from maya.server.app import create_app
from maya.server.command import serve
from maya.server.context import ServeContext
from maya.server.webhook import (
    MAX_BODY_BYTES,
    WebhookSecretError,
    parse_event,
)

__all__ = [
    "MAX_BODY_BYTES",
    "ServeContext",
    "WebhookSecretError",
    "create_app",
    "parse_event",
    "serve",
]
