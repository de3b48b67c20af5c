"""The words tools answer in, for each error code and payment outcome.

``DEFAULT_MESSAGES`` are neutral (no business, no persona). An application overlays its
voice with a file or mapping naming only the keys it changes; an unknown key is refused.
A template that cannot be filled falls back to the next, then the default, then plain text.
"""

from __future__ import annotations

import logging
import string
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from maya.codes import ErrorCode

__all__ = [
    "DEFAULT_MESSAGES",
    "FALLBACK_SENTENCE",
    "MessageBook",
    "MessagesError",
    "load_messages",
]

_log = logging.getLogger("maya.messages")

FALLBACK_SENTENCE = "Sorry, I couldn't do that just now."
"""What is said when no template (and no better fallback) is available."""

DEFAULT_MESSAGES: dict[str, tuple[str, ...]] = {
    # The tab
    "INSUFFICIENT_FUNDS": (
        "{quantity} x {item} comes to {price}, but only {balance} is left on the balance.",
        "That's more than what's left on the balance.",
    ),
    "UNKNOWN_ITEM": (
        "{item} isn't something we sell. Did you mean {suggestions}?",
        "{item} isn't something we sell.",
        "That isn't something we sell.",
    ),
    "INVALID_QUANTITY": (
        "One order can be for 1 to {max} of an item.",
        "That quantity isn't possible.",
    ),
    "INVALID_MODIFIER": (
        "For {item} it's {choices}: please pick one.",
        "{item} can't be made {modifier}. Options: {allowed}.",
        "{item} comes as it is, without options.",
        "That option isn't available.",
    ),
    "INVALID_TIP_PERCENTAGE": ("A tip can be {allowed} percent.", "That tip isn't possible."),
    "INVALID_SESSION_ID": ("This session can't be found. Please start a new one.",),
    "NOTHING_TO_PAY": (
        "The bill is {tab}, so there's nothing to pay yet.",
        "There's nothing to pay yet.",
    ),
    "BILL_NOT_PAYABLE": (
        "{quantity} x {item} would make the bill {tab}: one card payment can take at most"
        " {max}, so it is not added.",
        "{quantity} x {item} is not added: card payments here go in steps of {step}.",
        "A bill of {total} can't be paid in one card payment (at most {max}).",
        "A bill of {total} can't be charged by card: payments here go in steps of {step}.",
        "That bill can't be paid by card.",
    ),
    "PAYMENT_NOT_FOUND": ("That payment isn't on this bill. A new payment link can be made.",),
    "PAYMENT_SUPERSEDED": (
        "The bill changed while the link was being made, so that link is void. Ask again.",
    ),
    "CONCURRENT_UPDATE": ("The bill was busy for a moment. Please try again.",),
    # An item that was not added names itself: others of the same request may be on the bill.
    "STORE_BUSY": (
        "{quantity} x {item} is not on the bill: it was busy with another change. "
        "Please ask for it again in a moment.",
        "The bill is busy with another change. Please try again in a moment.",
    ),
    "STORE_UNAVAILABLE": (
        "{quantity} x {item} is not on the bill: the bill can't be reached right now.",
        "The bill can't be reached right now, so nothing has changed.",
    ),
    "NOTHING_TO_CANCEL": ("There's nothing on the bill to cancel.",),
    "PAYMENT_PENDING": (
        "{item} is already on the payment link for {amount}, so it can't be taken off now.",
        "That item is already on a payment link, so it can't be taken off now.",
    ),
    # Payments
    "STRIPE_UNAVAILABLE": (
        "Card payment isn't available right now, so payment will have to go another way.",
    ),
    "PAYMENT_LINK_FAILED": (
        "A payment link couldn't be made just now. Please try again in a moment.",
    ),
    "PAYMENT_STATUS_TIMEOUT": (
        "The payment hasn't come through yet. Please check again in a moment.",
    ),
    "PAYMENT_DECLINED": (
        "The card was declined ({reason}). Another card can be used on the same link.",
        "The card was declined. Another card can be used on the same link.",
    ),
    "PAYMENT_STATUS_UNSUPPORTED": (
        "Payments can't be checked from here. Please keep the receipt.",
    ),
    "LIVE_MODE_REFUSED": ("Only test payments are taken here, so no real card can be charged.",),
    "PAYMENT_CURRENCY_MISMATCH": (
        "That payment was made in another currency than the bill's, so it was not applied.",
    ),
    # The tool surface
    "UNKNOWN_TOOL": (
        "{tool} is not one of the tools here.",
        "That is not one of the tools here.",
    ),
    "INVALID_ARGUMENTS": (
        "The request didn't fit the tool ({problems}).",
        "The request didn't fit the tool.",
    ),
    "TOO_MANY_TOOL_CALLS": (
        "That answer asked for {calls} tool calls and at most {max} run per answer, so none "
        "of them ran and nothing changed. Ask again with at most {max} calls.",
        "That was too many actions in one go. Nothing was done: please ask again with fewer.",
    ),
    "INTERNAL_ERROR": ("Something went wrong; nothing has changed. Please try again.",),
    # Payment outcomes (not errors)
    "payment_link_ready": ("Here's the payment link for {amount}: {url}",),
    "payment_succeeded": ("The payment of {amount} went through.", "The payment went through."),
    "payment_already_settled": ("That payment was already applied.",),
    "payment_confirmed_by_webhook": (
        "The payment of {amount} was confirmed by Stripe.",
        "The payment was confirmed by Stripe.",
    ),
    "payment_pending": ("The payment hasn't come through yet. Pay at the link, then check again.",),
    "payment_link_replaces_simulated": (
        "Card payment is back: here's a real payment link for {amount}, in place of the "
        "simulated one: {url}",
    ),
    "payment_link_ready_simulated": (
        "This is a simulated test payment link for {amount}: {url} "
        "No card is charged and no money moves.",
    ),
    "payment_simulated_succeeded": (
        "That was a simulated test payment of {amount}: no money moved and no card was charged.",
        "That was a simulated test payment: no money moved and no card was charged.",
    ),
    "payment_already_settled_simulated": (
        "That simulated test payment was already marked as settled: no money moved.",
    ),
    "payment_overpaid": (
        "That link was paid more than once: {overpaid} extra came in "
        "and is recorded as a credit to refund.",
        "That link was paid more than once; the extra is recorded as a credit to refund.",
    ),
    # Money in = money recorded: a short payment leaves the rest due; money beyond what
    # was owed (a superseded link paid too) is credit to refund.
    "payment_paid_short": ("It came in {shortfall} short, so {shortfall} is still due.",),
    "payment_credit_to_refund": (
        "{credit} more than was owed came in: it is recorded as credit to refund.",
    ),
    "payment_link_open_not_owed": (
        "An older payment link for {amount} is still open, but nothing is owed on it: please "
        "don't pay it. Anything paid there is credit to refund.",
    ),
    # Too many requests in a short time ({wait}: how long to wait)
    "chat_rate_limited": (
        "That's a lot of requests in a short time. Please wait {wait} and try again.",
        "That's a lot of requests in a short time. Please wait a moment and try again.",
    ),
    # The product name at checkout ({merchant}, {count} items, {tip_percent})
    "payment_product": (
        "{merchant}: {count} items + {tip_percent}% tip",
        "{merchant}: {count} items",
    ),
    "payment_product_one": ("{merchant}: 1 item + {tip_percent}% tip", "{merchant}: 1 item"),
    # Trouble reaching the model (maya.errors)
    "genai_bad_request": ("The request to the model was refused. Please say that again.",),
    "genai_auth": ("The model can't be used: its credentials are not authorised.",),
    "genai_model_not_found": ("The configured model can't be found.",),
    "genai_rate_limit": (
        "The model asks to wait {wait}. Please try again then.",
        "The model is busy. Please try again shortly.",
    ),
    "genai_server": ("The model is slow right now. Please try again in a moment.",),
    "genai_api_key_invalid": ("The model's API key isn't valid.",),
    "genai_permission_denied": ("The model refused access.",),
    "genai_unsupported_location": ("The model isn't available from this location.",),
    "genai_quota_exhausted": ("The model's quota is used up for today.",),
    "genai_timeout": ("The model took too long to answer. Please try again in a moment.",),
    "genai_connection": ("The model can't be reached over the network right now.",),
    "genai_unknown": ("Something went wrong reaching the model. Please try again.",),
}
"""The plugin's own words: neutral, naming no business and no persona. Every key an
application's messages may override is here."""


