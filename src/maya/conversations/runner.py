"""Playing a conversation against the real agent, tools, tab and payment side.

Only the model is a stand-in (replayed steps or the offline model); a missed expectation,
an overrun or an unused script step raises ``ConversationFailure`` naming the turn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from google.genai import errors as genai_errors
from google.genai import types

from maya.agent.history import history_problems
from maya.agent.loop import Agent, TurnResult
from maya.agent.models.base import calls_response, text_response
from maya.agent.models.offline import OfflineModel
from maya.agent.trace import JsonlTracer
from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.conversations.check import check_turn, state_facts
from maya.conversations.replay import FakeClock, ScriptedModel, ScriptExhaustedError, Step
from maya.conversations.schema import Conversation, ErrorStep, ModelStep, Turn
from maya.payments import StatusBounds, open_payment_side
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.models import STARTING_BALANCE_CENTS, TabState
from maya.tools import Toolset

__all__ = ["ConversationFailure", "ConversationReport", "build_step", "run_conversation"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w]*)((?:\.[\w]+)+)\s*\}\}")
_PAY_TIMEOUT_S = 15.0

STATUS_TIMEOUT_FAULT = "hang_after=0,only=GetCheckoutSessions+stripe_api_read"
"""The sandbox's faults for ``sandbox.status: timeout``: every status read hangs."""

STATUS_TIMEOUT_BOUNDS = StatusBounds(poll_interval_s=0.2, poll_timeout_s=0.5, deadline_s=1.5)
"""Short status bounds for a conversation whose status reads all hang."""


class ConversationFailure(AssertionError):
    """A conversation did not go as its file says."""


@dataclass(frozen=True, slots=True)
class ConversationReport:
    """How a conversation went.

    Attributes:
        results: every turn's result, in order (repeated turns included).
        final_state: the tab at the end.
        trace_path: the trace file.
    """

    results: tuple[TurnResult, ...]
    final_state: TabState
    trace_path: Path | None


def _latest_result(contents: Sequence[types.Content], tool: str) -> dict[str, Any] | None:
    for content in reversed(contents):
        for part in reversed(content.parts or []):
            reply = part.function_response
            if reply is not None and reply.name == tool:
                response = dict(reply.response or {})
                result = response.get("result")
                return result if isinstance(result, dict) else response
    return None


def _fill(text: str, contents: Sequence[types.Content]) -> str:
    def value(match: re.Match[str]) -> str:
        found: Any = _latest_result(contents, match.group(1))
        for key in match.group(2).strip(".").split("."):
            found = found.get(key) if isinstance(found, dict) else None
        return str(found) if found is not None else f"<no {match.group(0)[2:-2].strip()}>"

    return _PLACEHOLDER.sub(value, text)


def _api_error(error: ErrorStep) -> genai_errors.APIError:
    """The error as Gemini sends it: a ``google.rpc.Status`` with its details."""
    details: list[dict[str, Any]] = []
    if error.reason is not None:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": error.reason,
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            }
        )
    if error.retry_delay is not None:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": error.retry_delay}
        )
    body: dict[str, Any] = {
        "error": {"code": error.code, "message": error.message, "status": error.status}
    }
    if details:
        body["error"]["details"] = details
    if error.code >= 500:
        return genai_errors.ServerError(error.code, body)
    return genai_errors.ClientError(error.code, body)


def _wordless(finish: str, parts: list[dict[str, Any]]) -> types.GenerateContentResponse:
    candidate: dict[str, Any] = {"finishReason": finish, "index": 0}
    if parts:
        candidate["content"] = {"role": "model", "parts": parts}
    return types.GenerateContentResponse.model_validate({"candidates": [candidate]})


def build_step(step: ModelStep, *, first_id: int, clock: FakeClock | None = None) -> Step:
    """The scripted-model step for one recorded ``ModelStep``.

    Args:
        step: the recorded step.
        first_id: the number of its first function call's id (``call_{n}``).
        clock: the conversation's clock, moved by ``step.slow_s`` before answering.
    """
    calls = [(call.name, call.args) for call in step.all_calls]
    text = step.text

    def respond(contents: Sequence[types.Content]) -> types.GenerateContentResponse:
        if clock is not None and step.slow_s:
            clock.advance(step.slow_s)
        if step.error is not None:
            raise _api_error(step.error)
        if step.timeout:
            raise TimeoutError("the model did not answer in time")
        if step.empty:
            return _wordless("STOP", [{"text": ""}])
        if step.blocked:
            return _wordless("SAFETY", [])
        said = _fill(text, contents) if text else None
        if calls:
            return calls_response(calls, text=said, start=first_id)
        response = text_response(said or "")
        if step.finish != "STOP" and response.candidates:
            response.candidates[0].finish_reason = types.FinishReason(step.finish)
        return response

    if step.error is not None and not step.slow_s:
        return _api_error(step.error)
    return respond


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _describe_failure(
    conversation: Conversation,
    source: str,
    index: int,
    turn: Turn,
    problems: Sequence[str],
    result: TurnResult | None,
    after: TabState | None,
    trace: Path | None,
) -> str:
    lines = [
        f"conversation {conversation.name!r} ({source}) failed at turn {index}",
        f"  customer: {turn.user}",
        "  expected:",
        f"    {_show(turn.expect.model_dump(exclude_defaults=True))}",
        "  problems:",
        *(f"    - {problem}" for problem in problems),
    ]
    if result is not None:
        lines.append("  what happened:")
        for call in result.tool_calls:
            lines.append(f"    tool {call.name}({_show(call.args)}) -> {_show(call.response)}")
        lines.append(f"    reply ({result.outcome}): {result.reply!r}")
    if after is not None:
        facts = state_facts(after)
        keys = ("balance_cents", "tab_cents", "tip_percent", "total_due_cents", "payment_status")
        lines.append(f"    state: {_show({k: facts[k] for k in keys})}")
    lines.append(f"  trace: {trace if trace is not None else '(none)'}")
    return "\n".join(lines)


