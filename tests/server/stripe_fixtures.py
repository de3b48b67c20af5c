"""Stripe's published example objects (``tests/fixtures/stripe``) turned into test events."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "stripe"


@cache
def _load(name: str) -> str:
    return (FIXTURES / f"{name}.json").read_text()


def load(name: str) -> dict[str, Any]:
    """A fresh copy of one fixture (``event``, ``checkout_session``, ``v2_core_event_thin``...)."""
    data: dict[str, Any] = json.loads(_load(name))
    return data


def checkout_session(
    *,
    session_id: str,
    link: str,
    amount_total: int,
    currency: str = "usd",
    payment_status: str = "paid",
    status: str = "complete",
    metadata: dict[str, str] | None = None,
    livemode: bool = False,
) -> dict[str, Any]:
    """Stripe's Checkout Session fixture, paid (by default) on ``link``."""
    session = load("checkout_session")
    session.update(
        id=session_id,
        payment_link=link,
        amount_subtotal=amount_total,
        amount_total=amount_total,
        currency=currency,
        payment_status=payment_status,
        status=status,
        metadata=dict(metadata or {}),
        livemode=livemode,
        mode="payment",
    )
    return session


def snapshot_event(
    session: dict[str, Any],
    *,
    event_id: str,
    type_: str = "checkout.session.completed",
    created: int = 1_800_000_000,
    livemode: bool | None = None,
    api_version: str = "2020-08-27",
) -> dict[str, Any]:
    """Stripe's event fixture carrying ``session`` as its ``data.object``."""
    event = load("event")
    event.update(
        id=event_id,
        type=type_,
        created=created,
        api_version=api_version,
        livemode=session["livemode"] if livemode is None else livemode,
        data={"object": copy.deepcopy(session)},
    )
    return event


def thin_event() -> dict[str, Any]:
    """The v2 thin notification from stripe-python's tests."""
    return load("v2_core_event_thin")
