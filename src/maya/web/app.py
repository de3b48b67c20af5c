"""Maya in the browser: the page, its chat and its tab, as Starlette routes.

``web_routes(manager=..., payments=...)`` gives the routes to put in any Starlette app
(``maya serve`` mounts them beside the webhook); ``create_web_app(...)`` is a whole app
of them. The routes:

- ``GET /`` the page (it also gives a new browser its cookie), ``GET /static/...`` its
  one script and one stylesheet;
- ``GET /api/tab`` the overlay as JSON; ``GET /api/tab/events`` the same as server-sent
  events, now and after every committed change (``TabManager.watch``: a webhook handled
  by another worker reaches this page through PostgreSQL ``NOTIFY``);
- ``POST /api/chat`` one customer message, answered as server-sent events while Maya
  works: ``activity`` (what a tool is doing), ``delta`` (more of her words) and ``done``
  (her whole reply, and a payment link when the payment tool made one);
- ``POST /api/tip`` the tip rule itself (10, 15 or 20; the same again removes it),
  ``POST /api/pay`` the payment tool (the link), ``POST /api/payment/check`` the status
  tool (the page asks when the customer comes back from the checkout page), and
  ``POST /api/new-tab`` a fresh session.

Every ``POST`` must come from this origin; every response carries the security headers
of ``maya.web.security``. A browser only ever reaches the tab of its own cookie.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from maya.agent.loop import Agent, TurnResult
from maya.agent.models.base import Model
from maya.agent.models.select import choose_model
from maya.agent.streaming import TextDelta, ToolStarted, TurnEvent
from maya.agent.trace import tracer_from_env
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.tools import Toolset
from maya.tools.context import PaymentGateway
from maya.web.security import (
    new_token,
    origin_allowed,
    secure_headers,
    session_of,
    set_session_cookie,
    token_of,
)
from maya.web.streams import Emit, TabStream, TurnStream
from maya.web.views import activity_line, link_hosts_from_env, safe_link, tab_view

__all__ = ["MayaWeb", "ServedFrom", "WebSettings", "create_web_app", "serve_routes", "web_routes"]

_log = logging.getLogger("maya.web")

MAX_BODY_BYTES = 16_384


@dataclass(frozen=True, kw_only=True)
class WebSettings:
    """How the page behaves.

    Attributes:
        allowed_origins: origins besides the server's own whose ``POST``s are accepted
            (e.g. ``https://bar.example`` behind a proxy that rewrites ``Host``).
        secure_cookie: mark the cookie ``Secure``; None: when the request came over https.
        heartbeat_s: a comment line on an idle tab stream this often (keeps proxies open).
        stream_max_s: a tab stream ends after this long; the browser reconnects.
        max_message_chars: the longest customer message accepted.
        link_hosts: hosts a payment link may be on (default: Stripe's, or
            ``MAYA_STRIPE_LINK_HOSTS``); the sandbox on loopback is always accepted.
    """

    allowed_origins: Collection[str] = ()
    secure_cookie: bool | None = None
    heartbeat_s: float = 15.0
    stream_max_s: float = 300.0
    max_message_chars: int = 2000
    link_hosts: Collection[str] = field(default_factory=link_hosts_from_env)


def _asset(name: str) -> bytes:
    return resources.files("maya.web").joinpath("static", name).read_bytes()


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    response = JSONResponse({"error": message, **extra}, status_code=status)
    secure_headers(response.headers)
    return response


def _json(data: Any) -> JSONResponse:
    response = JSONResponse(data)
    secure_headers(response.headers)
    return response


class MayaWeb:
    """The page's routes over one tab manager, toolset and agent."""

    def __init__(
        self,
        *,
        manager: TabManager,
        toolset: Toolset,
        agent: Agent,
        settings: WebSettings | None = None,
    ) -> None:
        """Serve ``manager``'s tabs, chatting through ``agent`` (which uses ``toolset``)."""
        self.manager = manager
        self.toolset = toolset
        self.agent = agent
        self.settings = settings if settings is not None else WebSettings()
        self._hosts = frozenset(h.lower() for h in self.settings.link_hosts)
        self._busy: set[str] = set()
        self._page = _asset("index.html")
        self._assets = {
            "maya.js": (_asset("maya.js"), "text/javascript; charset=utf-8"),
            "maya.css": (_asset("maya.css"), "text/css; charset=utf-8"),
        }

    @property
    def page_bytes(self) -> int:
        """The page's weight: HTML, script and stylesheet together."""
        return len(self._page) + sum(len(body) for body, _ in self._assets.values())

    def routes(self) -> list[BaseRoute]:
        """The page's routes (see the module's docstring)."""
        return [
            Route("/", self.page, methods=["GET"]),
            Route("/static/{name}", self.asset, methods=["GET"]),
            Route("/api/tab", self.tab, methods=["GET"]),
            Route("/api/tab/events", self.tab_events, methods=["GET"]),
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/tip", self.tip, methods=["POST"]),
            Route("/api/pay", self.pay, methods=["POST"]),
            Route("/api/payment/check", self.check_payment, methods=["POST"]),
            Route("/api/new-tab", self.new_tab, methods=["POST"]),
        ]

    # -- who is asking --------------------------------------------------------------

    def _secure(self, request: Request) -> bool:
        if self.settings.secure_cookie is not None:
            return self.settings.secure_cookie
        return request.url.scheme == "https"

    def _session(self, request: Request) -> str | None:
        token = token_of(request)
        return None if token is None else session_of(token)

    def _refused(self, request: Request) -> tuple[str | None, Response | None]:
        """(session, None) for a state-changing request that may go ahead, else a refusal."""
        if not origin_allowed(request, self.settings.allowed_origins):
            return None, _error(403, "this request must come from Maya's own page")
        session = self._session(request)
        if session is None:
            return None, _error(401, "no tab here yet: reload the page")
        return session, None

    async def _body(self, request: Request) -> dict[str, Any] | Response:
        declared = request.headers.get("content-length", "0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            return _error(413, "the request is too large")
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return _error(413, "the request is too large")
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return _error(400, "the request is not JSON")
        if not isinstance(data, dict):
            return _error(400, "the request must be a JSON object")
        return data

    # -- the page ---------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        """The page; a browser without a (valid) cookie gets a new tab."""
        response = Response(self._page, media_type="text/html; charset=utf-8")
        secure_headers(response.headers)
        if token_of(request) is None:
            set_session_cookie(response, new_token(), secure=self._secure(request))
        return response

    async def asset(self, request: Request) -> Response:
        """The page's script or stylesheet."""
        found = self._assets.get(request.path_params["name"])
        if found is None:
            return _error(404, "no such file")
        body, media_type = found
        response = Response(body, media_type=media_type, headers={"Cache-Control": "no-cache"})
        secure_headers(response.headers)
        return response

    # -- the tab ----------------------------------------------------------------------

    async def tab(self, request: Request) -> Response:
        """The overlay's figures, as JSON."""
        session = self._session(request)
        if session is None:
            return _error(401, "no tab here yet: reload the page")
        return _json(tab_view(await self.manager.get(session), hosts=self._hosts))

    async def tab_events(self, request: Request) -> Response | TabStream:
        """The overlay, live: an event now and after every committed change."""
        session = self._session(request)
        if session is None:
            return _error(401, "no tab here yet: reload the page")
        return TabStream(
            self.manager,
            session,
            hosts=self._hosts,
            heartbeat_s=self.settings.heartbeat_s,
            max_s=self.settings.stream_max_s,
        )

    async def tip(self, request: Request) -> Response:
        """The tip rule itself: 10, 15 or 20 percent; the selected one again removes it."""
        session, refusal = self._refused(request)
        if refusal is not None or session is None:
            return refusal or _error(401, "no tab")
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        percent = body.get("percent")
        if isinstance(percent, bool) or percent not in (10, 15, 20):
            return _error(400, "a tip is 10, 15 or 20 percent")
        try:
            state = await self.manager.set_tip(session, percent)
        except StateError as exc:
            message = self.toolset.context.messages.render(exc.code, exc.details)
            return _error(409, message, code=exc.code.value)
        return _json(tab_view(state, hosts=self._hosts))

    async def pay(self, request: Request) -> Response:
        """Ask the payment tool for the link (the same one while the tab is unchanged)."""
        session, refusal = self._refused(request)
        if refusal is not None or session is None:
            return refusal or _error(401, "no tab")
        result = await self.toolset.call("create_stripe_payment", {}, session)
        if result.get("status") != "ok":
            return _json({"ok": False, "message": str(result.get("message", ""))})
        link = result.get("result", {})
        simulated = bool(link.get("is_simulated"))
        return _json(
            {
                "ok": True,
                "url": safe_link(link.get("url"), is_simulated=simulated, hosts=self._hosts),
                "amount": link.get("amount"),
                "is_simulated": simulated,
                "message": str(link.get("message", "")),
            }
        )

    async def check_payment(self, request: Request) -> Response:
        """Ask the status tool whether the link was paid (settles it exactly once)."""
        session, refusal = self._refused(request)
        if refusal is not None or session is None:
            return refusal or _error(401, "no tab")
        result = await self.toolset.call("check_payment_status", {}, session)
        if result.get("status") != "ok":
            return _json({"ok": False, "message": str(result.get("message", ""))})
        found = result.get("result", {})
        return _json(
            {
                "ok": True,
                "payment_status": found.get("payment_status"),
                "message": str(found.get("message", "")),
            }
        )

    async def new_tab(self, request: Request) -> Response:
        """A fresh session for this browser (the old tab stays in the store)."""
        if not origin_allowed(request, self.settings.allowed_origins):
            return _error(403, "this request must come from Maya's own page")
        token = new_token()
        state = await self.manager.get(session_of(token))
        response = _json(tab_view(state, hosts=self._hosts))
        set_session_cookie(response, token, secure=self._secure(request))
        return response

    # -- the chat ---------------------------------------------------------------------

    async def chat(self, request: Request) -> Response | TurnStream:
        """One customer message; Maya's answer streams back as server-sent events."""
        session, refusal = self._refused(request)
        if refusal is not None or session is None:
            return refusal or _error(401, "no tab")
        body = await self._body(request)
        if isinstance(body, Response):
            return body
        message = body.get("message")
        if not isinstance(message, str) or not message.strip():
            return _error(400, "say something to Maya")
        limit = self.settings.max_message_chars
        if len(message) > limit:
            return _error(400, f"a message is at most {limit} characters")
        if session in self._busy:
            return _error(409, "Maya is still answering your last message")
        self._busy.add(session)

        async def run(emit: Emit) -> None:
            try:
                number = await self._turn(session, message.strip(), emit)
                # The access log line says which turn of its conversation this was.
                request.state.log_note = f"turn {number}" if number else None
            finally:
                self._busy.discard(session)

        return TurnStream(run)

    async def _turn(self, session: str, message: str, emit: Emit) -> int:
        """Run one turn, emitting its events; its number in the conversation (0: failed)."""

        async def on_event(event: TurnEvent) -> None:
            if isinstance(event, TextDelta):
                await emit("delta", {"text": event.text})
            elif isinstance(event, ToolStarted):
                await emit("activity", {"text": activity_line(event.name, event.args)})

        try:
            result = await self.agent.respond(session, message, on_event=on_event)
        except Exception:
            # A bug, not a model failure (those are replies): the page says so briefly.
            _log.exception("a chat turn failed")
            await emit("failed", {"text": "Sorry, something went wrong on my side."})
            return 0
        await emit("done", self._done(result))
        return result.turn

    def _done(self, result: TurnResult) -> dict[str, Any]:
        link: dict[str, Any] | None = None
        for call in result.calls_named("create_stripe_payment"):
            if not call.ok:
                continue
            made = call.result
            simulated = bool(made.get("is_simulated"))
            url = safe_link(made.get("url"), is_simulated=simulated, hosts=self._hosts)
            link = {"url": url, "amount": made.get("amount"), "is_simulated": simulated}
        return {"reply": result.reply, "outcome": result.outcome, "link": link}


def web_routes(
    *,
    manager: TabManager,
    payments: PaymentGateway | None,
    model: Model | None = None,
    settings: WebSettings | None = None,
) -> list[BaseRoute]:
    """The page's routes, for any Starlette app (``maya serve`` mounts these).

    Args:
        manager: the tabs (PostgreSQL for several workers).
        payments: the payment gateway (e.g. a ``StripeMCPClient``); None: no card payments.
        model: who answers (default: Gemini when a key is set, else the offline model).
        settings: see ``WebSettings``.
    """
    return _build(manager=manager, payments=payments, model=model, settings=settings).routes()


class ServedFrom(Protocol):
    """What a server hands its mounted apps (``maya serve``'s ``ServeContext`` is one)."""

    @property
    def manager(self) -> TabManager:
        """The tabs."""
        ...

    @property
    def payments(self) -> PaymentGateway | None:
        """The payment gateway, or None."""
        ...


def serve_routes(context: ServedFrom) -> list[BaseRoute]:
    """The page's routes over a server's tabs and payments (a ``maya serve`` route factory)."""
    return web_routes(manager=context.manager, payments=context.payments)


def _build(
    *,
    manager: TabManager,
    payments: PaymentGateway | None,
    model: Model | None,
    settings: WebSettings | None,
) -> MayaWeb:
    toolset = Toolset(manager=manager, payments=payments)
    chosen = model if model is not None else choose_model().model
    # Traced like `maya chat` (JSONL under MAYA_TRACE_DIR when set, redacted).
    agent = Agent(model=chosen, toolset=toolset, manager=manager, tracer=tracer_from_env())
    return MayaWeb(manager=manager, toolset=toolset, agent=agent, settings=settings)


def create_web_app(
    *,
    manager: TabManager,
    payments: PaymentGateway | None,
    model: Model | None = None,
    settings: WebSettings | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """A Starlette app serving the page (and ``extra_routes``); see ``web_routes``."""
    web = _build(manager=manager, payments=payments, model=model, settings=settings)
    app = Starlette(routes=[*web.routes(), *extra_routes])
    app.state.maya_web = web
    return app
