"""Maya's words when a turn does not end in the model's own (``prompts/fallback.yaml``):
after a tool changed the tab she states what was done, never "say that again".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from importlib import resources
from typing import Any

from maya.messages import MessageBook

__all__ = [
    "REPORTED_TOOLS",
    "done_sentences",
    "fallback_reply",
    "load_fallback_words",
    "truncation_note",
]

REPORTED_TOOLS = frozenset(
    {
        "order_drink",
        "set_tip",
        "remove_tip",
        "cancel_last_order",
        "create_stripe_payment",
        "check_payment_status",
    }
)
"""Tools whose success the customer must hear about: they changed the tab or its payment."""

_PLAIN: dict[str, str] = {
    "empty": "Sorry, I didn't quite catch that. Could you say it again?",
    "blocked": "I'd rather not answer that one. What else can I get you?",
    "round_limit": (
        "Sorry, I got myself tangled up behind the bar there. "
        "Could you tell me once more what you'd like?"
    ),
    "truncated": "(I ran out of words there, so that answer is cut short.)",
    "closing": "I lost my words for a moment - anything else?",
}


@cache
def load_fallback_words() -> MessageBook:
    """The packaged ``prompts/fallback.yaml`` (never raises; missing entries fall back)."""
    resource = resources.files("maya") / "prompts" / "fallback.yaml"
    try:
        text = resource.read_text(encoding="utf-8")
    except OSError:
        return MessageBook({}, source=str(resource))
    return MessageBook.from_yaml(text, source=str(resource))


def _result(response: Mapping[str, Any]) -> Mapping[str, Any] | None:
    if response.get("status") != "ok":
        return None
    result = response.get("result")
    return result if isinstance(result, Mapping) else None


def _sentence(name: str, result: Mapping[str, Any], book: MessageBook) -> list[str]:
    if name == "order_drink":
        ordered = result.get("ordered")
        line = dict(ordered) if isinstance(ordered, Mapping) else {}
        many = isinstance(line.get("quantity"), int) and line["quantity"] > 1
        key = "done_order_drink_many" if many else "done_order_drink"
        return [book.render(key, line, fallback="Your order is on the tab.")]
    if name in ("set_tip", "remove_tip"):
        key = "done_tip_removed" if result.get("removed") else "done_set_tip"
        return [book.render(key, result, fallback="Your tip is updated.")]
    if name == "create_stripe_payment":
        said = [book.render("done_create_stripe_payment", result, fallback=str(result.get("url")))]
        if result.get("is_simulated"):
            said.append(book.render("done_simulated", result, fallback="No real money will move."))
        return said
    if name == "cancel_last_order":
        cancelled = result.get("cancelled")
        details = {**(dict(cancelled) if isinstance(cancelled, Mapping) else {}), **result}
        return [book.render("done_cancel_last_order", details, fallback="I took that off the tab.")]
    if name == "check_payment_status":
        if result.get("is_simulated") is True:
            return [
                book.render(
                    "done_check_payment_status_simulated",
                    result,
                    fallback="That was a simulated test payment, so no real money moved.",
                )
            ]
        return [book.render("done_check_payment_status", result, fallback="I checked.")]
    return []


def done_sentences(
    calls: Sequence[tuple[str, Mapping[str, Any]]], *, book: MessageBook | None = None
) -> list[str]:
    """What the turn's successful tab-changing tool calls did, one sentence each, in order.

    Args:
        calls: (tool name, tool response) in call order.
        book: the words (default: the packaged ``prompts/fallback.yaml``).
    """
    words = book if book is not None else load_fallback_words()
    said: list[str] = []
    last_totals: Mapping[str, Any] | None = None
    for name, response in calls:
        result = _result(response)
        if result is None or name not in REPORTED_TOOLS:
            continue
        said.extend(_sentence(name, result, words))
        if name in ("order_drink", "cancel_last_order"):
            last_totals = result
    if last_totals is not None and words.has("done_totals"):
        said.append(words.render("done_totals", last_totals, fallback=""))
    return [sentence for sentence in said if sentence]


def fallback_reply(
    outcome: str,
    calls: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    error_words: str | None = None,
    book: MessageBook | None = None,
) -> str:
    """Maya's reply for a turn that ended with ``outcome`` instead of the model's words.

    Args:
        outcome: ``model_error``, ``empty``, ``blocked``, ``round_limit`` or ``truncated``.
        calls: the turn's tool calls, (name, response), in order.
        error_words: what to say for a model error when nothing was done.
        book: the words (default: the packaged ``prompts/fallback.yaml``).
    """
    words = book if book is not None else load_fallback_words()
    done = done_sentences(calls, book=words)
    if done:
        closing = words.render(f"closing_{outcome}", fallback=_PLAIN["closing"])
        return " ".join([*done, closing]).replace(" \n", "\n")
    if outcome == "model_error" and error_words:
        return error_words
    return words.render(outcome, fallback=_PLAIN.get(outcome, _PLAIN["empty"]))


def truncation_note(*, book: MessageBook | None = None) -> str:
    """The line added to an answer that was cut off (finish reason ``MAX_TOKENS``)."""
    words = book if book is not None else load_fallback_words()
    return words.render("truncated", fallback=_PLAIN["truncated"])
