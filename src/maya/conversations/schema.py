"""Conversation files: a customer's turns, the model's recorded answers, what must happen.

YAML validated by ``Conversation`` (unknown keys are refused, so a typo never silently
weakens a test). A scripted text may quote a tool's latest result with ``{{tool.field}}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from maya.money import Cents, MoneyError, parse_cents

__all__ = [
    "CallSpec",
    "Conversation",
    "ConversationError",
    "ErrorStep",
    "Expectations",
    "InitialOrder",
    "InitialState",
    "ModelStep",
    "PayAction",
    "SandboxSpec",
    "ToolCallExpectation",
    "ToolResultExpectation",
    "Turn",
    "load_conversation",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class ConversationError(ValueError):
    """A conversation file that cannot be read or does not fit the schema."""


class CallSpec(BaseModel):
    """A function call the model makes (``args`` exactly as the model would send them)."""

    model_config = _STRICT

    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class ErrorStep(BaseModel):
    """A model failure to replay, as Gemini's API would report it."""

    model_config = _STRICT

    code: int = Field(ge=400, le=599, description="HTTP status, e.g. 429 or 503.")
    status: str = Field(default="", description="e.g. RESOURCE_EXHAUSTED.")
    message: str = "replayed model error"
    reason: str | None = Field(default=None, description="ErrorInfo.reason, e.g. API_KEY_INVALID.")
    retry_delay: str | None = Field(default=None, description="RetryInfo.retryDelay, e.g. '23s'.")


class ModelStep(BaseModel):
    """One model response: calls, text, both, an error, or an answer without words.

    Attributes:
        call: a single function call (shorthand for ``calls: [call]``).
        calls: function calls made together.
        text: what the model says; ``{{tool.field}}`` quotes the latest tool result.
        finish: the finish reason of a text answer (``MAX_TOKENS``: cut off).
        error: raise this API error instead of answering.
        empty: answer with nothing at all (an empty text part).
        blocked: answer with nothing, finish reason ``SAFETY``.
        timeout: the request timed out (``TimeoutError``) instead of answering.
        slow_s: how long the step takes on the conversation's clock before it answers.
    """

    model_config = _STRICT

    call: CallSpec | None = None
    calls: list[CallSpec] = Field(default_factory=list)
    text: str | None = None
    finish: Literal["STOP", "MAX_TOKENS"] = "STOP"
    error: ErrorStep | None = None
    empty: bool = False
    blocked: bool = False
    timeout: bool = False
    slow_s: float = Field(default=0.0, ge=0, le=3600)

    @model_validator(mode="after")
    def _one_kind(self) -> ModelStep:
        answered = bool(self.call or self.calls or self.text)
        kinds = [answered, self.error is not None, self.empty, self.blocked, self.timeout]
        if sum(kinds) > 1:
            raise ValueError("a step is one of: a response, an error, empty, blocked or timeout")
        if not any(kinds):
            raise ValueError("a step needs call, calls, text, error, empty, blocked or timeout")
        if self.call is not None and self.calls:
            raise ValueError("use call or calls, not both")
        if self.finish != "STOP" and not self.text:
            raise ValueError("a finish reason goes with text")
        return self

    @property
    def all_calls(self) -> list[CallSpec]:
        """``call`` and ``calls`` together."""
        return [self.call] if self.call is not None else list(self.calls)


class InitialOrder(BaseModel):
    """An order placed before the conversation starts."""

    model_config = _STRICT

    name: str
    quantity: int = Field(default=1, ge=1)
    modifiers: list[str] = Field(default_factory=list)


