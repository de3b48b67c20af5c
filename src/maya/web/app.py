"""Maya in the browser: the page, its chat and its tab, as Starlette routes.

``web_routes`` gives the routes for any Starlette app; every API endpoint goes through
one preamble (``_endpoint``): Origin, signed session, bounded body, store errors.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import json
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from maya.agent.loop import DEFAULT_MAX_TOOL_CALLS, Agent, TurnResult
from maya.agent.models.base import Model
from maya.agent.models.select import choose_model
from maya.agent.streaming import TextDelta, ToolStarted, TurnEvent
from maya.agent.trace import tracer_from_env
from maya.bar.menu import bar_messages
from maya.codes import ErrorCode
from maya.server.bodies import BodyRefused, read_body
from maya.server.context import ServeContext
from maya.signing import Signer
from maya.state.errors import StateError, StoreError
from maya.state.manager import TabManager
from maya.tools import Toolset
from maya.tools.context import PaymentGateway
from maya.web.limits import RateLimiter
from maya.web.security import (
    CONTENT_SECURITY_POLICY,
    COOKIE_PURPOSE,
    new_token,
    origin_allowed,
    secure_headers,
    session_of,
    set_session_cookie,
    token_of,
)
from maya.web.streams import Emit, TabStream, TurnStream
from maya.web.views import activity_line, link_hosts_from_env, safe_link, session_tag, tab_view

__all__ = ["MayaWeb", "WebSettings", "create_web_app", "serve_routes", "web_routes"]

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
        cookie_secret: the server's secret the cookies are signed with (``maya serve``
            passes ``maya.signing.load_server_secret()``, shared by its workers); None: a
            secret of this app alone (its cookies do not outlive it).
        chat_turns_per_session: chat turns one session may start per ``chat_window_s``.
        chat_turns_per_client: chat turns one client address may start per
            ``chat_window_s``, whatever its cookies (each is a model call that costs).
        chat_window_s: the rate limits' window, in seconds.
        max_streams_per_session: tab streams one session may hold open at once.
        max_tool_calls: tool calls one model answer may ask for (past it none runs).
        clock: a monotonic clock in seconds, for the rate limits (tests pass a fake one).
    """

    allowed_origins: Collection[str] = ()
    secure_cookie: bool | None = None
    heartbeat_s: float = 15.0
    stream_max_s: float = 300.0
    max_message_chars: int = 2000
    link_hosts: Collection[str] = field(default_factory=link_hosts_from_env)
    cookie_secret: bytes | None = field(default=None, repr=False)
    chat_turns_per_session: int = 12
    chat_turns_per_client: int = 60
    chat_window_s: float = 60.0
    max_streams_per_session: int = 4
    max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS
    clock: Callable[[], float] = time.monotonic


def _asset(name: str) -> bytes:
    return resources.files("maya.web").joinpath("static", name).read_bytes()


class _Static:
    """A file the page needs, held as it is and gzipped once (not on every request)."""

    def __init__(self, body: bytes, media_type: str) -> None:
        self.body = body
        self.gzipped = gzip.compress(body, compresslevel=9, mtime=0)
        self.media_type = media_type

    def reply(self, request: Request, headers: Mapping[str, str]) -> Response:
        """The file, gzipped when the client takes it (as ``GZipMiddleware`` decides),
        with the page's security headers and then ``headers``."""
        chosen = {"Vary": "Accept-Encoding"}
        body = self.body
        if "gzip" in request.headers.get("Accept-Encoding", ""):
            body, chosen["Content-Encoding"] = self.gzipped, "gzip"
        response = _secured(Response(body, media_type=self.media_type, headers=chosen))
        response.headers.update(headers)
        return response


_STYLESHEET_LINK = b'<link rel="stylesheet" href="/static/maya.css">'
_GZIP = [Middleware(GZipMiddleware, minimum_size=200)]
"""Text replies (HTML, script, JSON) gzipped; never on the event streams' routes."""


