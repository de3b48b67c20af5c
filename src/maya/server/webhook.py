"""``POST /stripe/webhook``: Stripe's signed events, verified and applied exactly once.

Signatures are checked by Stripe's own library (the ``[serve]`` extra); bad input is a 4xx
that changes nothing; other events, modes and currencies are acknowledged and kept.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from maya.server.bodies import BodyRefused, read_body
from maya.state.errors import StateError, StoreError
from maya.state.events import CHECKOUT_EVENT_TYPES, REFUSED_OUTCOMES, EventOutcome, PaymentEvent
from maya.state.manager import TabManager
from maya.state.models import TabState

if TYPE_CHECKING:
    import stripe

__all__ = [
    "MAX_BODY_BYTES",
    "SECRET_ENV",
    "THIN_EVENT_OBJECT",
    "TOLERANCE_S",
    "Ignored",
    "LinkCloser",
    "StripeLibraryMissing",
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

THIN_EVENT_OBJECT = "v2.core.event"
"""The ``object`` of a v2 thin event notification (an event destination's other format)."""

_log = logging.getLogger("maya.server.webhook")
_MAX_ID = 255
_BOM = "\ufeff"


class LinkCloser(Protocol):
    """What deactivates a payment link at Stripe (``StripeMCPClient`` is one)."""

    async def deactivate_payment_link(self, payment_id: str) -> bool:
        """Deactivate the link; False (or an exception) when it could not be done."""
        ...


@dataclass(frozen=True, slots=True)
class Ignored:
    """A verified delivery that concerns no tab: acknowledged with 200, nothing changed.

    Attributes:
        reason: ``event type`` or ``v2 thin notification``.
    """

    reason: str


class WebhookSecretError(ValueError):
    """The signing secret is missing or not a ``whsec_`` secret (never shown)."""


class StripeLibraryMissing(WebhookSecretError):
    """The ``stripe`` library, which verifies the signatures, is not installed."""


def _stripe() -> Any:
    """Stripe's library, imported when a webhook is first set up (``maya serve`` only).

    Raises:
        StripeLibraryMissing: it is not installed (the ``[serve]`` extra brings it).
    """
    try:
        import stripe
    except ImportError:
        raise StripeLibraryMissing(
            "the Stripe webhook needs the stripe library: pip install 'maya-payments[serve]'"
        ) from None
    return stripe


def check_webhook_secret(secret: str | None) -> str:
    """Return ``secret`` if it looks like a Stripe endpoint secret.

    Raises:
        WebhookSecretError: when it is not ``whsec_`` and at least 4 more characters,
            without spaces around it.
        StripeLibraryMissing: the library that verifies its signatures is not installed.
    """
    _stripe()
    if (
        not secret
        or not secret.startswith("whsec_")
        or len(secret) < 10
        or secret != secret.strip()
    ):
        raise WebhookSecretError(
            f"{SECRET_ENV} must be the endpoint's signing secret: whsec_ followed by at "
            "least 4 characters, with no spaces around it"
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
) -> PaymentEvent | Ignored:
    """Verify a delivery and read the event, parsing the body once.

    The signature is over the body as sent (a leading UTF-8 BOM included, as
    ``stripe.WebhookSignature`` computes it); the JSON is read without the BOM, as
    ``stripe.Webhook.construct_event`` reads a body given as bytes.

    Returns:
        The Checkout event, or ``Ignored`` for another type or a v2 thin notification.

    Raises:
        WebhookRejected: the signature, timestamp or body is not acceptable.
    """
    if not header:
        raise WebhookRejected(400, "missing Stripe-Signature header")
    if not header.isascii():  # Stripe's own compare fails on it (TypeError), past its parse
        raise WebhookRejected(400, "malformed Stripe-Signature header")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRejected(400, "body is not UTF-8") from None
    stripe = _stripe()
    try:
        stripe.WebhookSignature.verify_header(text, header, secret, tolerance)
    except stripe.SignatureVerificationError as exc:
        raise WebhookRejected(400, _signature_reason(exc)) from None
    try:
        data = json.loads(text.removeprefix(_BOM))
    except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth
        raise WebhookRejected(400, "malformed JSON") from None
    return _event_from(data)


def _event_from(data: Any) -> PaymentEvent | Ignored:
    if not isinstance(data, dict):
        raise WebhookRejected(400, "not a Stripe event")
    event_id, type_, created = data.get("id"), data.get("type"), data.get("created")
    if not (isinstance(event_id, str) and 0 < len(event_id) <= _MAX_ID):
        raise WebhookRejected(400, "event without an id")
    if not isinstance(type_, str) or not type_:
        raise WebhookRejected(400, "event without a type")
    if data.get("object") == THIN_EVENT_OBJECT:
        # A thin notification names a related object only; reading it would need a
        # Stripe call per event. Checkout's outcomes come as snapshot events.
        return Ignored("v2 thin notification")
    if type_ not in CHECKOUT_EVENT_TYPES:
        return Ignored("event type")
    holder = data.get("data")
    obj = holder.get("object") if isinstance(holder, dict) else None
    if not isinstance(obj, dict):
        raise WebhookRejected(400, "event without data.object")
    link = obj.get("payment_link")
    if isinstance(link, dict):  # expanded
        link = link.get("id")
    metadata = obj.get("metadata")
    key = metadata.get("idempotency_key") if isinstance(metadata, dict) else None
    livemode = data.get("livemode")
    currency = obj.get("currency")
    return PaymentEvent(
        event_id=event_id,
        type=type_,
        payment_id=_text(link),
        payment_status=_text(obj.get("payment_status")),
        amount_total=_cents(obj.get("amount_total")),
        created=created if isinstance(created, int) and not isinstance(created, bool) else 0,
        idempotency_key=_text(key),
        checkout_session=_text(obj.get("id")),
        livemode=livemode if isinstance(livemode, bool) else None,
        currency=currency.lower() if isinstance(currency, str) and currency else None,
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
    livemode: bool | None = None,
    links: LinkCloser | None = None,
) -> Any:
    """The Starlette endpoint for ``POST /stripe/webhook``.

    Args:
        manager: the tabs.
        secret: the endpoint's signing secret.
        tolerance: seconds a signature's timestamp may lag.
        max_body: the largest body accepted, in bytes.
        livemode: the configured mode; None: the mode of the app's Stripe client
            (``app.state.context.payments``), else test mode.
        links: what deactivates links at Stripe; None: the app's Stripe client, if any.
    """

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
        if isinstance(event, Ignored):
            request.state.log_note = f"ignored {event.reason}"
            return JSONResponse({"received": True, "ignored": event.reason})
        client = links if links is not None else _app_client(request)
        mode = livemode if livemode is not None else _client_is_live(client)
        try:
            result = await manager.apply_payment_event(event, livemode=mode)
        except (StoreError, StateError) as exc:
            # Not the sender's fault, and nothing was stored (the transaction rolled
            # back): a 503 makes Stripe deliver the event again later.
            _log.warning("webhook %s not applied: %s", event.event_id, exc.code)
            return JSONResponse(
                {"error": "not stored, retry later"},
                status_code=503,
                headers={"Retry-After": str(StoreError.retry_after_s)},
            )
        outcome = result.outcome
        request.state.log_note = f"{event.event_id} {event.type} -> {outcome.value}" + (
            f" (session {result.session_id})" if result.session_id else ""
        )
        if outcome in REFUSED_OUTCOMES:
            # Answered 200 so Stripe stops retrying; kept in the event store with the reason.
            _log.warning(
                "webhook %s changed nothing: %s (livemode %s, currency %s)",
                event.event_id,
                outcome.value,
                event.livemode,
                event.currency,
            )
        background = None
        state = result.state
        if (
            client is not None
            and state is not None
            and outcome in (EventOutcome.SETTLED, EventOutcome.OVERPAID)
            and state.stale_links
        ):
            background = BackgroundTask(_close_links, manager, client, state)
        return JSONResponse({"received": True, "outcome": outcome.value}, background=background)

    return endpoint


def _app_client(request: Request) -> LinkCloser | None:
    context = getattr(request.app.state, "context", None)
    client = getattr(context, "payments", None)
    return client if client is not None and hasattr(client, "deactivate_payment_link") else None


def _client_is_live(client: object) -> bool:
    # Live mode is refused unless enabled, so a client of unknown mode means test mode.
    return getattr(client, "mode", "test") == "live"


async def _close_links(manager: TabManager, client: LinkCloser, state: TabState) -> None:
    """Deactivate the links a settlement left open for what is not owed; record each.

    Runs after Stripe has its answer. A link that cannot be closed (no permission,
    Stripe down) stays recorded as open but not owed: what it collects is credit.
    """
    for record in state.stale_links:
        payment_id = record.payment_id
        assert payment_id is not None  # links_to_close holds linked records only
        try:
            closed = await client.deactivate_payment_link(payment_id)
        except Exception as exc:  # any failure: the link stays open-but-not-owed
            _log.warning("could not deactivate link %s: %s", payment_id, type(exc).__name__)
            continue
        if closed is False:
            _log.warning("the gateway did not deactivate link %s", payment_id)
            continue
        try:
            await manager.record_link_closed(state.session_id, payment_id)
        except (StoreError, StateError) as exc:
            _log.warning("link %s closed but not recorded: %s", payment_id, exc.code)
