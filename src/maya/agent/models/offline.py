"""The offline model: a small rule-based stand-in for Gemini, the default without a key.

A message becomes function calls in the customer's order; the reply is composed from the
tools' responses alone, so it never invents an amount.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from google.genai import types

from maya.agent.models.base import Contents, Reply, Tools, calls_response, text_response
from maya.agent.models.offline_parse import DrinkOrder, Intent, parse_message
from maya.agent.models.offline_reply import compose_reply
from maya.bar.menu import Menu, bar_messages, load_menu
from maya.bar.settings import MAX_QUANTITY
from maya.codes import ErrorCode
from maya.state.errors import StateError

__all__ = ["OfflineModel"]

_INTENTS_KEPT = 256
"""Messages whose intent is kept for their turn's next step (turns under way at once)."""

GREETING = "Good evening, I'm Maya! What can I pour for you? Ask for the menu any time."
THANKS = "My pleasure! Anything else I can get you?"
GOODBYE = "Good night, and come back soon!"
ASK_TIP = "That's kind of you! Would you like a 10, 15 or 20 percent tip?"
FALLBACK = (
    "I'm not sure I follow. I can pour you a drink, show you the menu, tell you your "
    "balance or your bill, add a tip, or make you a payment link."
)
NOTHING_TO_REPEAT = "You haven't ordered anything yet tonight - what can I get you?"
TOO_LONG = (
    "That's a lot to take in at once! Tell me in a sentence or two what you'd like, and "
    "I'll take it from there."
)
CANCEL_ONLY_LAST = (
    "I can only take back the last drink you ordered, the {last}. Shall I cancel that one?"
)


def _latest_said(contents: Sequence[types.Content]) -> tuple[types.Content | None, str]:
    """The customer's latest message: its content and its text (None, "" when none)."""
    for content in reversed(contents):
        if content.role == "user" and content.parts:
            text = "".join(p.text for p in content.parts if p.text)
            if text:
                return content, text
    return None, ""


def _function_responses(content: types.Content) -> list[tuple[str, dict[str, Any]]]:
    return [
        (part.function_response.name or "", dict(part.function_response.response or {}))
        for part in content.parts or []
        if part.function_response is not None
    ]


_ID_PREFIX = "offline"


def _next_call_number(contents: Sequence[types.Content]) -> int:
    """The number of this model's next call id: one past its latest call's (``offline_N``),
    found from the end, so a turn does not walk the whole conversation; one past the
    count of calls when the latest call is someone else's (a conversation begun with
    Gemini). Ids then never repeat in a conversation, even once its head is dropped."""
    for content in reversed(contents):
        if content.role != "model" or not content.parts:
            continue
        for part in reversed(content.parts):
            call = part.function_call
            if call is None:
                continue
            prefix, _, number = (call.id or "").rpartition("_")
            if prefix == _ID_PREFIX and number.isdigit():
                return int(number) + 1
            return _calls_made(contents) + 1
    return 1


def _calls_made(contents: Sequence[types.Content]) -> int:
    # Only the model calls functions: the customer's side (half the parts) is not read.
    return sum(
        1
        for content in contents
        if content.role == "model"
        for part in content.parts or ()
        if part.function_call is not None
    )


def _accepted_orders(contents: Sequence[types.Content]) -> list[list[dict[str, Any]]]:
    """The ``order_drink`` calls the tools accepted (less those cancelled since), grouped by
    customer message."""
    rounds: list[list[dict[str, Any]]] = []
    asked: list[types.FunctionCall] = []
    for content in contents:
        parts = content.parts or []
        if content.role == "user" and any(p.text for p in parts):
            rounds.append([])
        if content.role == "model":
            asked = [p.function_call for p in parts if p.function_call is not None]
            continue
        answers = [p.function_response for p in parts if p.function_response is not None]
        for call, answer in zip(asked, answers, strict=False):
            response = dict(answer.response or {})
            if response.get("status") != "ok" or not rounds:
                continue
            if call.name == "order_drink":
                rounds[-1].append(dict(call.args or {}))
            elif call.name == "cancel_last_order":
                # The cancelled line is no longer "the last drink".
                for group in reversed(rounds):
                    if group:
                        group.pop()
                        break
        asked = []
    return [group for group in rounds if group]


def _order_call(order: DrinkOrder) -> tuple[str, dict[str, Any]]:
    args = {"name": order.name, "quantity": order.quantity, "modifiers": list(order.modifiers)}
    return ("order_drink", args)


def _too_many(intent: Intent) -> list[DrinkOrder]:
    return [order for order in intent.orders if order.quantity > MAX_QUANTITY]


def too_many_note(intent: Intent) -> str | None:
    """What Maya says about orders beyond the per-order limit ("twenty-one vodkas", "1000
    beers"), or with a number that is no count of drinks ("0.5 martinis", "minus two
    beers", "hundreds of beers")."""
    notes: list[str] = []
    limit = bar_messages().render(ErrorCode.INVALID_QUANTITY, {"max": MAX_QUANTITY})
    over = _too_many(intent)
    if over:
        drinks = " and ".join(f"{order.quantity:,} x {order.name}" for order in over)
        notes.append(f"{drinks} is more than I can pour at once. {limit}")
    if intent.unclear_quantity:
        drinks = " or ".join(intent.unclear_quantity)
        notes.append(
            f"I need a count of whole drinks, so I can't take that number of {drinks}. {limit}"
        )
    return " ".join(notes) or None