def _inline_stylesheet(page: bytes, css: bytes) -> tuple[bytes, str]:
    """The page with its stylesheet inlined, and the CSP that allows exactly that style.

    A linked stylesheet holds the first paint for one more round trip; inline, the page
    paints as soon as it arrives. The policy allows the one style by its hash, nothing else.
    """
    if _STYLESHEET_LINK not in page or "style-src 'self'" not in CONTENT_SECURITY_POLICY:
        raise RuntimeError("index.html or the CSP changed: the stylesheet cannot be inlined")
    digest = base64.b64encode(hashlib.sha256(css).digest()).decode()
    policy = CONTENT_SECURITY_POLICY.replace(
        "style-src 'self'", f"style-src 'self' 'sha256-{digest}'"
    )
    return page.replace(_STYLESHEET_LINK, b"<style>" + css + b"</style>"), policy


_Response = TypeVar("_Response", bound=Response)


def _secured(response: _Response) -> _Response:
    """``response`` with the security headers of ``maya.web.security``."""
    secure_headers(response.headers)
    return response


def _error(status: int, message: str, **extra: Any) -> JSONResponse:
    return _secured(JSONResponse({"error": message, **extra}, status_code=status))


def _json(data: Any) -> JSONResponse:
    return _secured(JSONResponse(data))


_RETRY_LATER = {"Retry-After": str(StoreError.retry_after_s)}
_STORE_CODES = frozenset({ErrorCode.STORE_BUSY.value, ErrorCode.STORE_UNAVAILABLE.value})


def _refused_by_tool(result: Mapping[str, Any]) -> JSONResponse:
    """A tool's error as the page's ``{"ok": false, "message": ...}``; a store that could
    not answer is a 503 with ``Retry-After`` (the tool changed nothing: ask again)."""
    code = str(result.get("error", ""))
    body = {
        "ok": False,
        "message": str(result.get("message", "")),
        "code": code,
        "retryable": bool(result.get("retryable")) or code in _STORE_CODES,
    }
    if code not in _STORE_CODES:
        return _json(body)
    return _secured(JSONResponse(body, status_code=503, headers=_RETRY_LATER))


_Answer = TypeVar("_Answer")


@dataclass(frozen=True, slots=True)
class _Asked:
    """Who asks (their session; empty when the endpoint needs none) and the JSON body."""

    session: str
    body: dict[str, Any]


_Handler = Callable[["MayaWeb", Request, _Asked], Awaitable[_Answer]]
_Endpoint = Callable[["MayaWeb", Request], Awaitable[_Answer | Response]]


