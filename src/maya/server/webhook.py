"""``POST /stripe/webhook``: Stripe's signed events, verified and applied exactly once.

The signature is checked by Stripe's own library (``stripe.Webhook.construct_event``,
300 s tolerance): no HMAC of ours. Bad input (no or a wrong signature, a stale
timestamp, a body that is not UTF-8 JSON or not an event, a body over 1 MiB) is a 4xx
with a short reason; nothing is changed and nothing logged holds the payload or the
secret. A verified Checkout event goes to ``TabManager.apply_payment_event``, which
stores its id with its effect in one transaction; the answer follows the commit at
once, with no call to Stripe while Stripe waits. Other event types, and links no tab
knows, are acknowledged with 200 and change nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import stripe
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from maya.server.bodies import BodyRefused, read_body
from maya.state.errors import StateError, StoreError
from maya.state.events import CHECKOUT_EVENT_TYPES, PaymentEvent
from maya.state.manager import TabManager

__all__ = [
    "MAX_BODY_BYTES",
    "SECRET_ENV",
    "TOLERANCE_S",
    "WebhookRejected",
    "WebhookSecretError",
    "check_webhook_secret",
    "parse_event",
    "webhook_endpoint",
]

MAX_BODY_BYTES = 1 << 20
"""The largest body accepted (1 MiB); Stripe's Checkout events are a few KiB."""
TOLERANCE_S = 300
"""How old a signature's timestamp may be, in seconds (Stripe's own default)."""
SECRET_ENV = "STRIPE_WEBHOOK_SECRET"
"""The environment variable holding the endpoint's signing secret (``whsec_...``)."""

_log = logging.getLogger("maya.server.webhook")
_MAX_ID = 255


class WebhookSecretError(ValueError):
    """The signing secret is missing or not a ``whsec_`` secret (never shown)."""


def check_webhook_secret(secret: str | None) -> str:
    """Return ``secret`` if it looks like a Stripe endpoint secret.

    Raises:
        WebhookSecretError: when it is empty or does not start with ``whsec_``.
    """
    if (
        not secret
        or not secret.startswith("whsec_")
        or len(secret) < 10
        or secret != secret.strip()
    ):
        raise WebhookSecretError(
            f"{SECRET_ENV} must be the endpoint's signing secret, which starts with whsec_"
        )
    return secret


@dataclass(frozen=True, slots=True)
class WebhookRejected(Exception):
    """A request refused before anything changed.

    Attributes:
        status: the HTTP status (4xx).
        reason: a short reason, safe to log and to answer (no payload, no secret).
    """

    status: int
    reason: str

    def __str__(self) -> str:
        return f"{self.status} {self.reason}"


def _signature_reason(exc: stripe.SignatureVerificationError) -> str:
    text = str(exc)
    if "tolerance" in text:
        return "timestamp outside the tolerance"
    if "Unable to extract" in text or "expected scheme" in text:
        return "malformed Stripe-Signature header"
    return "signature does not match"


def parse_event(
    body: bytes, header: str | None, secret: str, *, tolerance: int = TOLERANCE_S
) -> PaymentEvent | None:
    """Verify a delivery and read the event; None for an event type that concerns no tab.

    Raises:
        WebhookRejected: the signature, timestamp or body is not acceptable.
    """
    if not header:
        raise WebhookRejected(400, "missing Stripe-Signature header")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected(400, "body is not UTF-8") from None
    try:
        stripe.Webhook.construct_event(text, header, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(400, _signature_reason(exc)) from None
    except ValueError:
        raise WebhookRejected(400, "malformed JSON") from None
    except (TypeError, AttributeError, KeyError):
        # Signed, valid JSON, but not an object stripe can read as an event.
        raise WebhookRejected(400, "not a Stripe event") from None
    return _event_from(json.loads(text))


def _event_from(data: Any) -> PaymentEvent | None:
    if not isinstance(data, dict):
        raise WebhookRejected(400, "not a Stripe event")
    event_id, type_, created = data.get("id"), data.get("type"), data.get("created")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= _MAX_ID):
        raise WebhookRejected(400, "event without an id")
    if not isinstance(type_, str) or not type_:
        raise WebhookRejected(400, "event without a type")
    if type_ not in CHECKOUT_EVENT_TYPES:
        return None
    holder = data.get("data")
    obj = holder.get("object") if isinstance(holder, dict) else None
    if not isinstance(obj, dict):
        raise WebhookRejected(400, "event without data.object")
    link = obj.get("payment_link")
    if isinstance(link, dict):  # expanded
        link = link.get("id")
    metadata = obj.get("metadata")
    key = metadata.get("idempotency_key") if isinstance(metadata, dict) else None
    return PaymentEvent(
        event_id=event_id,
        type=type_,
        payment_id=_text(link),
        payment_status=_text(obj.get("payment_status")),
        amount_total=_cents(obj.get("amount_total")),
        created=created if isinstance(created, int) and not isinstance(created, bool) else 0,
        idempotency_key=_text(key),
        checkout_session=_text(obj.get("id")),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= _MAX_ID else None


def _cents(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value


async def _read_body(request: Request, limit: int) -> bytes:
    try:
        return await read_body(request, limit=limit)
    except BodyRefused as refused:
        raise WebhookRejected(refused.status, refused.reason) from None


def webhook_endpoint(
    manager: TabManager,
    secret: str,
    *,
    tolerance: int = TOLERANCE_S,
    max_body: int = MAX_BODY_BYTES,
) -> Any:
    """The Starlette endpoint for ``POST /stripe/webhook``."""

    async def endpoint(request: Request) -> Response:
        try:
            body = await _read_body(request, max_body)
            event = parse_event(
                body, request.headers.get("stripe-signature"), secret, tolerance=tolerance
            )
        except WebhookRejected as refused:
            # Said once, on the request's own log line (``AccessLog``): the reason only.
            request.state.log_note = f"refused: {refused.reason}"
            return JSONResponse({"error": refused.reason}, status_code=refused.status)
        if event is None:
            request.state.log_note = "ignored event type"
            return JSONResponse({"received": True, "ignored": "event type"})
        try:
            result = await manager.apply_payment_event(event)
        except (StoreError, StateError) as exc:
            # Not the sender's fault, and nothing was stored (the transaction rolled
            # back): a 503 makes Stripe deliver the event again later.
            _log.warning("webhook %s not applied: %s", event.event_id, exc.code)
            return JSONResponse({"error": "not stored, retry later"}, status_code=503)
        request.state.log_note = f"{event.event_id} {event.type} -> {result.outcome.value}" + (
            f" (session {result.session_id})" if result.session_id else ""
        )
        return JSONResponse({"received": True, "outcome": result.outcome.value})

    return endpoint
