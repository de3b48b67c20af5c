"""``maya serve``: one ASGI app for Stripe's webhook, the health check and the web chat."""

from maya.server.app import WEBHOOK_PATH, AccessLog, create_app
from maya.server.command import serve
from maya.server.context import RouteFactory, ServeContext
from maya.server.webhook import (
    MAX_BODY_BYTES,
    SECRET_ENV,
    TOLERANCE_S,
    Ignored,
    LinkCloser,
    WebhookRejected,
    WebhookSecretError,
    check_webhook_secret,
    parse_event,
)

__all__ = [
    "MAX_BODY_BYTES",
    "SECRET_ENV",
    "TOLERANCE_S",
    "WEBHOOK_PATH",
    "AccessLog",
    "Ignored",
    "LinkCloser",
    "RouteFactory",
    "ServeContext",
    "WebhookRejected",
    "WebhookSecretError",
    "check_webhook_secret",
    "create_app",
    "parse_event",
    "serve",
]