def _endpoint(
    *, post: bool = False, session: bool = True, body: bool = False
) -> Callable[[_Handler[_Answer]], _Endpoint[_Answer]]:
    """Every API endpoint's preamble, in order: a ``POST`` must come from Maya's own page
    (403); ``session``: the browser must hold a cookie this server issued (401); ``body``:
    a JSON object read within ``MAX_BODY_BYTES`` (413/408/400). A store that cannot
    answer becomes Maya's words (``MayaWeb.store_failed``: 503 with ``Retry-After``),
    never a 500: the operation did not run (``StoreError``), so asking again is safe."""

    def wrap(handler: _Handler[_Answer]) -> _Endpoint[_Answer]:
        @functools.wraps(handler)
        async def answered(web: MayaWeb, request: Request) -> _Answer | Response:
            try:
                if post and not origin_allowed(request, web.settings.allowed_origins):
                    return _error(403, "this request must come from Maya's own page")
                who = web._session(request) if session else ""
                if who is None:
                    return _error(401, "no tab here yet: reload the page")
                data = await web._body(request) if body else {}
                if isinstance(data, Response):
                    return data
                return await handler(web, request, _Asked(who, data))
            except StoreError as exc:
                _log.warning("%s %s: the store failed: %s", request.method, request.url.path, exc)
                return web.store_failed(exc)

        return answered

    return wrap


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
        secret = self.settings.cookie_secret or secrets.token_bytes(32)
        self._signer = Signer(secret, purpose=COOKIE_PURPOSE)
        window, clock = self.settings.chat_window_s, self.settings.clock
        self._session_turns = RateLimiter(
            limit=self.settings.chat_turns_per_session, window_s=window, clock=clock
        )
        self._client_turns = RateLimiter(
            limit=self.settings.chat_turns_per_client, window_s=window, clock=clock
        )
        self._streams: dict[str, int] = {}
        page, self._page_policy = _inline_stylesheet(
            _asset("index.html"), _asset("maya.css").strip()
        )
        self._page = _Static(page, "text/html; charset=utf-8")
        self._icon = _asset("maya.svg")
        self._assets = {"maya.js": _Static(_asset("maya.js"), "text/javascript; charset=utf-8")}

    @property
    def page_bytes(self) -> int:
        """The page's weight: HTML (with its stylesheet) and script together, uncompressed."""
        return len(self._page.body) + sum(len(found.body) for found in self._assets.values())

    def routes(self) -> list[BaseRoute]:
        """The page's routes (see the module's docstring)."""
        # The busiest first: a request is matched against each route in turn.
        return [
            Route("/api/chat", self.chat, methods=["POST"]),
            Route("/api/tab", self.tab, methods=["GET"], middleware=_GZIP),
            Route("/api/tab/events", self.tab_events, methods=["GET"]),
            Route("/api/tip", self.tip, methods=["POST"], middleware=_GZIP),
            Route("/api/pay", self.pay, methods=["POST"], middleware=_GZIP),
            Route("/api/payment/check", self.check_payment, methods=["POST"], middleware=_GZIP),
            Route("/api/new-tab", self.new_tab, methods=["POST"], middleware=_GZIP),
            Route("/", self.page, methods=["GET"]),  # these two gzipped once, ahead
            Route("/favicon.ico", self.icon, methods=["GET"]),
            Route("/static/{name}", self.asset, methods=["GET"]),
        ]

    def store_failed(self, exc: StoreError) -> JSONResponse:
        """Maya's words for a store that could not run the request (503, ``Retry-After``)."""
        message = self.toolset.context.messages.render(exc.code, {})
        response = _error(503, message, code=exc.code.value, retryable=True)
        response.headers.update(_RETRY_LATER)
        return response

    # -- who is asking --------------------------------------------------------------

    def _secure(self, request: Request) -> bool:
        if self.settings.secure_cookie is not None:
            return self.settings.secure_cookie
        return bool(request.scope["scheme"] == "https")  # the URL's scheme, unbuilt

    def _token(self, request: Request) -> str | None:
        return token_of(request, self._signer, secure=self._secure(request))

    def _session(self, request: Request) -> str | None:
        token = self._token(request)
        return None if token is None else session_of(token)

    async def _body(self, request: Request) -> dict[str, Any] | Response:
        try:
            raw = await read_body(request, limit=MAX_BODY_BYTES)
        except BodyRefused as refused:
            reasons = {413: "the request is too large", 408: "the request came too slowly"}
            return _error(refused.status, reasons.get(refused.status, refused.reason))
        try:
            data = json.loads(raw or b"{}")
            # JSON may spell a lone surrogate ("\ud800"): not text anything can store.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except (ValueError, RecursionError):  # UnicodeError is a ValueError
            return _error(400, "the request is not JSON text")
        if not isinstance(data, dict):
            return _error(400, "the request must be a JSON object")
        return data

    def _slow_down(self, session: str, client: str) -> Response | None:
        """A 429 in Maya's words when this session or client address chats too fast."""
        # Both looked at before either counts: a refused turn uses up neither allowance.
        by_session = self._session_turns.wait(session)
        by_client = self._client_turns.wait(client)
        wait, who = max((by_session, "session"), (by_client, "client"))
        if wait == 0.0:
            self._session_turns.take(session)
            self._client_turns.take(client)
            return None
        seconds = max(1, math.ceil(wait))
        _log.warning("chat turn refused: %s rate limit (retry after %d s)", who, seconds)
        words = self.toolset.context.messages.render(
            "chat_rate_limited", {"wait": f"{seconds} seconds"}
        )
        response = _error(429, words, code="chat_rate_limited", retry_after=seconds)
        response.headers["Retry-After"] = str(seconds)
        return response

    # -- the page ---------------------------------------------------------------------

    async def page(self, request: Request) -> Response:
        """The page; a browser without a (valid) cookie gets a new tab."""
        response = self._page.reply(request, {"Content-Security-Policy": self._page_policy})
        if self._token(request) is None:
            # No cookie, or one this server never issued: a fresh session either way.
            set_session_cookie(response, new_token(self._signer), secure=self._secure(request))
        return response

    async def icon(self, request: Request) -> Response:
        """The page's icon (an SVG; the page's ``<link rel="icon">`` says so)."""
        cache = {"Cache-Control": "public, max-age=86400"}
        return _secured(Response(self._icon, media_type="image/svg+xml", headers=cache))

    async def asset(self, request: Request) -> Response:
        """The page's script or stylesheet."""
        found = self._assets.get(request.path_params["name"])
        if found is None:
            return _error(404, "no such file")
        return found.reply(request, {"Cache-Control": "no-cache"})

    # -- the tab ----------------------------------------------------------------------

    @_endpoint()
    async def tab(self, request: Request, asked: _Asked) -> Response:
        """The overlay's figures, as JSON."""
        return _json(tab_view(await self.manager.get(asked.session), hosts=self._hosts))

    @_endpoint()
    async def tab_events(self, request: Request, asked: _Asked) -> Response | _CountedStream:
        """The overlay, live: an event now and after every committed change."""
        session = asked.session
        if self._streams.get(session, 0) >= self.settings.max_streams_per_session:
            _log.warning("tab stream refused: the session holds its maximum")
            response = _error(429, "too many open tabs of this page: close one")
            response.headers["Retry-After"] = "5"
            return response
        stream = TabStream(
            self.manager,
            session,
            hosts=self._hosts,
            heartbeat_s=self.settings.heartbeat_s,
            max_s=self.settings.stream_max_s,
        )
        return _CountedStream(stream, session, self._streams)

    @_endpoint(post=True, body=True)
    async def tip(self, request: Request, asked: _Asked) -> Response:
        """The tip rule itself: 10, 15 or 20 percent; the selected one again removes it."""
        percent = asked.body.get("percent")
        # A JSON integer only: 10.0 or "10" is refused alike, not passed on as a float.
        if type(percent) is not int or percent not in (10, 15, 20):
            return _error(400, "a tip is 10, 15 or 20 percent")
        try:
            state = await self.manager.set_tip(asked.session, percent)
        except StateError as exc:
            message = self.toolset.context.messages.render(exc.code, exc.details)
            return _error(409, message, code=exc.code.value)
        return _json(tab_view(state, hosts=self._hosts))

    @_endpoint(post=True)
    async def pay(self, request: Request, asked: _Asked) -> Response:
        """Ask the payment tool for the link (the same one while the tab is unchanged)."""
        return await self._tool("create_stripe_payment", asked.session, self._link)

    @_endpoint(post=True)
    async def check_payment(self, request: Request, asked: _Asked) -> Response:
        """Ask the status tool whether the link was paid (settles it exactly once)."""
        return await self._tool(
            "check_payment_status",
            asked.session,
            lambda found: {"payment_status": found.get("payment_status")},
        )

    async def _tool(
        self,
        name: str,
        session: str,
        view: Callable[[Mapping[str, Any]], dict[str, Any]],
    ) -> Response:
        """Run one tool for the page: ``{"ok": true, **view(result), "message"}``, or its
        refusal (``_refused_by_tool``)."""
        result = await self.toolset.call(name, {}, session)
        if result.get("status") != "ok":
            return _refused_by_tool(result)
        found = result.get("result", {})
        return _json({"ok": True, **view(found), "message": str(found.get("message", ""))})

    def _link(self, made: Mapping[str, Any]) -> dict[str, Any]:
        """A payment link as the page shows it (its URL only when ``safe_link`` passes it)."""
        simulated = bool(made.get("is_simulated"))
        url = safe_link(made.get("url"), is_simulated=simulated, hosts=self._hosts)
        return {"url": url, "amount": made.get("amount"), "is_simulated": simulated}

    @_endpoint(post=True, session=False)
    async def new_tab(self, request: Request, asked: _Asked) -> Response:
        """A fresh session for this browser (the old tab stays in the store)."""
        token = new_token(self._signer)
        state = await self.manager.get(session_of(token))
        response = _json(tab_view(state, hosts=self._hosts))
        set_session_cookie(response, token, secure=self._secure(request))
        return response

    # -- the chat ---------------------------------------------------------------------

    @_endpoint(post=True, body=True)
    async def chat(self, request: Request, asked: _Asked) -> Response | TurnStream:
        """One customer message; Maya's answer streams back as server-sent events."""
        session, message = asked.session, asked.body.get("message")
        if not isinstance(message, str) or not message.strip():
            return _error(400, "say something to Maya")
        limit = self.settings.max_message_chars
        if len(message) > limit:
            return _error(400, f"a message is at most {limit} characters")
        if session in self._busy:
            return _error(409, "Maya is still answering your last message")
        client = request.client.host if request.client is not None else "?"
        refused = self._slow_down(session, client)
        if refused is not None:
            return refused
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
        except StoreError as exc:
            # The tools answer a store failure in words; this is one outside them.
            _log.warning("a chat turn could not reach the store: %s", exc)
            text = self.toolset.context.messages.render(exc.code, {})
            await emit("failed", {"text": text, "code": exc.code.value, "retryable": True})
            return 0
        except Exception:
            # A bug, not a model failure (those are replies): the page says so briefly.
            _log.exception("a chat turn failed")
            await emit("failed", {"text": "Sorry, something went wrong on my side."})
            return 0
        await emit("done", {**self._done(result), "session": session_tag(session)})
        return result.turn

    def _done(self, result: TurnResult) -> dict[str, Any]:
        made = [call.result for call in result.calls_named("create_stripe_payment") if call.ok]
        link = self._link(made[-1]) if made else None
        return {"reply": result.reply, "outcome": result.outcome, "link": link}


