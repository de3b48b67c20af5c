"""``maya serve --workers 3`` on PostgreSQL: a conversation is remembered whichever worker
answers, each turn over a fresh HTTP connection (real processes, the offline model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import anyio
import httpx
import pytest

from maya.bar import load_menu
from maya.state import TabManager
from maya.state.open import open_store
from maya.web.security import COOKIE_NAME, session_of
from state.conftest import Backend

from .test_serve import clean_env, spawned, url_in

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.postgres]

# "<time> <pid> INFO maya.server POST /api/chat 200 12.3 ms turn 4"
_CHAT_LINE = re.compile(r" (\d+) INFO maya\.server POST /api/chat 200 [\d.]+ ms turn (\d+)")


async def chat(base: str, token: str | None, message: str) -> str:
    """One turn on a connection of its own (a new tab without ``token``); Maya's reply."""
    async with httpx.AsyncClient(base_url=base, headers={"Origin": base}, timeout=30) as browser:
        if token is None:
            token = (await browser.get("/")).cookies[COOKIE_NAME]
        browser.cookies.set(COOKIE_NAME, token)
        answer = await browser.post("/api/chat", json={"message": message})
    assert answer.status_code == 200, answer.text
    done = [
        json.loads(block.split("data: ", 1)[1])
        for block in answer.text.split("\n\n")
        if block.startswith("event: done")
    ]
    assert len(done) == 1, answer.text
    reply: str = done[0]["reply"]
    return reply


def workers_by_turn(log: Path) -> dict[int, str]:
    """Which process answered each turn numbered 2 or more (only the test's own session
    has those: every other session says one thing)."""
    return {
        int(m.group(2)): m.group(1)
        for m in _CHAT_LINE.finditer(log.read_text())
        if m.group(2) != "1"
    }


async def test_any_worker_continues_the_conversation(tmp_path: Path, pg_backend: Backend) -> None:
    log = tmp_path / "serve.log"
    async with spawned(
        ["-m", "maya.cli", "serve", "--workers", "3", "--port", "0", "--store", pg_backend.url],
        env=clean_env(tmp_path),
        cwd=tmp_path,
        announce="listening on",
        on_stdout=True,
        log=log,
    ) as (_, line):
        base = url_in(line, "listening on ")
        # Workers may still be starting: the socket queues the first request meanwhile.
        async with httpx.AsyncClient(base_url=base, timeout=30) as browser:
            token = (await browser.get("/")).cookies[COOKIE_NAME]
        with anyio.fail_after(100):
            assert "Negroni" in await chat(base, token, "a Negroni please")
            turns = 1
            # "Same again" is read from the conversation: a worker that had forgotten it
            # would answer that there is nothing to repeat. Each turn goes on a new
            # connection beside a crowd of other new tabs, so the kernel hands it to
            # whichever worker is free: on until three workers have answered this session.
            while len(set(workers_by_turn(log).values())) < 3 and turns < 16:
                async with anyio.create_task_group() as group:
                    for _ in range(4):
                        group.start_soon(chat, base, None, "hello")
                    reply = await chat(base, token, "same again")
                assert "Negroni" in reply, reply
                turns += 1
                with anyio.fail_after(5):  # the log line follows the response
                    while turns not in workers_by_turn(log):  # noqa: ASYNC110 - a file
                        await anyio.sleep(0.05)
        answered_by = workers_by_turn(log)
        assert sorted(answered_by) == list(range(2, turns + 1))
        assert len(set(answered_by.values())) >= 2, log.read_text()
    store = open_store(pg_backend.url)
    try:
        state = await TabManager(store, catalog=load_menu()).get(session_of(token))
        assert sum(item.quantity for item in state.items) == turns
        assert {item.name for item in state.items} == {"Negroni"}
    finally:
        await store.aclose()
