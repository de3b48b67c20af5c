"""``maya chat``: offline without a key, the tab shown after each turn, resumable sessions."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from maya.agent.chat import ThinkingIndicator, run_chat
from maya.agent.chat_logging import logs_to_file
from maya.payments import open_payment_side


async def _lines(items: Iterable[str]) -> AsyncIterator[str]:
    for item in items:
        yield item


@pytest.mark.anyio
async def test_chat_runs_offline_and_shows_the_tab(tmp_path: Path) -> None:
    printed: list[str] = []
    async with open_payment_side("none", workdir=tmp_path) as payments:
        code = await run_chat(
            session_id="c1",
            store_url="memory://",
            lines=_lines(["hi", "", "two martinis", "quit", "never read"]),
            out=printed.append,
            payments=payments,
        )
    text = "\n".join(printed)
    assert code == 0
    assert printed[0].startswith("No GEMINI_API_KEY")
    assert "tab $26.00" in text and "balance $974.00" in text
    assert printed[-1] == "Good night!"
    assert "never read" not in text


@pytest.mark.slow
@pytest.mark.anyio
async def test_a_session_is_resumed_from_sqlite_and_shows_the_link(tmp_path: Path) -> None:
    store = str(tmp_path / "tabs.sqlite3")
    first: list[str] = []
    second: list[str] = []
    with anyio.fail_after(60):
        async with open_payment_side("sandbox", workdir=tmp_path) as payments:
            await run_chat(
                session_id="regular",
                store_url=store,
                lines=_lines(["an IPA", "check please"]),
                out=first.append,
                payments=payments,
            )
            await run_chat(
                session_id="regular",
                store_url=store,
                lines=_lines([]),
                out=second.append,
                payments=payments,
            )
    assert any("pay here: http://127.0.0.1:" in line for line in first)
    assert "tab $6.00" in second[1] and "payment pending" in second[1]


@pytest.mark.anyio
async def test_a_bad_session_id_is_refused() -> None:
    printed: list[str] = []
    assert await run_chat(session_id="no spaces!", lines=_lines([]), out=printed.append) == 2
    assert "session id" in printed[0]


def test_chat_logs_go_to_a_file_and_the_terminal_handlers_come_back(tmp_path: Path) -> None:
    root = logging.getLogger()
    terminal = logging.StreamHandler(sys.stderr)
    root.addHandler(terminal)
    try:
        with logs_to_file(tmp_path / "logs" / "chat.log") as path:
            assert terminal not in root.handlers
            logging.getLogger("maya.genai").error("gemini call failed: category=server")
            print("maya sandbox: checkout pages at http://127.0.0.1:1", file=sys.stderr)
        assert terminal in root.handlers
    finally:
        root.removeHandler(terminal)
    text = path.read_text()
    assert "ERROR maya.genai gemini call failed" in text and "checkout pages at" in text


KEY = "sk_test_FAKE1234567890abcdef"
TOKEN = "plain-token-0123456789"  # no pattern knows it: masked as a secret variable's value


def test_no_secret_reaches_the_chat_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRIPE_SECRET_KEY", KEY)
    monkeypatch.setenv("MAYA_MCP_TOKEN", TOKEN)
    log = logging.getLogger("mcp.client.stdio")
    with logs_to_file(tmp_path / "chat.log") as path:
        log.warning("spawned with %s", f"--api-key={KEY}")
        try:
            # What a server printing its own command line on stdout made the SDK log.
            raise ValueError(f"Invalid JSON [input_value='boom --api-key={KEY}'] {TOKEN}")
        except ValueError:
            log.exception("Failed to parse JSONRPC message from server")
        log.error("giving up on %s", TOKEN, stack_info=True)
        # Printed to stderr in pieces (as a traceback is), still masked whole.
        for piece in ("token ", TOKEN[:6], TOKEN[6:], " and ", KEY[:10], KEY[10:], "\n"):
            sys.stderr.write(piece)
        sys.stderr.write(f"unended line with {KEY}")
    text = path.read_text()
    assert KEY not in text and KEY[8:] not in text and TOKEN not in text, text
    assert "--api-key=***" in text and "input_value='boom --api-key=***'" in text
    assert "Traceback (most recent call last)" in text
    assert "giving up on ***" in text and "Stack (most recent call last)" in text
    assert "token *** and ***" in text and "unended line with ***" in text


@pytest.mark.anyio
async def test_the_thinking_line_shows_while_waiting_and_is_wiped() -> None:
    screen = io.StringIO()
    thinking = ThinkingIndicator(screen, delay_s=0.0, every_s=0.0)
    async with thinking.showing():
        for _ in range(5):
            await anyio.lowlevel.checkpoint()
    assert "maya is thinking." in screen.getvalue()
    assert screen.getvalue().endswith("\r\033[K")


@pytest.mark.anyio
async def test_a_quick_answer_shows_no_thinking_line() -> None:
    screen = io.StringIO()
    async with ThinkingIndicator(screen, delay_s=60.0).showing():
        await anyio.lowlevel.checkpoint()
    assert screen.getvalue() == ""