def _calls_for(intent: Intent) -> list[tuple[str, dict[str, Any]]]:
    if intent.status:
        return [("check_payment_status", {})]
    if intent.cancel:
        return [("cancel_last_order", {})]
    if intent.spending or intent.history:
        return [("get_bill", {})]
    # Each request where the customer said it: "two beers, a 15% tip and let me pay".
    placed: list[tuple[int, int, tuple[str, dict[str, Any]]]] = []
    for index, order in enumerate(intent.orders):
        if order.quantity > MAX_QUANTITY:
            continue  # told, not sent: the tool's schema stops at MAX_QUANTITY
        at = intent.orders_at[index] if index < len(intent.orders_at) else 0
        placed.append((at, index, _order_call(order)))
    if intent.remove_tip:
        placed.append((max(intent.tip_at, 0), 100, ("remove_tip", {})))
    elif intent.tip_percent is not None:
        placed.append((max(intent.tip_at, 0), 100, ("set_tip", {"percent": intent.tip_percent})))
    if intent.pay:
        placed.append((max(intent.pay_at, 0), 200, ("create_stripe_payment", {})))
    calls = [call for _, _, call in sorted(placed, key=lambda p: (p[0], p[1]))]
    if calls:
        return calls
    if intent.bill:
        calls.append(("get_bill", {}))
    if intent.balance:
        calls.append(("get_balance", {}))
    if intent.menu or intent.price_of:
        calls.append(("get_menu", {}))
    return calls


def _small_talk(intent: Intent) -> str:
    if intent.too_long:
        return TOO_LONG
    note = too_many_note(intent)
    if note is not None:
        return note
    if intent.tip_without_percent:
        return ASK_TIP
    if intent.goodbye:
        return GOODBYE
    if intent.thanks:
        return THANKS
    if intent.greeting:
        return GREETING
    return FALLBACK


class OfflineModel:
    """Reads the conversation and answers with Gemini-shaped function calls and text."""

    def __init__(self, *, menu: Menu | None = None, name: str = "offline") -> None:
        """Create the model.

        Args:
            menu: drink names and modifiers to recognise (default: the packaged menu).
            name: the model's name in traces.
        """
        self.menu = menu if menu is not None else load_menu()
        self.name = name
        # The intent read in a message's first step, for its second (after the tools
        # answered): keyed by the message's own content object, so a turn's two steps
        # parse it once, and a message said again in a later turn is read afresh.
        self._read: OrderedDict[int, tuple[types.Content, Intent]] = OrderedDict()

    def intent_of(self, message: str) -> Intent:
        """What the model reads in ``message``."""
        return parse_message(message, self.menu)

    def _intent_in(self, contents: Sequence[types.Content]) -> Intent:
        said, text = _latest_said(contents)
        if said is None:
            return self.intent_of(text)
        kept = self._read.get(id(said))
        if kept is not None and kept[0] is said:
            return kept[1]
        intent = self.intent_of(text)
        self._read[id(said)] = (said, intent)
        if len(self._read) > _INTENTS_KEPT:
            self._read.popitem(last=False)
        return intent

    async def generate(self, *, system_instruction: str, contents: Contents, tools: Tools) -> Reply:
        """Function calls for a fresh message; a reply composed from tool responses after."""
        last = contents[-1] if contents else None
        if last is not None and last.role == "user":
            responses = _function_responses(last)
            if responses:
                intent = self._intent_in(contents)
                reply = compose_reply(responses, intent=intent)
                note = too_many_note(intent)
                return text_response(f"{reply}\n{note}" if note else reply)
        intent = self._intent_in(contents)
        if intent.double or intent.same_again or intent.cancel_name is not None:
            said = self._from_history(intent, contents)
            if said is not None:
                return said
        calls = _calls_for(intent)
        if calls:
            return calls_response(calls, id_prefix=_ID_PREFIX, start=_next_call_number(contents))
        return text_response(_small_talk(intent))

    def _from_history(
        self, intent: Intent, contents: Sequence[types.Content]
    ) -> types.GenerateContentResponse | None:
        """Calls for "make it a double", "same again" and "cancel the X", read from what
        the tools accepted earlier; None to fall through to the ordinary calls."""
        rounds = _accepted_orders(contents)
        if not rounds:
            return text_response(NOTHING_TO_REPEAT)
        last_round = rounds[-1]
        if intent.cancel_name is not None:
            last = str(last_round[-1].get("name", ""))
            try:
                named = self.menu.find(intent.cancel_name).name
            except StateError:
                named = intent.cancel_name
            if named.casefold() == last.casefold():
                return None
            return text_response(CANCEL_ONLY_LAST.format(last=last))
        # A double is the last drink once more (the menu prices it); same again is the
        # whole last round.
        chosen = [last_round[-1]] if intent.double else last_round
        calls = [("order_drink", dict(args)) for args in chosen]
        return calls_response(calls, id_prefix=_ID_PREFIX, start=_next_call_number(contents))
