"""``maya chat``: talk to Maya in the terminal.

Gemini answers when a key is set, the offline model otherwise (announced once). The tab
is kept in the state store (SQLite by default), so ``--session ID`` resumes it. After
each reply the tab, balance and tip are shown, with the payment link while one is open.
End of input, ``quit`` or ``exit`` leaves cleanly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack

import anyio

from maya.agent.loop import Agent
from maya.agent.models.gemini import GeminiModel
from maya.agent.models.select import choose_model
from maya.agent.payment_side import ChatPayments, open_chat_payments
from maya.agent.tab_view import tab_line
from maya.agent.trace import tracer_from_env
from maya.state.errors import StateError
from maya.state.manager import TabManager, validate_session_id
from maya.state.open import open_store
from maya.tools import Toolset

__all__ = ["QUIT_WORDS", "run_chat", "terminal_lines"]

QUIT_WORDS = frozenset({"quit", "exit", ":q", "bye!"})
"""What ends the chat (besides end of input)."""

PROMPT = "you> "


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
    payments: ChatPayments | None = None,
) -> int:
    """Chat until end of input or a quit word; returns the exit code.

    Args:
        session_id: the tab to open or resume.
        store_url: the state store (see ``maya.state.open_store``); default SQLite.
        offline: use the offline model even when a key is set.
        lines: the customer's lines (default: the terminal).
        out: where Maya's side is printed.
        payments: the payment gateway (default: ``mcp.json``'s server or the sandbox).
    """
    try:
        session_id = validate_session_id(session_id)
    except StateError as exc:
        out(f"maya chat: {exc.message}")
        return 2
    choice = choose_model(offline=offline)
    out(choice.announcement)
    store = open_store(store_url)
    manager = TabManager(store)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(store.aclose)
        if isinstance(choice.model, GeminiModel):
            stack.push_async_callback(choice.model.aclose)
        if payments is None:
            payments = await stack.enter_async_context(open_chat_payments())
        agent = Agent(
            model=choice.model,
            toolset=Toolset(manager=manager, payments=payments),
            manager=manager,
            tracer=tracer_from_env(),
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
            result = await agent.respond(session_id, message)
            out("maya> " + result.reply.replace("\n", "\n      "))
            out("      " + tab_line(await manager.get(session_id)).replace("\n", "\n      "))
        trace = agent.tracer.path_for(session_id)
        if trace is not None and trace.exists():
            out(f"trace: {trace}")
    out("Good night!")
    return 0
