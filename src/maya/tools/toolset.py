"""``Toolset``: the tools' Gemini declarations, and running the model's calls.

Nothing escapes a call: an unknown tool, bad arguments, a refusal and a crash all become
error responses (a crash as ``INTERNAL_ERROR``, logged, never shown). Each call is one
log line on ``maya.tools``; bodies only when asked for.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import time
import typing
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from google.genai import types
from pydantic import ValidationError

from maya.codes import ErrorCode
from maya.errors import MayaError
from maya.messages import MessageBook, load_messages
from maya.redact import redact
from maya.state.catalog import TabSettings
from maya.state.manager import TabManager, validate_session_id
from maya.tools.catalog import CATALOG_TOOLS, SoldWithTools, ToolSpec
from maya.tools.context import PaymentGateway, ToolContext
from maya.tools.results import ToolResult, error_result, ok_result
from maya.tools.schema_gemini import gemini_schema_problems, to_gemini_schema

__all__ = [
    "LOG_BODIES_ENV",
    "MAX_DESCRIPTION",
    "MAX_FIELD_PROBLEMS",
    "ToolCallRecord",
    "ToolCallable",
    "ToolObserver",
    "ToolSchemaError",
    "Toolset",
    "build_declarations",
    "declarations_size",
]

_log = logging.getLogger("maya.tools")

LOG_BODIES_ENV = "MAYA_LOG_TOOL_BODIES"
"""Set to ``1`` to log (redacted) tool arguments and results."""

MAX_FIELD_PROBLEMS = 10
"""At most this many argument problems are reported for one call."""

_BODY_LIMIT = 2000


# -- Gemini function declarations, generated from the tools' arguments models and checked ---

MAX_DESCRIPTION = 200
"""The longest tool description allowed: every character is sent on every turn."""

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class ToolSchemaError(ValueError):
    """One or more tools cannot be declared to Gemini.

    Attributes:
        problems: every problem found, each as ``"tool: what is wrong"``.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        listing = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} tool schema problem(s):\n{listing}")


def _problems_of(
    spec: ToolSpec[Any], settings: TabSettings | None = None
) -> tuple[list[str], types.FunctionDeclaration | None]:
    problems: list[str] = []
    if not _NAME.match(spec.name):
        problems.append("the name must be a letter or _ then up to 63 letters, digits or _")
    description = inspect.cleandoc(spec.arguments.__doc__ or "")
    if not description:
        problems.append("the arguments model needs a docstring (it is the tool's description)")
    elif len(description) > MAX_DESCRIPTION:
        problems.append(f"the description is {len(description)} > {MAX_DESCRIPTION} characters")
    if spec.arguments.model_config.get("extra") != "forbid":
        problems.append("the arguments model must forbid extra arguments (extra='forbid')")
    try:
        schema = to_gemini_schema(spec.arguments.model_json_schema())
    except Exception as exc:  # pydantic raises several kinds for unschemable types
        return [*problems, f"no JSON schema: {exc}"], None
    if settings is not None:
        try:
            schema = spec.arguments.fitted_schema(schema, settings)
        except ValueError as exc:
            return [*problems, str(exc)], None
    problems.extend(gemini_schema_problems(schema))
    if problems:
        return problems, None
    declaration = types.FunctionDeclaration(
        name=spec.name,
        description=description,
        # A tool without arguments sends no schema at all: fewer tokens every turn.
        parameters_json_schema=schema if schema.get("properties") else None,
    )
    return [], declaration


def build_declarations(
    specs: Sequence[ToolSpec[Any]], settings: TabSettings | None = None
) -> tuple[types.FunctionDeclaration, ...]:
    """One declaration per tool, in order; with ``settings``, each schema states the
    limits the tab has (``ToolArgs.fitted_schema``: the quantity's maximum, the tips).

    Raises:
        ToolSchemaError: listing every problem of every tool (bad or duplicate names,
            missing descriptions, schemas Gemini would not take, unbounded arguments).
    """
    problems: list[str] = []
    declarations: list[types.FunctionDeclaration] = []
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            problems.append(f"{spec.name}: declared twice")
        seen.add(spec.name)
        found, declaration = _problems_of(spec, settings)
        problems.extend(f"{spec.name}: {p}" for p in found)
        if declaration is not None:
            declarations.append(declaration)
    if problems:
        raise ToolSchemaError(problems)
    return tuple(declarations)