class MessagesError(ValueError):
    """A messages override names a key the plugin does not have."""


_FORMATTER = string.Formatter()


def _placeholders(template: str) -> tuple[str, ...] | None:
    """The names a template uses, or None if it is malformed or reaches into a value."""
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:
        return None
    names: list[str] = []
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            return None
        names.append(field)
    return tuple(names)


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class MessageBook:
    """Templates keyed by error code (or a lowercase notice name)."""

    def __init__(self, templates: Mapping[str, tuple[str, ...]], *, source: str = "") -> None:
        """Wrap already-parsed templates.

        Args:
            templates: for each key, its sentences, most specific first.
            source: where they came from, for warnings.
        """
        self._templates = {key: tuple(values) for key, values in templates.items()}
        self._source = source

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "") -> MessageBook:
        """Parse the YAML text of a messages file; unusable entries are left out.

        Never raises: a broken document yields an empty book (everything falls back).
        """
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            _log.warning("messages file %s is not valid YAML: %s", source or "<text>", exc)
            return cls({}, source=source)
        if not isinstance(data, dict):
            _log.warning("messages file %s is not a mapping", source or "<text>")
            return cls({}, source=source)
        return cls(cls._entries(data, source), source=source)

    @staticmethod
    def _entries(data: Mapping[Any, Any], source: str) -> dict[str, tuple[str, ...]]:
        """The usable templates of a parsed mapping; unusable entries are left out (logged)."""
        templates: dict[str, tuple[str, ...]] = {}
        for key, value in data.items():
            entries = [value] if isinstance(value, str) else value
            if not isinstance(entries, list | tuple):
                _log.warning("message %s in %s is neither text nor a list", key, source)
                continue
            good = tuple(e for e in entries if isinstance(e, str) and _placeholders(e) is not None)
            if len(good) != len(entries):
                _log.warning("message %s in %s has a malformed template", key, source)
            if good:
                templates[str(key)] = good
        return templates

    def has(self, key: ErrorCode | str) -> bool:
        """True if ``key`` has at least one usable template."""
        return str(key) in self._templates

    def render(
        self,
        key: ErrorCode | str,
        details: Mapping[str, Any] | None = None,
        *,
        fallback: str | None = None,
    ) -> str:
        """Maya's sentence for ``key``, filled from ``details``.

        The first template whose placeholders all have a non-empty value is used; if
        none fits, ``fallback`` (or ``FALLBACK_SENTENCE``) is returned.
        """
        values = {
            name: _text(value)
            for name, value in (details or {}).items()
            if value is not None and _text(value) != ""
        }
        for template in self._templates.get(str(key), ()):
            names = _placeholders(template) or ()
            if all(name in values for name in names):
                return template.format_map({name: values[name] for name in names})
        if str(key) in self._templates:
            _log.warning("no template for %s fits the details %s", key, sorted(values))
        return fallback or FALLBACK_SENTENCE


