"""The offline model's words after the tools have answered: every amount, link and flag is
copied from a tool's response, and a refusal uses the tool's own ``message``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from maya.agent.models.offline_parse import Intent

__all__ = ["compose_reply"]

SIMULATED_NOTE = "Heads up: this is a simulated test payment, so no real money will move."
SIMULATED_PAID = (
    "That was a simulated test payment: your tab is marked paid, but no real money moved."
)
SIMULATED_PENDING = "It's a simulated test payment, so no real money will move."
CASH_NOTE = "We only take card, through the payment link - no cash, I'm afraid."
TOO_MANY_AT_ONCE = (
    "That's more than I can take in one go: I handle at most {max} orders or requests a "
    "message, so I haven't done any of it and your tab hasn't changed. Could you split it "
    'up, or give counts like "3 beers"?'
)
TOO_MANY_AT_ONCE_PLAIN = (
    "That's more than I can take in one go, so I haven't done any of it and your tab hasn't "
    'changed. Could you split it up, or give counts like "3 beers"?'
)
MIXED_NOTE = (
    "Mixed drinks like {names} aren't on our menu; I can pour the spirit neat or on the "
    "rocks instead."
)


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def _drink(item: Mapping[str, Any]) -> str:
    quantity = item.get("quantity", 1)
    name = _s(item.get("item"))
    mods = [m for m in item.get("modifiers") or [] if isinstance(m, str)]
    described = f"{quantity} x {name}"
    return f"{described} ({', '.join(mods)})" if mods else described


def _tip_clause(result: Mapping[str, Any]) -> str:
    if result.get("tip_percent"):
        return f" plus a {result['tip_percent']}% tip of {_s(result.get('tip'))}"
    return ""


def _order_sentences(results: Sequence[Mapping[str, Any]]) -> list[str]:
    drinks = [_drink(r["ordered"]) for r in results if isinstance(r.get("ordered"), Mapping)]
    lines = [f"{_drink(r['ordered'])}: {_s(r['ordered'].get('line'))}" for r in results]
    last = results[-1]
    if len(drinks) == 1:
        head = f"Coming right up: {lines[0]}."
    else:
        head = "Coming right up:\n" + "\n".join(f"- {line}" for line in lines)
    return [
        head,
        f"Your tab is {_s(last.get('tab'))} and your balance is {_s(last.get('balance'))}.",
    ]


def _bill(result: Mapping[str, Any]) -> str:
    items = [i for i in result.get("items") or [] if isinstance(i, Mapping)]
    if not items and not result.get("tab_cents"):
        tab, balance = _s(result.get("tab")), _s(result.get("balance"))
        text = f"Your tab is empty ({tab}). Your balance is {balance}."
    else:
        lines = [f"- {_drink(i)}: {_s(i.get('line'))}" for i in items]
        text = "Here's your bill:\n" + "\n".join(lines) if lines else "Here's your bill."
        text += f"\nTab: {_s(result.get('tab'))}"
        if result.get("tip_percent"):
            text += f"\nTip ({result['tip_percent']}%): {_s(result.get('tip'))}"
        text += f"\nTotal due: {_s(result.get('total_due'))}"
        text += f"\nBalance left: {_s(result.get('balance'))}"
    if result.get("credit"):
        text += f"\nYou have a credit of {_s(result.get('credit'))}."
    payment = result.get("payment")
    if (
        isinstance(payment, Mapping)
        and payment.get("url")
        and payment.get("status")
        in (
            "pending",
            "failed",
        )
    ):
        text += f"\nYour payment link ({_s(payment.get('amount'))}):\n{payment['url']}"
    return text


def _balance(result: Mapping[str, Any]) -> str:
    text = f"Your balance is {_s(result.get('balance'))}."
    if result.get("tab_cents"):
        tab, due = _s(result.get("tab")), _s(result.get("total_due"))
        text += f" Your tab is {tab}{_tip_clause(result)}, so you owe {due}."
    else:
        text += " Your tab is empty."
    return text


def _tip(result: Mapping[str, Any]) -> str:
    if result.get("removed"):
        return f"Tip removed. Your total is {_s(result.get('total_due'))}."
    return (
        f"A {result.get('tip_percent')}% tip on {_s(result.get('tab'))} is "
        f"{_s(result.get('tip'))}, so your total is {_s(result.get('total_due'))}. Thank you!"
    )


def _link(result: Mapping[str, Any]) -> str:
    text = f"That's {_s(result.get('amount'))}"
    if result.get("tip_percent"):
        text += f" ({_s(result.get('tab'))}{_tip_clause(result)})"
    text += f". Here's your payment link:\n{_s(result.get('url'))}"
    if result.get("reused"):
        text += "\nIt's the same link as before, since your tab hasn't changed."
    if result.get("is_simulated"):
        text += "\n" + SIMULATED_NOTE
    return text


def _status(result: Mapping[str, Any]) -> str:
    status = result.get("payment_status")
    if result.get("is_simulated") is True and status in ("succeeded", "simulated"):
        # A simulated payment moved no money: never say it "went through".
        text = SIMULATED_PAID
        if "tab" in result:
            text += f" Your tab is now {_s(result.get('tab'))}."
        return text
    text = _s(result.get("message")) or f"Payment status: {_s(status)}."
    if result.get("is_simulated") is True:
        text = f"{SIMULATED_PENDING} {text}"
    if status == "succeeded" and "tab" in result:
        text += f" Your tab is now {_s(result.get('tab'))}."
    if result.get("payment_status") == "failed" and result.get("url"):
        text += f"\n{result['url']}"
    return text


def _cancelled(result: Mapping[str, Any]) -> str:
    line = result.get("cancelled")
    drink = _drink(line) if isinstance(line, Mapping) else "that"
    return (
        f"Done - I took {drink} off your tab and put {_s(result.get('refund'))} back on "
        f"your balance. Your tab is {_s(result.get('tab'))} and your balance is "
        f"{_s(result.get('balance'))}."
    )


def _spending(result: Mapping[str, Any]) -> str:
    if not result.get("tab_cents"):
        return (
            f"Nothing on your tab right now ({_s(result.get('tab'))}); your balance is "
            f"{_s(result.get('balance'))}."
        )
    text = f"Your drinks on the tab come to {_s(result.get('tab'))}"
    if result.get("tip_percent"):
        text += f", plus a {result['tip_percent']}% tip of {_s(result.get('tip'))}"
    return text + f", and your balance is {_s(result.get('balance'))}."


def _history(result: Mapping[str, Any]) -> str:
    items = [i for i in result.get("items") or [] if isinstance(i, Mapping)]
    if not items:
        return "You haven't anything on your tab yet - what can I get you?"
    lines = [f"- {_drink(i)}: {_s(i.get('line'))}" for i in items]
    return "On your tab you've had:\n" + "\n".join(lines) + f"\nTab: {_s(result.get('tab'))}"


def _menu(result: Mapping[str, Any], price_of: Sequence[str]) -> str:
    categories = result.get("categories")
    if not isinstance(categories, Mapping):
        return "Here's what we pour tonight."
    entries = {
        _s(entry.get("item")): _s(entry.get("price"))
        for items in categories.values()
        for entry in items
        if isinstance(entry, Mapping)
    }
    if price_of:
        known = [f"{name} is {entries[name]}" for name in price_of if name in entries]
        if known:
            return "; ".join(known) + ". Want one?"
    lines = [
        f"{category}: " + ", ".join(f"{_s(e.get('item'))} {_s(e.get('price'))}" for e in items)
        for category, items in categories.items()
    ]
    return "Here's what we pour tonight:\n" + "\n".join(lines)


def _too_many_at_once(response: Mapping[str, Any]) -> str:
    """The loop refused the whole answer (``TOO_MANY_TOOL_CALLS``), in the customer's words:
    its own message speaks of tool calls, to the model."""
    most = response.get("max")
    if isinstance(most, int) and not isinstance(most, bool):
        return TOO_MANY_AT_ONCE.format(max=most)
    return TOO_MANY_AT_ONCE_PLAIN


def _lead(intent: Intent | None) -> list[str]:
    if intent is None:
        return []
    if intent.double:
        return ["Making it a double:"]
    if intent.same_again:
        return ["Same again, coming up."]
    if intent.cash:
        return [CASH_NOTE]
    return []


_SAYS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "get_bill": _bill,
    "cancel_last_order": _cancelled,
    "get_balance": _balance,
    "set_tip": _tip,
    "remove_tip": _tip,
    "create_stripe_payment": _link,
    "check_payment_status": _status,
}
"""What one tool's ok result reads as (the bill's spending and history framings aside)."""


def compose_reply(
    responses: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    price_of: Sequence[str] = (),
    intent: Intent | None = None,
) -> str:
    """Maya's reply to one round of tool responses, from their contents alone.

    Args:
        responses: (tool name, response dict) in call order.
        price_of: drinks the customer asked the price of (answered from ``get_menu``).
        intent: what the customer asked, for the framing ("make it a double", spending,
            order history, cash); ``intent.price_of`` is used when given.
    """
    if intent is not None and intent.price_of:
        price_of = intent.price_of
    sentences: list[str] = _lead(intent)
    orders: list[Mapping[str, Any]] = []
    # Drinks of the same request that did not get on the tab (the store failed): said
    # right after the ones that did, so a partial order reads as exactly that.
    not_added: list[str] = []

    def flush_orders() -> None:
        if orders:
            sentences.extend(_order_sentences(orders))
            orders.clear()
        sentences.extend(not_added)
        not_added.clear()

    mixed = set(intent.mixed) if intent is not None else set()
    # A refusal is said once however many calls it answered: an answer of too many calls
    # is refused call by call, and "beer, beer, beer" over the balance thrice alike.
    refused: set[str] = set()
    for name, response in responses:
        if response.get("error") == "UNKNOWN_ITEM" and response.get("item") in mixed:
            continue  # the note on mixed drinks below says it once, and better
        if name == "order_drink" and response.get("added") is False:
            not_added.append(_s(response.get("message")) or "That drink is not on your tab.")
            continue
        if response.get("status") != "ok":
            if response.get("error") == "TOO_MANY_TOOL_CALLS":
                refusal = _too_many_at_once(response)
            else:
                refusal = _s(response.get("message")) or "Sorry, I couldn't do that."
            if refusal not in refused:
                refused.add(refusal)
                flush_orders()
                sentences.append(refusal)
            continue
        result = response.get("result")
        result = result if isinstance(result, Mapping) else {}
        if name == "order_drink":
            orders.append(result)
            continue
        flush_orders()
        if name == "get_bill" and intent is not None and intent.spending:
            sentences.append(_spending(result))
        elif name == "get_bill" and intent is not None and intent.history:
            sentences.append(_history(result))
        elif name == "get_menu":
            sentences.append(_menu(result, price_of))
        elif name in _SAYS:
            sentences.append(_SAYS[name](result))
        else:
            sentences.append(_s(result.get("message")) or "Done.")
    flush_orders()
    if intent is not None and intent.mixed:
        sentences.append(MIXED_NOTE.format(names=" or ".join(f"a {m}" for m in intent.mixed)))
    return "\n".join(sentences)
