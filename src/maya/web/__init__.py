"""Maya in the browser: a chat page with streamed replies and a live tab overlay."""

from maya.web.app import (
    WebSettings,
    create_web_app,
    serve_routes,
)

__all__ = [
    "WebSettings",
    "create_web_app",
    "serve_routes",
]
