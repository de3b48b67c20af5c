"""The sandbox sends Stripe's Checkout events to a webhook endpoint, signed as Stripe signs.

Events carry only fields Stripe's own objects have; a delivery not answered 2xx is retried
with bounded backoff, and every event is kept (``maya sandbox events``, ``resend``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from maya.sandbox.store import SandboxStore

__all__ = [
    "CHECKOUT_SESSION_FIELDS",
    "DEFAULT_DELAYS",
    "EVENT_FIELDS",
    "SECRET_ENV",
    "URL_ENV",
    "WebhookSender",
    "WebhookTarget",
    "checkout_event",
    "sign",
]

URL_ENV = "MAYA_SANDBOX_WEBHOOK_URL"
"""Where to send events (``--webhook-url`` wins)."""
SECRET_ENV = "MAYA_SANDBOX_WEBHOOK_SECRET"
"""The ``whsec_`` secret to sign them with (``--webhook-secret`` wins)."""

DEFAULT_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0)
"""Seconds before each retry; after the last one the event stays undelivered (resend it)."""

API_VERSION = "2024-06-20"

EVENT_FIELDS: tuple[str, ...] = (
    "id",
    "object",
    "api_version",
    "created",
    "data",
    "livemode",
    "pending_webhooks",
    "request",
    "type",
)
"""A snapshot event's fields, every one of them (Stripe's ``event`` object)."""

CHECKOUT_SESSION_FIELDS: frozenset[str] = frozenset(
    {
        "id",
        "object",
        "amount_subtotal",
        "amount_total",
        "created",
        "currency",
        "expires_at",
        "livemode",
        "metadata",
        "mode",
        "payment_intent",
        "payment_link",
        "payment_status",
        "status",
        "url",
    }
)
"""The Checkout Session fields the sandbox fills; any other key it keeps is its own and
never sent (Stripe's ``checkout.session`` object has no such field)."""

_log = logging.getLogger("maya.sandbox.webhooks")


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The ``Stripe-Signature`` header for ``payload``: ``t=<timestamp>,v1=<hex>``."""
    signed = str(timestamp).encode() + b"." + payload
    digest = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def checkout_event(session: Mapping[str, Any], type_: str, *, created: int) -> dict[str, Any]:
    """A Stripe event of ``type_`` whose ``data.object`` is ``session`` (Stripe's fields)."""
    event = {
        "id": "evt_" + secrets.token_hex(12),
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": {k: v for k, v in session.items() if k in CHECKOUT_SESSION_FIELDS}},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    return {field: event[field] for field in EVENT_FIELDS}


@dataclass(frozen=True, slots=True)
class WebhookTarget:
    """Where events go and the secret they are signed with.

    Attributes:
        url: the endpoint (``http://127.0.0.1:8000/stripe/webhook``).
        secret: the ``whsec_`` signing secret.
    """

    url: str
    secret: str

    def __repr__(self) -> str:
        return f"WebhookTarget(url={self.url!r}, secret='whsec_***')"

    @classmethod
    def from_options(
        cls, url: str | None, secret: str | None, *, environ: Mapping[str, str] | None = None
    ) -> WebhookTarget | None:
        """The target from options, else the environment; None when no URL is set.

        Raises:
            ValueError: a URL without a ``whsec_`` secret, or a URL that is not http(s).
        """
        env = os.environ if environ is None else environ
        url = url or env.get(URL_ENV) or None
        secret = secret or env.get(SECRET_ENV) or None
        if url is None:
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the webhook URL must be http(s), not {url[:60]!r}")
        if secret is None or not secret.startswith("whsec_"):
            raise ValueError(
                f"a webhook URL needs a signing secret starting with whsec_ (--webhook-secret"
                f" or ${SECRET_ENV})"
            )
        return cls(url, secret)


class WebhookSender:
    """Signs, sends and keeps the sandbox's events; retries what is not answered 2xx."""

    def __init__(
        self,
        target: WebhookTarget,
        store: SandboxStore,
        *,
        delays: Sequence[float] = DEFAULT_DELAYS,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Prepare a sender; the HTTP client opens on the first delivery.

        Args:
            target: where to send, and the secret.
            store: where events are kept.
            delays: seconds before each retry (their count bounds the retries).
            timeout: seconds for one delivery attempt.
            clock: Unix seconds, for ``created`` and the signature's timestamp.
            sleep: waits between retries (tests pass one that does not).
            transport: an httpx transport (tests: an ASGI app in process).
        """
        self.target = target
        self.store = store
        self._delays = tuple(delays)
        self._timeout = timeout
        self._clock = clock
        self._sleep = sleep
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    async def aclose(self) -> None:
        """Close the HTTP client. Idempotent."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        return self._client

    async def emit(self, session: Mapping[str, Any], type_: str) -> tuple[str, int | None]:
        """Build, keep and deliver the event ``type_`` for a Checkout Session.

        Returns:
            The event id and the last HTTP status (None when never answered).
        """
        event = checkout_event(session, type_, created=int(self._clock()))
        await anyio.to_thread.run_sync(self.store.record_event, event)
        return event["id"], await self.deliver(event)

    async def resend(self, event_id: str) -> int | None:
        """Deliver a kept event again (same id, fresh signature).

        Raises:
            KeyError: no event has that id.
        """
        event = await anyio.to_thread.run_sync(self.store.get_event, event_id)
        if event is None:
            raise KeyError(event_id)
        return await self.deliver(event)

    async def deliver(self, event: Mapping[str, Any]) -> int | None:
        """POST ``event`` until it is answered 2xx or the retries run out.

        Returns:
            The last HTTP status, None when the endpoint never answered.
        """
        body = json.dumps(event, separators=(",", ":")).encode()
        status: int | None = None
        for attempt in range(len(self._delays) + 1):
            if attempt:
                await self._sleep(self._delays[attempt - 1])
            header = sign(body, self.target.secret, int(self._clock()))
            try:
                response = await self._http().post(
                    self.target.url,
                    content=body,
                    headers={"Content-Type": "application/json", "Stripe-Signature": header},
                )
                status = response.status_code
            except httpx.HTTPError as exc:
                status = None
                _log.info("webhook %s: %s", event["id"], type(exc).__name__)
            await anyio.to_thread.run_sync(self.store.note_delivery, event["id"], status)
            if status is not None and 200 <= status < 300:
                return status
            _log.info("webhook %s answered %s (attempt %d)", event["id"], status, attempt + 1)
        _log.warning("webhook %s not delivered after %d attempts", event["id"], attempt + 1)
        return status
