"""The chat loop: one customer message in, Maya's reply out, tools in between.

The loop runs the tools itself (``Toolset.record``), bounded by tool rounds, calls per
answer and one time budget per turn; a failing model becomes a reply in Maya's voice.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

import anyio
from google.genai import types

from maya.agent.fallback import fallback_reply, truncation_note
from maya.agent.history import ConversationHistory
from maya.agent.model_errors import (
    DEFAULT_TURN_BUDGET_S,
    MODEL_ERRORS,
    MODEL_RETRY_POLICY,
    GenAIErrorCategory,
    ModelFailure,
    RetryPolicy,
    describe_model_error,
)
from maya.agent.models.base import (
    Model,
    answer_part,
    content_of,
    function_calls_of,
    response_content,
    text_of,
    text_part,
)
from maya.agent.prompt import PromptView, load_system_instruction, prompt_view
from maya.agent.streaming import (
    StreamingModel,
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnListener,
)
from maya.agent.trace import NullTracer, Tracer
from maya.codes import ErrorCode
from maya.messages import MessageBook, load_messages
from maya.state.manager import TabManager
from maya.state.models import TabState
from maya.tools.results import error_result
from maya.tools.toolset import ToolCallRecord, Toolset

__all__ = [
    "DEFAULT_MAX_TOOL_CALLS",
    "DEFAULT_MAX_TOOL_ROUNDS",
    "DEFAULT_TURN_BUDGET_S",
    "EMPTY_REPLY",
    "MODEL_ERRORS",
    "ROUND_LIMIT_REPLY",
    "Agent",
    "RetryPolicy",
    "ToolCallRecord",
    "TurnOutcome",
    "TurnResult",
]

DEFAULT_MAX_TOOL_ROUNDS = 6
"""Rounds of tool calls one customer message may cause before Maya stops and says so."""

DEFAULT_MAX_TOOL_CALLS = 10
"""Tool calls one model answer may ask for; past it none of them runs."""

ROUND_LIMIT_REPLY = fallback_reply("round_limit", [])
"""Maya's words when the model keeps calling tools past the round limit (nothing done)."""

EMPTY_REPLY = fallback_reply("empty", [])
"""Maya's words when the model answers with nothing at all (and no tool changed the tab)."""


TurnOutcome = Literal["ok", "model_error", "round_limit", "empty", "blocked", "truncated"]

_log = logging.getLogger("maya.agent")

_BLOCKED = frozenset(
    {
        types.FinishReason.SAFETY,
        types.FinishReason.RECITATION,
        types.FinishReason.BLOCKLIST,
        types.FinishReason.PROHIBITED_CONTENT,
        types.FinishReason.SPII,
        types.FinishReason.IMAGE_SAFETY,
    }
)
"""Finish reasons that mean the answer was withheld, not merely empty."""


_PART_FIELDS = tuple(name for name in types.Part.model_fields if name not in ("text", "thought"))


def _is_empty_part(part: types.Part) -> bool:
    """A part carrying nothing (``{}`` or ``{"text": ""}``): Gemini refuses these in history.

    Read field by field: dumping the part to find out was a twentieth of a chat turn.
    """
    if part.text:
        return False
    return all(getattr(part, name) is None for name in _PART_FIELDS)


def _cleaned(content: types.Content | None) -> types.Content | None:
    """``content`` without empty parts; None when nothing is left."""
    if content is None or not content.parts:
        return None
    parts = [part for part in content.parts if not _is_empty_part(part)]
    if not parts:
        return None
    if len(parts) == len(content.parts):
        return content
    return content.model_copy(update={"parts": parts})


@dataclass(frozen=True, slots=True)
class _Answer:
    """One model step: its content (None when empty) and how it ended."""

    content: types.Content | None
    blocked: bool = False
    truncated: bool = False
    streamed: bool = False


def _answer_of(response: types.GenerateContentResponse) -> _Answer:
    feedback = response.prompt_feedback
    if feedback is not None and feedback.block_reason is not None:
        return _Answer(None, blocked=True)
    candidate = response.candidates[0] if response.candidates else None
    reason = candidate.finish_reason if candidate is not None else None
    content = _cleaned(response_content(response))
    return _Answer(
        content,
        blocked=reason in _BLOCKED,
        truncated=reason == types.FinishReason.MAX_TOKENS,
    )


