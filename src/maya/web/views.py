"""What the page is told: the tab overlay, tool activity lines, and which links it may show.

Everything here is data for ``textContent`` on the page: no HTML is ever built from a
model's or a customer's words.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Mapping
from typing import Any, Literal

from maya.money import Cents, format_amount
from maya.payments._links import STRIPE_LINK_HOSTS, check_link_url
from maya.state.models import TabState
from maya.state.view import outcome_view

__all__ = [
    "LOW_BALANCE_CENTS",
    "activity_line",
    "balance_level",
    "link_hosts_from_env",
    "safe_link",
    "session_tag",
    "tab_view",
]

LOW_BALANCE_CENTS: Cents = 5_000
"""Below $50.00 the balance shows amber (the original page's orange); at $0, red."""

_MAX_SHOWN = 40


def balance_level(balance_cents: Cents) -> Literal["normal", "low", "empty"]:
    """``normal`` from $50, ``low`` below it, ``empty`` at (or under) $0."""
    if balance_cents <= 0:
        return "empty"
    return "low" if balance_cents < LOW_BALANCE_CENTS else "normal"


def link_hosts_from_env(environ: Mapping[str, str] | None = None) -> frozenset[str]:
    """The hosts a payment link may be on: Stripe's, or ``MAYA_STRIPE_LINK_HOSTS``."""
    env = os.environ if environ is None else environ
    raw = env.get("MAYA_STRIPE_LINK_HOSTS", "")
    hosts = {h.strip().lower() for h in raw.split(",") if h.strip()}
    return frozenset(hosts) if hosts else STRIPE_LINK_HOSTS


def safe_link(url: object, *, is_simulated: bool, hosts: Collection[str]) -> str | None:
    """``url`` when the page may show it as a link, else None.

    A simulated link leads nowhere (no money can move), so it is never a link; any other
    must pass the payment client's own URL checks again (``https`` on a link host, or the
    sandbox on this machine).
    """
    if is_simulated or not isinstance(url, str):
        return None
    return url if check_link_url(url, hosts=hosts, allow_loopback=True) is None else None


def session_tag(session_id: str) -> str:
    """Which session a tab belongs to, as the page may see it (a hash, not the id).

    Every window of one browser shares its cookie; when one opens a new tab the others
    compare this to know that versions of their old tab no longer apply.
    """
    return hashlib.sha256(session_id.encode()).hexdigest()[:16]


def tab_view(state: TabState, *, hosts: Collection[str]) -> dict[str, Any]:
    """The overlay: its session, balance (and its level), tab, tip, total due, payment."""
    current = state.current_payment
    payment: dict[str, Any] = {"status": state.payment_status.value}
    if current is not None:
        payment.update(
            amount=format_amount(current.snapshot.amount_cents, state.currency),
            amount_cents=current.snapshot.amount_cents,
            is_simulated=current.is_simulated,
            url=safe_link(current.url, is_simulated=current.is_simulated, hosts=hosts),
        )
    return {
        "session": session_tag(state.session_id),
        "version": state.version,
        "balance": format_amount(state.balance_cents, state.currency),
        "balance_cents": state.balance_cents,
        "level": balance_level(state.balance_cents),
        "tab": format_amount(state.tab_cents, state.currency),
        "tab_cents": state.tab_cents,
        "tip_percent": state.tip_percent,
        "tip": format_amount(state.tip_cents, state.currency),
        "total_due": format_amount(state.total_due_cents, state.currency),
        "total_due_cents": state.total_due_cents,
        "items": len(state.items),
        "payment": payment,
        # Shortfall still due, credit to refund, links open but not owed (no URLs).
        **outcome_view(state),
    }


def _shown(value: object) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "\u2026"


def activity_line(name: str, args: Mapping[str, Any]) -> str:
    """A short line saying what a tool call is doing, e.g. "Adding a Martini to your tab..."."""
    if name == "order_drink":
        drink = _shown(args.get("name") or "drink")
        quantity = args.get("quantity")
        if isinstance(quantity, int) and not isinstance(quantity, bool) and quantity > 1:
            return f"Adding {quantity} x {drink} to your tab..."
        article = "an" if drink[:1].lower() in "aeiou" else "a"
        return f"Adding {article} {drink} to your tab..."
    lines = {
        "get_menu": "Looking at the menu...",
        "cancel_last_order": "Taking your last drink off the tab...",
        "get_balance": "Checking your balance...",
        "remove_tip": "Removing the tip...",
        "get_bill": "Reading your bill...",
        "create_stripe_payment": "Making your payment link...",
        "check_payment_status": "Checking your payment...",
    }
    if name == "set_tip":
        return f"Setting a {_shown(args.get('percent', ''))}% tip..."
    return lines.get(name, "Working on it...")
