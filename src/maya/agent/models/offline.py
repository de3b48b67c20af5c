"""The offline model: a small rule-based stand-in for Gemini, the default without a key.

It answers exactly as Gemini would through the seam: a customer's message becomes
function calls (``order_drink`` per drink, ``set_tip``, ``create_stripe_payment``...)
or a line of small talk; once the tools have answered, it composes the reply from their
responses alone (amounts, the link, ``is_simulated``, the tools' own error words). It
never invents an amount.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.genai import types

from maya.agent.models.base import calls_response, text_response
from maya.agent.models.offline_parse import Intent, parse_message
from maya.agent.models.offline_reply import compose_reply
from maya.state.menu import Menu, load_menu

__all__ = ["OfflineModel"]

GREETING = "Good evening, I'm Maya! What can I pour for you? Ask for the menu any time."
THANKS = "My pleasure! Anything else I can get you?"
GOODBYE = "Good night, and come back soon!"
ASK_TIP = "That's kind of you! Would you like a 10, 15 or 20 percent tip?"
FALLBACK = (
    "I'm not sure I follow. I can pour you a drink, show you the menu, tell you your "
    "balance or your bill, add a tip, or make you a payment link."
)


def _latest_text(contents: Sequence[types.Content]) -> str:
    for content in reversed(contents):
        if content.role == "user" and content.parts:
            text = "".join(p.text for p in content.parts if p.text)
            if text:
                return text
    return ""


def _function_responses(content: types.Content) -> list[tuple[str, dict[str, Any]]]:
    return [
        (part.function_response.name or "", dict(part.function_response.response or {}))
        for part in content.parts or []
        if part.function_response is not None
    ]


def _calls_made(contents: Sequence[types.Content]) -> int:
    return sum(
        1 for content in contents for part in content.parts or [] if part.function_call is not None
    )


def _calls_for(intent: Intent) -> list[tuple[str, dict[str, Any]]]:
    calls: list[tuple[str, dict[str, Any]]] = []
    if intent.status:
        return [("check_payment_status", {})]
    for order in intent.orders:
        calls.append(
            (
                "order_drink",
                {
                    "name": order.name,
                    "quantity": order.quantity,
                    "modifiers": list(order.modifiers),
                },
            )
        )
    if intent.remove_tip:
        calls.append(("remove_tip", {}))
    elif intent.tip_percent is not None:
        calls.append(("set_tip", {"percent": intent.tip_percent}))
    if intent.pay:
        calls.append(("create_stripe_payment", {}))
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

    def intent_of(self, message: str) -> Intent:
        """What the model reads in ``message``."""
        return parse_message(message, self.menu)

    async def generate(
        self,
        *,
        system_instruction: str,
        contents: Sequence[types.Content],
        tools: Sequence[types.Tool],
    ) -> types.GenerateContentResponse:
        """Function calls for a fresh message; a reply composed from tool responses after."""
        last = contents[-1] if contents else None
        if last is not None and last.role == "user":
            responses = _function_responses(last)
            if responses:
                intent = self.intent_of(_latest_text(contents))
                return text_response(compose_reply(responses, price_of=intent.price_of))
        intent = self.intent_of(_latest_text(contents))
        calls = _calls_for(intent)
        if calls:
            return calls_response(calls, id_prefix="offline", start=_calls_made(contents) + 1)
        return text_response(_small_talk(intent))