@dataclass(frozen=True, slots=True)
class TurnResult:
    """What one customer message led to.

    Attributes:
        session_id: the session.
        turn: the turn's number in the session's conversation (1-based; it starts again
            when the conversation was forgotten after its idle time).
        message: what the customer said.
        reply: what Maya answered.
        outcome: ``ok``, ``model_error``, ``round_limit`` or ``empty``.
        tool_calls: the tool calls, in order.
        model_calls: how many times the model was called.
        error: the model failure, when ``outcome`` is ``model_error``.
        ms: the whole turn's duration.
    """

    session_id: str
    turn: int
    message: str
    reply: str
    outcome: TurnOutcome
    tool_calls: tuple[ToolCallRecord, ...] = ()
    model_calls: int = 0
    error: ModelFailure | None = None
    ms: float = 0.0

    def calls_named(self, name: str) -> list[ToolCallRecord]:
        """The tool calls to ``name``."""
        return [call for call in self.tool_calls if call.name == name]


_COLLECTIONS = {"items": "seq", "payments": "idempotency_key"}
"""Tab fields that are lists, and the key identifying their elements."""


@dataclass(slots=True)
class _Turn:
    session_id: str
    number: int
    past: list[types.Content] = field(default_factory=list)
    contents: list[types.Content] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    calls: list[ToolCallRecord] = field(default_factory=list)
    model_calls: int = 0
    deadline: float = 0.0
    on_event: TurnListener | None = None
    said_words: bool = False


def _part_for_trace(part: types.Part) -> dict[str, Any]:
    return part.model_dump(mode="json", exclude_none=True)


def _keyed(values: Any, key: str) -> dict[Any, Any]:
    return (
        {v.get(key): v for v in values if isinstance(v, dict)} if isinstance(values, list) else {}
    )


def _state_patch(before: TabState | None, after: TabState) -> dict[str, Any]:
    """What changed: ``[old, new]`` per field; for items and payments, only those that did."""
    old = before.model_dump(mode="json") if before is not None else {}
    new = after.model_dump(mode="json")
    patch: dict[str, Any] = {}
    for field_name, value in new.items():
        previous = old.get(field_name)
        if previous == value:
            continue
        if field_name in _COLLECTIONS:
            key = _COLLECTIONS[field_name]
            was, now = _keyed(previous or [], key), _keyed(value, key)
            patch[field_name] = {
                "added": [v for k, v in now.items() if k not in was],
                "changed": [v for k, v in now.items() if k in was and was[k] != v],
                "removed": [v for k, v in was.items() if k not in now],
            }
        else:
            patch[field_name] = [previous, value]
    return patch