def declarations_size(declarations: Sequence[types.FunctionDeclaration]) -> int:
    """How many characters of JSON the declarations cost on each turn (as the SDK sends them)."""
    payload = [d.model_dump(mode="json", exclude_none=True) for d in declarations]
    return len(json.dumps(payload, separators=(",", ":")))


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """One finished tool call: what the loop keeps, traces write, observers and tests see.

    Attributes:
        name: the tool the model asked for (possibly unknown).
        session_id: whose tab it ran on.
        args: the arguments as the model sent them.
        response: the whole response returned to the model (``status`` ``ok`` or ``error``).
        ms: how long it took, in milliseconds.
        id: the call id the model gave (None when it gave none, or for a direct ``call``).
    """

    name: str
    session_id: str
    args: dict[str, Any]
    response: dict[str, Any]
    ms: float
    id: str | None = None

    @property
    def ok(self) -> bool:
        """True when the tool answered ``status: ok``."""
        return self.response.get("status") == "ok"

    @property
    def result(self) -> dict[str, Any]:
        """The inner ``result`` of an ok response, or the whole error response."""
        result = self.response.get("result")
        return result if self.ok and isinstance(result, dict) else self.response


ToolObserver = Callable[[ToolCallRecord], None]
"""Called after every tool call; an observer that raises is logged and ignored."""

ToolCallable = Callable[..., Awaitable[dict[str, Any]]]
"""One tool as an async function for google-genai's automatic function calling: keyword
arguments as the declaration names them; returns the tool's result (or its error)."""


def _plain(annotation: Any) -> Any:
    """``Annotated[str, ...]`` -> ``str``, inside lists and unions too (what the SDK reads)."""
    if typing.get_origin(annotation) is Annotated:
        return _plain(typing.get_args(annotation)[0])
    origin = typing.get_origin(annotation)
    if origin is list:
        return list[_plain(typing.get_args(annotation)[0])]  # type: ignore[misc]
    if origin in (typing.Union, type(int | None)):
        parts = tuple(_plain(a) for a in typing.get_args(annotation))
        return typing.Union[parts]  # noqa: UP007
    return annotation


def _short(text: object, limit: int = 64) -> str:
    value = str(text)
    return value if len(value) <= limit else value[: limit - 3] + "..."


# Pydantic's sentences for bounds, in the words of the rest ("must be ..."), by error type.
_BOUNDS: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "greater_than_equal": lambda ctx: f"must be at least {ctx['ge']}",
    "greater_than": lambda ctx: f"must be more than {ctx['gt']}",
    "less_than_equal": lambda ctx: f"must be at most {ctx['le']}",
    "less_than": lambda ctx: f"must be less than {ctx['lt']}",
    "string_too_short": lambda ctx: (
        "must not be empty"
        if ctx.get("min_length") == 1
        else f"must be at least {ctx.get('min_length')} characters"
    ),
    "string_too_long": lambda ctx: f"must be at most {ctx.get('max_length')} characters",
}


def _field_problems(exc: ValidationError, allowed: Sequence[str]) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    for error in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(part) for part in error["loc"]) or "(arguments)"
        bound = _BOUNDS.get(error["type"])
        if error["type"] == "extra_forbidden":
            problem = f"not an argument of this tool; it takes: {', '.join(allowed) or 'none'}"
        elif error["type"] == "missing":
            problem = "required"
        elif bound is not None and "ctx" in error:
            problem = bound(error["ctx"])
        else:
            problem = error["msg"].removeprefix("Value error, ")
        problems.append({"field": _short(field), "problem": problem})
        if len(problems) == MAX_FIELD_PROBLEMS:
            break
    return problems