class InitialState(BaseModel):
    """The tab before the first turn.

    Attributes:
        balance: the starting balance, as money text (``"$40.00"``) or integer cents.
        orders: orders to place first.
        tip: a tip percent to set first.
    """

    model_config = _STRICT

    balance: Cents | None = None
    orders: list[InitialOrder] = Field(default_factory=list)
    tip: Literal[10, 15, 20] | None = None

    @field_validator("balance", mode="before")
    @classmethod
    def _money(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return parse_cents(value)
            except MoneyError as exc:
                raise ValueError(str(exc)) from exc
        return value


class SandboxSpec(BaseModel):
    """How the payment side behaves.

    Attributes:
        mode: ``sandbox`` (the offline Stripe server, as a real subprocess),
            ``unavailable`` (no server reachable: test mode falls back to simulated links),
            ``none`` (no payment client at all).
        status: ``timeout`` makes every payment-status check hang until the client's
            timeout.
        faults: a raw fault spec for the sandbox (see ``maya.sandbox.faults``).
    """

    model_config = _STRICT

    mode: Literal["sandbox", "unavailable", "none"] = "sandbox"
    status: Literal["normal", "timeout"] = "normal"
    faults: str | None = None


class PayAction(BaseModel):
    """Pay the current payment link at its checkout page, before the turn's message.

    Attributes:
        card: the card number typed into the form.
        outcome: what the checkout must answer (``paid``, ``declined``...).
    """

    model_config = _STRICT

    card: str
    outcome: Literal["paid", "declined", "invalid_card", "inactive", "not_found"] | None = None


class ToolCallExpectation(BaseModel):
    """A tool call the turn must make; ``args`` (if given) must match exactly."""

    model_config = _STRICT

    name: str
    args: dict[str, Any] | None = None


class ToolResultExpectation(BaseModel):
    """A tool response the turn must contain (the first call to ``name`` not yet matched).

    Attributes:
        name: the tool.
        status: ``ok`` or ``error``.
        error: the error code, for an error.
        result: a subset of the ok ``result`` (or of the whole error response).
    """

    model_config = _STRICT

    name: str
    status: Literal["ok", "error"] | None = None
    error: str | None = None
    result: dict[str, Any] = Field(default_factory=dict)


class Expectations(BaseModel):
    """What must hold after a turn; every field is optional."""

    model_config = _STRICT

    tool_calls: list[ToolCallExpectation] | None = None
    tool_calls_match: Literal["exact", "in_order", "any_order"] = "exact"
    tool_results: list[ToolResultExpectation] = Field(default_factory=list)
    state: dict[str, Any] = Field(default_factory=dict)
    state_unchanged: bool = False
    reply_contains: list[str] = Field(default_factory=list)
    reply_not_contains: list[str] = Field(default_factory=list)
    reply_contains_payment_link: bool = False
    outcome: Literal["ok", "model_error", "round_limit", "empty", "blocked", "truncated"] | None = (
        None
    )


class Turn(BaseModel):
    """One customer message, its replayed model steps and its expectations."""

    model_config = _STRICT

    user: str = Field(min_length=1)
    pay: PayAction | None = None
    model: list[ModelStep] = Field(default_factory=list)
    expect: Expectations = Field(default_factory=Expectations)
    repeat: Annotated[int, Field(ge=1, le=100)] = 1


class Conversation(BaseModel):
    """A whole conversation test."""

    model_config = _STRICT

    name: str
    description: str = ""
    model: Literal["scripted", "offline"] = "scripted"
    session_id: str = "conversation"
    initial: InitialState = Field(default_factory=InitialState)
    sandbox: SandboxSpec = Field(default_factory=SandboxSpec)
    turns: list[Turn] = Field(min_length=1)

    @model_validator(mode="after")
    def _steps_fit_the_model(self) -> Conversation:
        for index, turn in enumerate(self.turns, start=1):
            if self.model == "offline" and turn.model:
                raise ValueError(f"turn {index}: an offline conversation replays no model steps")
            if self.model == "scripted" and not turn.model:
                raise ValueError(f"turn {index}: a scripted conversation needs model steps")
        return self


def load_conversation(path: Path) -> Conversation:
    """Read and validate a conversation file.

    Raises:
        ConversationError: naming the file and every problem.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConversationError(f"{path}: cannot read: {exc}") from exc
    if not isinstance(data, dict):
        raise ConversationError(f"{path}: not a conversation (a YAML mapping with its turns)")
    try:
        return Conversation.model_validate(data)
    except ValidationError as exc:
        # Where and what, one per problem: not pydantic's report with its links.
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or 'the file'}: {error['msg']}"
            for error in exc.errors(include_url=False)[:5]
        )
        raise ConversationError(f"{path}: {problems}") from exc
