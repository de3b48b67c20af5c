"""``maya chat``: talk to Maya in the terminal.

Gemini answers when a key is set, the offline model otherwise (announced once); the tab
is kept in the state store, so ``--session ID`` resumes it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TextIO

import anyio

from maya.agent.loop import Agent
from maya.agent.model_errors import DEFAULT_TURN_BUDGET_S
from maya.agent.models.gemini import GeminiModel
from maya.agent.models.select import choose_model
from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.otel import agent_tracer_from_env, configure_tracing_from_env
from maya.payments import CHAT_STATUS_BOUNDS, StripeMCPClient, open_stripe_client, sandbox_notice
from maya.state.errors import StateError
from maya.state.manager import TabManager, validate_session_id
from maya.state.open import open_store
from maya.state.view import tab_line
from maya.tools import Toolset

__all__ = ["QUIT_WORDS", "ThinkingIndicator", "run_chat", "terminal_lines", "turn_budget_from_env"]

QUIT_WORDS = frozenset({"quit", "exit", ":q", "bye!"})
"""What ends the chat (besides end of input)."""

PROMPT = "you> "


def turn_budget_from_env(env: Mapping[str, str] | None = None) -> float:
    """``$MAYA_TURN_BUDGET_S`` (seconds, > 0), else the default of 30 s."""
    environ = os.environ if env is None else env
    try:
        value = float(environ.get("MAYA_TURN_BUDGET_S", "") or DEFAULT_TURN_BUDGET_S)
    except ValueError:
        return DEFAULT_TURN_BUDGET_S
    return value if value > 0 else DEFAULT_TURN_BUDGET_S


class ThinkingIndicator:
    """A "maya is thinking..." line on a terminal while a turn runs, wiped at the end.

    It appears only after ``delay_s`` (a quick answer shows no flicker) and its dots move
    every ``every_s``.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        text: str = "maya is thinking",
        delay_s: float = 0.3,
        every_s: float = 0.5,
    ) -> None:
        """Show on ``stream`` (a terminal)."""
        self.stream = stream
        self.text = text
        self.delay_s = delay_s
        self.every_s = every_s

    async def _show(self, shown: list[bool]) -> None:
        await anyio.sleep(self.delay_s)
        dots = 0
        while True:
            shown[0] = True
            self.stream.write(f"\r{self.text}{'.' * (dots % 3 + 1):<3}")
            self.stream.flush()
            dots += 1
            await anyio.sleep(self.every_s)

    @asynccontextmanager
    async def showing(self) -> AsyncIterator[None]:
        """Show the line while the block runs."""
        shown = [False]
        async with anyio.create_task_group() as group:
            group.start_soon(self._show, shown)
            try:
                yield
            finally:
                group.cancel_scope.cancel()
        if shown[0]:
            self.stream.write("\r\033[K")
            self.stream.flush()


async def terminal_lines(prompt: str = PROMPT) -> AsyncIterator[str]:
    """Lines typed at the terminal, until end of input."""
    while True:
        try:
            line = await anyio.to_thread.run_sync(input, prompt)
        except EOFError:
            return
        yield line


async def run_chat(
    *,
    session_id: str = "terminal",
    store_url: str | None = None,
    offline: bool = False,
    lines: AsyncIterator[str] | None = None,
    out: Callable[[str], None] = print,
    payments: StripeMCPClient | None = None,
    thinking: ThinkingIndicator | None = None,
    turn_budget_s: float | None = None,
    log_path: Path | None = None,
) -> int:
    """Chat until end of input or a quit word; returns the exit code.

    Args:
        session_id: the tab to open or resume.
        store_url: the state store (see ``maya.state.open_store``); default SQLite.
        offline: use the offline model even when a key is set.
        lines: the customer's lines (default: the terminal).
        out: where Maya's side is printed.
        payments: the payment gateway (default: ``mcp.json``'s server or the sandbox).
        thinking: the waiting indication (default: on stdout when it is a terminal).
        turn_budget_s: the time one message may take (default: ``$MAYA_TURN_BUDGET_S``
            or 30 s).
        log_path: where the logs go, told once at start (None: not told).
    """
    try:
        session_id = validate_session_id(session_id)
    except StateError as exc:
        out(f"maya chat: {exc.message}")
        return 2
    choice = choose_model(offline=offline)
    out(choice.announcement)
    if log_path is not None:
        out(f"Logs go to {log_path} ('maya -v chat' shows them here).")
    if thinking is None and sys.stdout.isatty():
        thinking = ThinkingIndicator(sys.stdout)
    budget = turn_budget_s if turn_budget_s is not None else turn_budget_from_env()
    store = open_store(store_url)
    manager = TabManager(store, catalog=load_menu())
    async with AsyncExitStack() as stack:
        stack.push_async_callback(store.aclose)
        # Spans go where OTEL_* says (nowhere unless asked); the JSONL trace is unchanged.
        stack.callback(configure_tracing_from_env("maya"))
        if isinstance(choice.model, GeminiModel):
            stack.push_async_callback(choice.model.aclose)
        if payments is None:
            notice = sandbox_notice()
            if notice is not None:
                out(notice)
            payments = await stack.enter_async_context(
                open_stripe_client(status_bounds=CHAT_STATUS_BOUNDS, sandbox=True)
            )
        agent = Agent(
            model=choice.model,
            toolset=Toolset(manager=manager, payments=payments, messages=bar_messages()),
            manager=manager,
            tracer=agent_tracer_from_env(),
            turn_budget_s=budget,
        )
        stack.callback(agent.close)
        state = await manager.get(session_id)
        out(f"Session {session_id}: {tab_line(state)}")
        out("Type to Maya; 'quit' or Ctrl-D leaves.")
        source = lines if lines is not None else terminal_lines()
        async for line in source:
            message = line.strip()
            if not message:
                continue
            if message.lower() in QUIT_WORDS:
                break
            if thinking is not None:
                async with thinking.showing():
                    result = await agent.respond(session_id, message)
            else:
                result = await agent.respond(session_id, message)
            out("maya> " + result.reply.replace("\n", "\n      "))
            out("      " + tab_line(await manager.get(session_id)).replace("\n", "\n      "))
        trace = agent.tracer.path_for(session_id)
        if trace is not None and trace.exists():
            out(f"trace: {trace}")
    out("Good night!")
    return 0
