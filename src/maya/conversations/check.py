"""Checking a turn against its expectations: tool calls, tool results, state and reply.

Every check returns the problems it found (empty when all is well), for a person to read.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from maya.agent.loop import TurnResult
from maya.conversations.schema import Expectations, ToolCallExpectation
from maya.state.models import TabState
from maya.tools import ToolCallRecord

__all__ = ["check_turn", "is_subset", "state_facts"]


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def is_subset(expected: Any, actual: Any) -> bool:
    """True when ``actual`` has everything ``expected`` has.

    Mappings match key by key (extra keys in ``actual`` are fine); lists must have the
    same length and match element by element; anything else must be equal.
    """
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and is_subset(value, actual[key]) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list | tuple)
            and len(expected) == len(actual)
            and all(is_subset(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


def state_facts(state: TabState) -> dict[str, Any]:
    """The tab as the ``state`` expectation sees it: every field plus a few conveniences.

    Added keys: ``item_count``, ``payments_count``, ``payment_url`` and
    ``payment_is_simulated`` (of the current payment).
    """
    facts = state.model_dump(mode="json")
    current = state.current_payment
    facts["item_count"] = len(state.items)
    facts["payments_count"] = len(state.payments)
    facts["payment_url"] = current.url if current is not None else None
    facts["payment_is_simulated"] = current.is_simulated if current is not None else None
    return facts


def _call_matches(expected: ToolCallExpectation, actual: ToolCallRecord) -> bool:
    return expected.name == actual.name and (expected.args is None or expected.args == actual.args)


def _check_calls(expect: Expectations, calls: Sequence[ToolCallRecord]) -> list[str]:
    if expect.tool_calls is None:
        return []
    wanted = expect.tool_calls
    shown = _show([{"name": w.name, "args": w.args} for w in wanted])
    made = _show([{"name": c.name, "args": c.args} for c in calls])
    if expect.tool_calls_match == "exact":
        ok = len(wanted) == len(calls) and all(
            _call_matches(w, c) for w, c in zip(wanted, calls, strict=True)
        )
    elif expect.tool_calls_match == "in_order":
        position = 0
        for call in calls:
            if position < len(wanted) and _call_matches(wanted[position], call):
                position += 1
        ok = position == len(wanted)
    else:
        left = list(calls)
        ok = True
        for want in wanted:
            match = next((c for c in left if _call_matches(want, c)), None)
            if match is None:
                ok = False
                break
            left.remove(match)
    if ok:
        return []
    return [f"tool calls ({expect.tool_calls_match}): expected {shown}, made {made}"]


def _check_results(expect: Expectations, calls: Sequence[ToolCallRecord]) -> list[str]:
    problems: list[str] = []
    used: set[int] = set()
    for want in expect.tool_results:
        candidates = [(i, c) for i, c in enumerate(calls) if c.name == want.name and i not in used]
        if not candidates:
            problems.append(f"tool result of {want.name}: no (further) call to {want.name}")
            continue
        index, call = candidates[0]
        used.add(index)
        status = call.response.get("status")
        if want.status is not None and status != want.status:
            problems.append(
                f"tool result of {want.name}: status {status!r}, expected {want.status!r} "
                f"({_show(call.response)})"
            )
        if want.error is not None and call.response.get("error") != want.error:
            problems.append(
                f"tool result of {want.name}: error {call.response.get('error')!r}, "
                f"expected {want.error!r}"
            )
        if want.result and not is_subset(want.result, call.result):
            problems.append(
                f"tool result of {want.name}: expected a subset {_show(want.result)}, "
                f"got {_show(call.result)}"
            )
    return problems


def check_turn(
    expect: Expectations,
    result: TurnResult,
    *,
    before: TabState,
    after: TabState,
) -> list[str]:
    """Every way ``result`` and the tab after it miss ``expect``."""
    problems = _check_calls(expect, result.tool_calls)
    problems += _check_results(expect, result.tool_calls)
    facts = state_facts(after)
    for key, value in expect.state.items():
        if key not in facts:
            problems.append(f"state: no such field {key!r} (have {', '.join(sorted(facts))})")
        elif not is_subset(value, facts[key]):
            problems.append(f"state.{key}: expected {_show(value)}, got {_show(facts[key])}")
    if expect.state_unchanged and before != after:
        changed = sorted(
            key
            for key, value in state_facts(after).items()
            if state_facts(before).get(key) != value
        )
        problems.append(f"state should be unchanged, but changed: {', '.join(changed)}")
    for text in expect.reply_contains:
        if text not in result.reply:
            problems.append(f"reply should contain {text!r}")
    for text in expect.reply_not_contains:
        if text in result.reply:
            problems.append(f"reply should not contain {text!r}")
    if expect.reply_contains_payment_link:
        url = after.current_payment.url if after.current_payment is not None else None
        if not url or url not in result.reply:
            problems.append(f"reply should give the payment link exactly: {url!r}")
    if expect.outcome is not None and result.outcome != expect.outcome:
        problems.append(f"outcome: expected {expect.outcome!r}, got {result.outcome!r}")
    return problems
