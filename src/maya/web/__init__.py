"""Maya in the browser: a chat page with streamed replies and a live tab overlay."""

from maya.web.app import (
    MayaWeb,
    WebSettings,
    create_web_app,
    serve_routes,
    web_routes,
)

__all__ = ["MayaWeb", "WebSettings", "create_web_app", "serve_routes", "web_routes"]