def _parsed(mapping: Mapping[str, Any], source: str) -> dict[str, tuple[str, ...]]:
    unknown = sorted(str(key) for key in mapping if str(key) not in DEFAULT_MESSAGES)
    if unknown:
        raise MessagesError(
            f"{source or 'messages'}: unknown message key(s) {', '.join(unknown)}; "
            "the keys are maya.messages.DEFAULT_MESSAGES'"
        )
    return MessageBook._entries(mapping, source)


def load_messages(
    path: Path | None = None, *, overrides: Mapping[str, str | Sequence[str]] | None = None
) -> MessageBook:
    """The neutral default words, with a messages file's and then ``overrides``' on top.

    A file or mapping names only the keys it changes; every other key keeps its default.

    Args:
        path: a YAML file mapping keys to a sentence or a list of them.
        overrides: the same as a mapping, applied after the file.

    Raises:
        MessagesError: the file cannot be read or is not a mapping, or a key is not one
            of ``DEFAULT_MESSAGES`` (the message names it).
    """
    templates = dict(DEFAULT_MESSAGES)
    source = "defaults"
    if path is not None:
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise MessagesError(f"cannot read messages file {path}: {exc}") from exc
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise MessagesError(f"messages file {path} is not a mapping of keys to sentences")
        templates.update(_parsed(data, str(path)))
        source = str(path)
    if overrides is not None:
        templates.update(_parsed(overrides, "overrides"))
    return MessageBook(templates, source=source)