class Agent:
    """Maya: a model, a toolset and each session's conversation, turn by turn."""

    def __init__(
        self,
        *,
        model: Model,
        toolset: Toolset,
        system_instruction: str | None = None,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        history: ConversationHistory | None = None,
        tracer: Tracer | None = None,
        manager: TabManager | None = None,
        on_model_error: Callable[[BaseException], ModelFailure] = describe_model_error,
        clock: Callable[[], float] = time.perf_counter,
        turn_budget_s: float = DEFAULT_TURN_BUDGET_S,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        max_tool_calls: int = DEFAULT_MAX_TOOL_CALLS,
        messages: MessageBook | None = None,
    ) -> None:
        """Create an agent.

        Args:
            model: who answers (Gemini, offline or scripted).
            toolset: runs the function calls.
            system_instruction: Maya's instructions (default: ``prompts/maya.md``).
            max_tool_rounds: tool rounds per customer message (at least 1).
            history: where conversations are kept (default: beside ``manager``'s tabs,
                so any process on that store serves any turn; in memory without one).
            tracer: where trace events go (default: nowhere).
            manager: the tab manager whose changes are traced as ``state_change``.
            on_model_error: turns a model failure into Maya's words (and logs it).
            clock: a monotonic clock in seconds, for durations and the turn's budget.
            turn_budget_s: the most one customer message may take, retries included.
            retry: when to call the model again after a retryable failure.
            sleep: how to wait between attempts (tests pass a fake clock's sleep).
            max_tool_calls: tool calls one model answer may ask for (at least 1).
            messages: the words for a refused batch (default: ``prompts/messages.yaml``).
        """
        self.model = model
        self.toolset = toolset
        self.system_instruction = (
            system_instruction if system_instruction is not None else load_system_instruction()
        )
        self.max_tool_rounds = max(1, max_tool_rounds)
        self.max_tool_calls = max(1, max_tool_calls)
        self._messages = messages if messages is not None else load_messages()
        if history is None:
            history = (
                ConversationHistory.of(manager.store)
                if manager is not None
                else ConversationHistory()
            )
        self.history = history
        self.tracer: Tracer = tracer if tracer is not None else NullTracer()
        self.turn_budget_s = turn_budget_s if turn_budget_s > 0 else DEFAULT_TURN_BUDGET_S
        self.retry = retry if retry is not None else MODEL_RETRY_POLICY
        self._on_model_error = on_model_error
        self._clock = clock
        self._sleep = sleep
        self._tools = [toolset.genai_tool()]
        self._prompt = prompt_view(self.system_instruction, self._tools)
        self._turns: dict[str, int] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._streaming: tuple[Model, bool] | None = None
        # A tracer that keeps nothing is not handed what it would drop: the state's
        # patches, the parts and results dumped for it (a tenth of a turn's CPU).
        self._tracing = not isinstance(self.tracer, NullTracer)
        if manager is not None and self._tracing:
            self._unsubscribe = manager.add_listener(self._on_state_change)

    def _streams(self, model: Model) -> TypeGuard[StreamingModel]:
        """Whether ``model`` streams, asked of each model once: a protocol ``isinstance``
        walks the protocol's members every time."""
        known = self._streaming
        if known is None or known[0] is not model:
            known = self._streaming = (model, isinstance(model, StreamingModel))
        return known[1]

    @property
    def prompt(self) -> PromptView:
        """Exactly what the model is sent before the conversation."""
        return self._prompt

    @property
    def tools(self) -> list[types.Tool]:
        """The tool declarations sent on every call."""
        return list(self._tools)

    def close(self) -> None:
        """Stop listening to the tab manager. Idempotent."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_state_change(self, operation: str, before: TabState | None, after: TabState) -> None:
        session = after.session_id
        self.tracer.emit(
            "state_change",
            session,
            self._turns.get(session, 0),
            operation=operation,
            version=[None if before is None else before.version, after.version],
            patch=_state_patch(before, after),
        )

    async def respond(
        self, session_id: str, message: str, *, on_event: TurnListener | None = None
    ) -> TurnResult:
        """Answer one customer message.

        Args:
            session_id: the customer's session.
            message: what the customer said.
            on_event: awaited with each piece of Maya's words and around each tool call,
                as they happen (see ``maya.agent.streaming``); the result's ``reply``
                remains what Maya said in the end.

        Raises:
            Exception: only bugs and a scripted model's exhaustion; model failures
                become the reply.
        """
        started = self._clock()
        # The conversation so far, from the store: whichever process served the last turn.
        past, count = await self.history.load(session_id)
        number = count + 1
        self._turns[session_id] = number
        turn = _Turn(
            session_id=session_id,
            number=number,
            past=past,
            deadline=started + self.turn_budget_s,
            on_event=on_event,
        )
        if self.tracer.wants_prompt(session_id, self._prompt.sha256):
            self.tracer.emit(
                "prompt",
                session_id,
                number,
                hash=self._prompt.sha256,
                model=self.model.name,
                system_instruction=self._prompt.system_instruction,
                tools=self._prompt.tools,
                chars=self._prompt.chars,
                estimated_tokens=self._prompt.estimated_tokens,
            )
        self.tracer.emit("turn_start", session_id, number, message=message)
        turn.contents.append(content_of("user", [text_part(message)]))
        outcome, failure = await self._run_rounds(turn)
        reply = "\n\n".join(text for text in turn.texts if text)
        calls = [(call.name, call.response) for call in turn.calls]
        if outcome == "ok" and not reply:
            outcome = "empty"
        if outcome == "truncated" and reply:
            reply = f"{reply}\n\n{truncation_note()}"
        elif outcome != "ok":
            error_words = failure.user_message if failure is not None else None
            last = turn.calls[-1].response if turn.calls else None
            if (
                failure is not None
                and failure.category is GenAIErrorCategory.TIMEOUT
                and last is not None
                and last.get("status") == "error"
                and isinstance(last.get("message"), str)
            ):
                # The turn's time went to that tool (a store waiting out a lock), not to
                # the model, which never saw its answer: its own words say what happened.
                error_words = last["message"]
            reply = fallback_reply(outcome, calls, error_words=error_words)
            self._end_with_words(turn, reply)
        await self.history.append_turn(session_id, turn.contents)
        ms = (self._clock() - started) * 1000
        self.tracer.emit(
            "turn_end",
            session_id,
            number,
            reply=reply,
            outcome=outcome,
            model_calls=turn.model_calls,
            tool_calls=len(turn.calls),
            error=None if failure is None else failure.category,
            ms=round(ms, 3),
        )
        return TurnResult(
            session_id=session_id,
            turn=number,
            message=message,
            reply=reply,
            outcome=outcome,
            tool_calls=tuple(turn.calls),
            model_calls=turn.model_calls,
            error=failure,
            ms=ms,
        )

    @staticmethod
    def _end_with_words(turn: _Turn, reply: str) -> None:
        """Close the turn with the words the customer heard, as one model turn.

        A last model turn without calls (thoughts only, say) gives way to these words, so
        two model turns never follow each other.
        """
        if turn.contents and turn.contents[-1].role == "model":
            last = turn.contents.pop()
            if function_calls_of(last):  # pragma: no cover - calls are always answered
                turn.contents.append(last)
        turn.contents.append(content_of("model", [text_part(reply)]))

    async def _run_rounds(self, turn: _Turn) -> tuple[TurnOutcome, ModelFailure | None]:
        past = turn.past
        rounds = 0
        while True:
            answer, failure = await self._call_model(turn, [*past, *turn.contents], rounds)
            if failure is not None:
                return "model_error", failure
            content = answer.content if answer is not None else None
            if answer is None or content is None:
                return ("blocked" if answer is not None and answer.blocked else "empty"), None
            calls = function_calls_of(content)
            if calls and rounds >= self.max_tool_rounds:
                # The calls go unanswered, so they are not kept: Gemini refuses a call
                # without its response on the next turn.
                return "round_limit", None
            text = text_of(content)
            if not calls and not text:
                # Thoughts without words: nothing to keep or say.
                return ("blocked" if answer.blocked else "empty"), None
            turn.contents.append(content)
            turn.texts.append(text)
            if turn.on_event is not None and text and not answer.streamed:
                await self._say(turn, [text])
            if not calls:
                if answer.blocked:
                    return "blocked", None
                return ("truncated" if answer.truncated else "ok"), None
            rounds += 1
            if len(calls) > self.max_tool_calls:
                parts = self._refuse_batch(turn, calls)
            else:
                parts = await self._dispatch(turn, calls)
            turn.contents.append(content_of("user", parts))

    @staticmethod
    async def _say(turn: _Turn, pieces: Sequence[str]) -> None:
        """Pass one answer's words on, separated from the last answer's as the reply is."""
        listener = turn.on_event
        if listener is None or not pieces:
            return
        if turn.said_words:
            await listener(TextDelta("\n\n"))
        turn.said_words = True
        for piece in pieces:
            await listener(TextDelta(piece))

    async def _generate(
        self, turn: _Turn, contents: list[types.Content]
    ) -> tuple[types.GenerateContentResponse, bool]:
        """One model call; streamed to the turn's listener when the model can stream."""
        listener = turn.on_event
        model = self.model
        if listener is None or not self._streams(model):
            response = await model.generate(
                system_instruction=self.system_instruction, contents=contents, tools=self._tools
            )
            return response, False
        first = [True]

        async def on_text(text: str) -> None:
            if not text:
                return
            if first[0]:
                first[0] = False
                await self._say(turn, [text])
            else:
                await listener(TextDelta(text))

        response = await model.generate_streaming(
            system_instruction=self.system_instruction,
            contents=contents,
            tools=self._tools,
            on_text=on_text,
        )
        return response, True

    def _budget_failure(self, turn: _Turn) -> ModelFailure:
        budget = self.turn_budget_s
        return describe_model_error(
            TimeoutError(f"no answer within the turn's budget of {budget:g}s")
        )

    async def _call_model(
        self, turn: _Turn, contents: list[types.Content], round_index: int
    ) -> tuple[_Answer | None, ModelFailure | None]:
        """One model step, retried within the turn's budget."""
        failures = 0
        while True:
            answer, failure = await self._attempt(turn, contents, round_index)
            if failure is None:
                return answer, None
            failures += 1
            wait = self.retry.wait_s(failures, failure)
            if wait is None:
                return None, failure
            if wait + self.retry.min_call_s > self._remaining(turn):
                # Not worth waiting: the turn would end before the next answer. A wait
                # the service asked for is told to the customer (the words say how long).
                _log.info(
                    "not retrying %s: a %.1fs wait does not fit the %.1fs left of the turn",
                    failure.category,
                    wait,
                    max(0.0, self._remaining(turn)),
                )
                return None, failure
            await self._sleep(wait)

    def _remaining(self, turn: _Turn) -> float:
        return turn.deadline - self._clock()

    async def _attempt(
        self, turn: _Turn, contents: list[types.Content], round_index: int
    ) -> tuple[_Answer | None, ModelFailure | None]:
        turn.model_calls += 1
        started = self._clock()
        summary = (
            {
                "round": round_index,
                "model": self.model.name,
                "prompt_hash": self._prompt.short_hash,
                "contents": len(contents),
                "last": [_part_for_trace(p) for p in (contents[-1].parts or [])],
            }
            if self._tracing
            else {}
        )
        failure: ModelFailure | None = None
        response: types.GenerateContentResponse | None = None
        streamed = False
        remaining = self._remaining(turn)
        if remaining <= 0:
            failure = self._budget_failure(turn)
        else:
            try:
                with anyio.move_on_after(remaining) as scope:
                    response, streamed = await self._generate(turn, contents)
                if scope.cancelled_caught:
                    failure = self._budget_failure(turn)
            except MODEL_ERRORS as exc:
                failure = self._on_model_error(exc)
        if failure is not None or response is None:
            failure = failure if failure is not None else self._budget_failure(turn)
            self.tracer.emit(
                "model_call",
                turn.session_id,
                turn.number,
                request=summary,
                error={"category": failure.category, "detail": failure.log_line},
                ms=round((self._clock() - started) * 1000, 3),
            )
            return None, failure
        answer = _answer_of(response)
        if streamed:
            answer = dataclasses.replace(answer, streamed=True)
        content = answer.content
        usage = response.usage_metadata
        if not self._tracing:
            return answer, None
        self.tracer.emit(
            "model_call",
            turn.session_id,
            turn.number,
            request=summary,
            response=[_part_for_trace(p) for p in (content.parts or [])] if content else [],
            usage=usage.model_dump(mode="json", exclude_none=True) if usage else None,
            ms=round((self._clock() - started) * 1000, 3),
        )
        return answer, None

    def _refuse_batch(self, turn: _Turn, calls: Sequence[types.FunctionCall]) -> list[types.Part]:
        """Answer every call of an over-long batch with ``TOO_MANY_TOOL_CALLS``; run none."""
        _log.warning(
            "tool calls refused: %d in one model answer (at most %d)",
            len(calls),
            self.max_tool_calls,
        )
        details = {"calls": len(calls), "max": self.max_tool_calls}
        message = self._messages.render(ErrorCode.TOO_MANY_TOOL_CALLS, details)
        response = error_result(ErrorCode.TOO_MANY_TOOL_CALLS, message, details)
        records = [
            ToolCallRecord(
                name=call.name or "",
                session_id=turn.session_id,
                args=dict(call.args or {}),
                response=dict(response),
                ms=0.0,
                id=call.id,
            )
            for call in calls
        ]
        for record in records:
            self._keep(turn, record)
        return [_response_part(record) for record in records]

    async def _dispatch(self, turn: _Turn, calls: Sequence[types.FunctionCall]) -> list[types.Part]:
        # One call at a time: a later call may depend on an earlier one (order, then the bill).
        parts: list[types.Part] = []
        for call in calls:
            name, args = call.name or "", dict(call.args or {})
            if turn.on_event is not None:
                await turn.on_event(ToolStarted(name, args))
            record = await self.toolset.record(name, args, turn.session_id, call_id=call.id)
            if turn.on_event is not None:
                await turn.on_event(ToolFinished(record.name, record.args, record.response))
            self._keep(turn, record)
            parts.append(_response_part(record))
        return parts

    def _keep(self, turn: _Turn, record: ToolCallRecord) -> None:
        """One finished (or refused) call: kept in the turn and traced."""
        turn.calls.append(record)
        if not self._tracing:
            return
        self.tracer.emit(
            "tool_call",
            turn.session_id,
            turn.number,
            id=record.id,
            name=record.name,
            args=record.args,
            result=record.response,
            ms=round(record.ms, 3),
        )


def _response_part(record: ToolCallRecord) -> types.Part:
    """The model's answer to one call: its response, with the call's id and name."""
    return answer_part(record.id, record.name, record.response)