async def _prepare(manager: TabManager, conversation: Conversation) -> None:
    session = conversation.session_id
    for order in conversation.initial.orders:
        await manager.order(session, order.name, order.quantity, order.modifiers)
    if conversation.initial.tip is not None:
        await manager.set_tip(session, conversation.initial.tip, toggle=False)


async def _pay(manager: TabManager, session: str, card: str) -> tuple[str, str]:
    from maya.sandbox.remote import apay_url  # the checkout page, over real HTTP

    state = await manager.get(session)
    current = state.current_payment
    if current is None or current.url is None:
        return "not_found", "there is no payment link to pay"
    with anyio.fail_after(_PAY_TIMEOUT_S):
        paid = await apay_url(current.url, card)
    return paid.outcome, paid.message


async def run_conversation(
    conversation: Conversation,
    *,
    workdir: Path,
    source: str = "<conversation>",
) -> ConversationReport:
    """Play ``conversation`` against the real agent and check every turn.

    Args:
        conversation: the validated file.
        workdir: a private folder for the sandbox's database and the trace.
        source: the file's path, for messages.

    Raises:
        ConversationFailure: a turn missed its expectations, or the script did not fit.
    """
    session = conversation.session_id
    balance = conversation.initial.balance
    manager = TabManager(
        MemoryTabStore(),
        starting_balance_cents=STARTING_BALANCE_CENTS if balance is None else balance,
        catalog=load_menu(),
    )
    await _prepare(manager, conversation)
    tracer = JsonlTracer(workdir / "traces")
    trace_path = tracer.path_for(session)
    scripted = ScriptedModel(name="replay") if conversation.model == "scripted" else None
    model = scripted if scripted is not None else OfflineModel()
    results: list[TurnResult] = []
    next_id = 1
    status_timeout = conversation.sandbox.status == "timeout"
    faults = [conversation.sandbox.faults, STATUS_TIMEOUT_FAULT if status_timeout else None]
    async with open_payment_side(
        conversation.sandbox.mode,
        workdir=workdir,
        faults=",".join(spec for spec in faults if spec) or None,
        bounds=STATUS_TIMEOUT_BOUNDS if status_timeout else None,
    ) as payments:
        toolset = Toolset(manager=manager, payments=payments, messages=bar_messages())
        # Time is fake: a retry's wait is recorded, not waited.
        clock = FakeClock()
        agent = Agent(
            model=model,
            toolset=toolset,
            manager=manager,
            tracer=tracer,
            clock=clock,
            sleep=clock.sleep,
        )
        try:
            index = 0
            for turn in conversation.turns:
                for _ in range(turn.repeat):
                    index += 1
                    problems: list[str] = []
                    if turn.pay is not None:
                        outcome, message = await _pay(manager, session, turn.pay.card)
                        if turn.pay.outcome is not None and outcome != turn.pay.outcome:
                            problems.append(
                                f"paying at the checkout: expected {turn.pay.outcome!r}, "
                                f"got {outcome!r} ({message})"
                            )
                    if scripted is not None:
                        for step in turn.model:
                            scripted.extend([build_step(step, first_id=next_id, clock=clock)])
                            next_id += max(1, len(step.all_calls))
                    before = await manager.get(session)
                    requests_before = len(scripted.requests) if scripted is not None else 0
                    try:
                        result = await agent.respond(session, turn.user)
                    except ScriptExhaustedError as exc:
                        problems.append(f"the agent asked for more model responses: {exc}")
                        raise ConversationFailure(
                            _describe_failure(
                                conversation, source, index, turn, problems, None, None, trace_path
                            )
                        ) from exc
                    after = await manager.get(session)
                    results.append(result)
                    problems += check_turn(turn.expect, result, before=before, after=after)
                    if scripted is not None:
                        for request in scripted.requests[requests_before:]:
                            problems += [
                                f"the model was sent an invalid history: {problem}"
                                for problem in history_problems(request.contents)
                            ]
                    if scripted is not None and scripted.remaining:
                        problems.append(
                            f"{scripted.remaining} scripted model step(s) of this turn were "
                            "never used"
                        )
                    if problems:
                        raise ConversationFailure(
                            _describe_failure(
                                conversation, source, index, turn, problems, result, after,
                                trace_path,
                            )
                        )  # fmt: skip
        finally:
            agent.close()
    if scripted is not None:
        scripted.assert_complete()
    return ConversationReport(
        results=tuple(results),
        final_state=await manager.get(session),
        trace_path=trace_path if trace_path.exists() else None,
    )