class Toolset:
    """Maya's tools bound to one tab manager and one payment gateway.

    Example::

        toolset = Toolset(manager=TabManager(store, catalog=catalog), payments=client)
        config = types.GenerateContentConfig(tools=[toolset.genai_tool()])
        parts = await toolset.dispatch(response.function_calls, session_id)
    """

    def __init__(
        self,
        *,
        manager: TabManager,
        payments: PaymentGateway | None,
        messages: MessageBook | Mapping[str, str | Sequence[str]] | None = None,
        messages_path: Path | None = None,
        log_bodies: bool | None = None,
        observer: ToolObserver | None = None,
        tools: Sequence[ToolSpec[Any]] | None = None,
        timer: Callable[[], float] | None = None,
    ) -> None:
        """Build the toolset and check every tool's declaration.

        Args:
            manager: the tab's atomic operations.
            payments: the payment gateway (e.g. ``maya.payments.StripeMCPClient``); None
                when card payment is unavailable (the payment tools then say so).
            messages: the words results and errors are given in: a ``MessageBook``, or a
                mapping overriding only the keys it names (over ``messages_path`` and the
                neutral defaults, ``maya.messages.DEFAULT_MESSAGES``).
            messages_path: a messages YAML file overriding only the keys it names.
            log_bodies: log redacted arguments and results; default: the
                ``MAYA_LOG_TOOL_BODIES`` environment variable is ``1``.
            observer: called with a ``ToolCallRecord`` after every call (for traces).
            tools: the tools to offer, e.g. ``PAYMENT_TOOLS``; default: the catalog's own
                (``SoldWithTools``, as the reference app's menu is), else ``CATALOG_TOOLS``.
            timer: monotonic seconds for call timings (tests pass a fake).

        Raises:
            ToolSchemaError: listing every problem with the tools' declarations.
            MessagesError: a messages override names a key that does not exist.
        """
        if tools is None:
            catalog = manager.catalog
            tools = catalog.tools if isinstance(catalog, SoldWithTools) else CATALOG_TOOLS
        self.declarations: tuple[types.FunctionDeclaration, ...] = build_declarations(
            tools, manager.settings
        )
        if log_bodies is None:
            log_bodies = os.environ.get(LOG_BODIES_ENV, "") == "1"
        self.context = ToolContext(
            manager=manager,
            payments=payments,
            messages=messages
            if isinstance(messages, MessageBook)
            else load_messages(messages_path, overrides=messages),
        )
        self._specs = {spec.name: spec for spec in tools}
        self._ctx = self.context
        self._log_bodies = log_bodies
        self._observer = observer
        self._timer = timer if timer is not None else time.perf_counter

    @property
    def tool_names(self) -> tuple[str, ...]:
        """The names of the tools it runs, in declaration order."""
        return tuple(self._specs)

    @property
    def specs(self) -> tuple[ToolSpec[Any], ...]:
        """The tools it runs (name, arguments, handler, result model), in declaration order."""
        return tuple(self._specs.values())

    @property
    def declarations_chars(self) -> int:
        """How many characters the declarations cost on every model turn."""
        return declarations_size(self.declarations)

    def genai_tool(self) -> types.Tool:
        """One ``types.Tool`` holding every function declaration."""
        return types.Tool(function_declarations=list(self.declarations))

    def callables(self, session_id: str) -> list[ToolCallable]:
        """One typed async function per tool, bound to ``session_id``, for google-genai's
        automatic function calling (``GenerateContentConfig(tools=toolset.callables(s))``).

        Each has the tool's name, the declaration's description as its docstring and a
        keyword parameter per argument with its Python type and default; it returns the
        tool's ``result`` (an error response as it is), so the SDK's own wrapping is the
        only one.

        Raises:
            StateError: ``INVALID_SESSION_ID``.
        """
        session_id = validate_session_id(session_id)
        functions: list[ToolCallable] = []
        for declaration, spec in zip(self.declarations, self._specs.values(), strict=True):
            functions.append(self._callable(spec, declaration.description or "", session_id))
        return functions

    def _callable(self, spec: ToolSpec[Any], description: str, session_id: str) -> ToolCallable:
        name = spec.name

        async def call(**kwargs: Any) -> dict[str, Any]:
            response = await self.call(name, kwargs, session_id)
            result = response.get("result") if response.get("status") == "ok" else None
            return result if isinstance(result, dict) else response

        parameters: list[inspect.Parameter] = []
        annotations: dict[str, Any] = {}
        for field_name, field in spec.arguments.model_fields.items():
            annotation = _plain(field.annotation)
            default = (
                inspect.Parameter.empty
                if field.is_required()
                else field.get_default(call_default_factory=True)
            )
            parameters.append(
                inspect.Parameter(
                    field_name,
                    inspect.Parameter.KEYWORD_ONLY,
                    default=default,
                    annotation=annotation,
                )
            )
            annotations[field_name] = annotation
        annotations["return"] = dict[str, Any]
        call.__name__ = call.__qualname__ = name
        call.__doc__ = description
        call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            parameters, return_annotation=dict[str, Any]
        )
        call.__annotations__ = annotations
        return call

    async def call(self, name: str, args: Mapping[str, Any] | None, session_id: str) -> ToolResult:
        """Run one tool; returns the ``ok`` or ``error`` response dict. Never raises (except
        cancellation)."""
        return (await self.record(name, args, session_id)).response

    async def record(
        self,
        name: str,
        args: Mapping[str, Any] | None,
        session_id: str,
        *,
        call_id: str | None = None,
    ) -> ToolCallRecord:
        """Run one tool and return the whole record of the call. Never raises (except
        cancellation)."""
        started = self._timer()
        result = await self._run(name, args, session_id)
        ms = (self._timer() - started) * 1000
        record = ToolCallRecord(
            name=name,
            session_id=session_id,
            args=dict(args) if isinstance(args, Mapping) else {},
            response=result,
            ms=ms,
            id=call_id,
        )
        self._report(record)
        return record

    async def dispatch(
        self, function_calls: Sequence[types.FunctionCall], session_id: str
    ) -> list[types.Part]:
        """Run the model's function calls in order, one function-response part each.

        Calls run one after another because a later one may depend on an earlier one
        (order, then show the bill).
        """
        parts: list[types.Part] = []
        for call in function_calls:
            name = call.name or ""
            response = (await self.record(name, call.args, session_id, call_id=call.id)).response
            parts.append(
                types.Part(
                    function_response=types.FunctionResponse(
                        id=call.id, name=name, response=response
                    )
                )
            )
        return parts

    def _error(
        self,
        code: ErrorCode,
        fallback: str,
        details: Mapping[str, Any],
        wording: Mapping[str, Any] | None = None,
    ) -> ToolResult:
        """The error response; ``wording`` adds values only the message template uses."""
        message = self._ctx.messages.render(code, {**details, **(wording or {})}, fallback=fallback)
        return error_result(code, message, details)

    async def _run(self, name: str, args: Mapping[str, Any] | None, session_id: str) -> ToolResult:
        spec = self._specs.get(name) if isinstance(name, str) else None
        if spec is None:
            # Not one of this toolset's: the application may own it, so it is not ours to
            # retry or to word in a persona.
            return self._error(
                ErrorCode.UNKNOWN_TOOL,
                "not a tool of this toolset",
                {"tool": _short(name), "available": list(self._specs)},
            )
        if args is None:
            args = {}
        if not isinstance(args, Mapping):
            return self._error(
                ErrorCode.INVALID_ARGUMENTS,
                "arguments must be an object",
                {"fields": [{"field": "(arguments)", "problem": "must be an object"}]},
            )
        try:
            validate_session_id(session_id)
            return ok_result(await spec.run(self._ctx, session_id, dict(args)))
        except ValidationError as exc:
            fields = _field_problems(exc, list(spec.arguments.model_fields))
            problems = "; ".join(f"{f['field']}: {f['problem']}" for f in fields)
            return self._error(
                ErrorCode.INVALID_ARGUMENTS,
                "the arguments do not fit the tool",
                {"fields": fields},
                {"problems": problems},
            )
        except MayaError as exc:
            if exc.public_text:
                return self._error(exc.code, exc.message, exc.details)
            # A refusal from the payments layer or the store: its code is the whole
            # story; its text may carry provider internals, so only the code is passed on.
            _log.warning("tool %s refused by payments: %s", name, exc.code.value)
            return self._error(exc.code, "", {})
        except Exception as exc:
            _log.exception(
                "tool %s crashed in session %s", name, _short(session_id, 40), exc_info=exc
            )
            return self._error(ErrorCode.INTERNAL_ERROR, "", {})

    def _report(self, record: ToolCallRecord) -> None:
        name, args, session_id, result, ms = (
            record.name,
            record.args,
            record.session_id,
            record.response,
            record.ms,
        )
        outcome = "ok" if result["status"] == "ok" else str(result["error"])
        tool, session = _short(name), _short(session_id, 40)
        extra = {"tool": tool, "session": session, "outcome": outcome, "ms": round(ms, 3)}
        if self._log_bodies:
            extra["tool_args"] = _body(args)
            extra["tool_result"] = _body(result)
            _log.info(
                "tool=%s session=%s outcome=%s ms=%.2f args=%s result=%s",
                tool, session, outcome, ms, extra["tool_args"], extra["tool_result"], extra=extra,
            )  # fmt: skip
        else:
            _log.info(
                "tool=%s session=%s outcome=%s ms=%.2f", tool, session, outcome, ms, extra=extra
            )
        if self._observer is not None:
            try:
                self._observer(record)
            except Exception:
                _log.exception("tool observer failed for %s", tool)


def _body(value: object) -> str:
    try:
        text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError):
        text = repr(value)
    return _short(redact(text), _BODY_LIMIT)
