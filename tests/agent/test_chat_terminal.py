"""``maya chat`` as a customer sees it: a real process on a pseudo-terminal, Gemini played
by a slow local server. The screen shows the thinking indication and the conversation;
log lines (Gemini's failure, the sandbox's banner) go to the log file."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_gemini import FakeGemini, error_body, fake_gemini, function_call_body, text_body

FAKE_KEY = "fake-gemini-key-for-tests-0123456789"


class Terminal:
    """The customer's side of a pseudo-terminal: type lines, read the screen."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.screen = ""

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def read_until(self, text: str, *, timeout_s: float) -> str:
        """Read until ``text`` is on the screen; fail after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while text not in self.screen:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.2))
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # the process ended and closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"{text!r} never appeared; the screen:\n{self.screen}")
                self.screen += chunk.decode(errors="replace")
        return self.screen


@pytest.fixture
def slow_gemini() -> Iterator[FakeGemini]:
    with fake_gemini() as server:
        yield server


def _spawn(tmp_path: Path, server: FakeGemini) -> tuple[subprocess.Popen[bytes], Terminal]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("GEMINI", "GOOGLE", "MAYA_"))},
        "GEMINI_API_KEY": FAKE_KEY,
        "MAYA_GEMINI_BASE_URL": server.base_url,
        "MAYA_FORBID_REAL_MODEL": "1",
        "MAYA_CHAT_LOG": str(tmp_path / "chat.log"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "TERM": "xterm",
    }
    master, slave = os.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "maya.cli", "chat", "--store", "memory://", "--session", "pty"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=tmp_path,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    return process, Terminal(master)


@pytest.mark.slow
def test_a_slow_model_shows_thinking_and_no_log_line_reaches_the_screen(
    tmp_path: Path, slow_gemini: FakeGemini
) -> None:
    slow_gemini.delay_s = 0.8
    slow_gemini.replies += [
        (503, error_body(503, "UNAVAILABLE", "The model is overloaded. Please try later.")),
        (200, text_body("Good evening! What can I pour for you?")),
        (200, function_call_body(("c1", "order_drink", {"name": "Water"}))),
        (200, function_call_body(("c2", "create_stripe_payment", {}))),
        (200, text_body("Your link is ready.")),
    ]
    process, terminal = _spawn(tmp_path, slow_gemini)
    try:
        terminal.read_until("you> ", timeout_s=60)
        terminal.type("hello")
        terminal.read_until("maya is thinking", timeout_s=30)
        terminal.read_until("Good evening! What can I pour for you?", timeout_s=30)
        terminal.read_until("you> ", timeout_s=30)
        # Paying starts the sandbox subprocess, whose banner must not reach the screen.
        terminal.type("a water and the check")
        terminal.read_until("Your link is ready.", timeout_s=60)
        terminal.read_until("you> ", timeout_s=30)
        terminal.type("quit")
        screen = terminal.read_until("Good night!", timeout_s=30)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        os.close(terminal.master)
    assert len(slow_gemini.requests) == 5  # the 503 was retried
    for log_mark in ("WARNING", "ERROR", "gemini call failed", "maya sandbox:", "checkout pages"):
        assert log_mark not in screen, f"{log_mark!r} reached the chat:\n{screen}"
    assert FAKE_KEY not in screen
    log = (tmp_path / "chat.log").read_text()
    assert "gemini call failed: category=server status=503" in log
    # The sandbox's own stderr goes through the payments client's redacting pump (DEBUG,
    # under maya.payments.server.*), so its banner is neither on screen nor a warning here.
    assert "checkout pages" not in log and FAKE_KEY not in log
    assert FAKE_KEY not in log
    assert "Logs go to" in screen