class _CountedStream:
    """An ASGI response counting, per session, the streams open at once."""

    def __init__(self, stream: TabStream, session: str, counts: dict[str, int]) -> None:
        self._stream, self._session, self._counts = stream, session, counts
        counts[session] = counts.get(session, 0) + 1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._stream(scope, receive, send)
        finally:
            left = self._counts.get(self._session, 1) - 1
            if left > 0:
                self._counts[self._session] = left
            else:
                self._counts.pop(self._session, None)


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


_SERVE_OPTIONS = (
    "max_streams_per_session",
    "chat_turns_per_session",
    "chat_turns_per_client",
    "max_tool_calls",
)


def serve_routes(context: ServeContext) -> list[BaseRoute]:
    """The page's routes over a server's tabs and payments (a ``maya serve`` route
    factory), its cookies and limits set from the context's options and secret."""
    options = context.options
    chosen: dict[str, Any] = {
        "cookie_secret": context.secret,
        "secure_cookie": options.secure_cookies,
    }
    for name in _SERVE_OPTIONS:
        if (value := getattr(options, name)) is not None:
            chosen[name] = value
    settings = WebSettings(**chosen)
    return web_routes(manager=context.manager, payments=context.payments, settings=settings)


def _build(
    *,
    manager: TabManager,
    payments: PaymentGateway | None,
    model: Model | None,
    settings: WebSettings | None,
) -> MayaWeb:
    toolset = Toolset(manager=manager, payments=payments, messages=bar_messages())
    chosen = model if model is not None else choose_model().model
    # Traced like `maya chat` (JSONL under MAYA_TRACE_DIR when set, redacted).
    chosen_settings = settings if settings is not None else WebSettings()
    agent = Agent(
        model=chosen,
        toolset=toolset,
        manager=manager,
        tracer=tracer_from_env(),
        max_tool_calls=chosen_settings.max_tool_calls,
    )
    return MayaWeb(manager=manager, toolset=toolset, agent=agent, settings=chosen_settings)


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
