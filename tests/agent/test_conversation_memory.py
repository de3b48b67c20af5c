"""Conversation memory in the store: what the model said comes back exactly, in any
process on the store, and stays within its bounds without splitting a call from its
response."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from google.genai import types
from hypothesis import given, settings
from hypothesis import strategies as st

from maya.agent import Agent, ConversationHistory, OfflineModel, history_problems
from maya.agent import history as history_module
from maya.agent.models import calls_response, response_from_parts, text_response
from maya.bar import load_menu
from maya.state import ConversationBounds, MemoryTabStore, StoreError, TabManager
from maya.state.conversations import Conversation
from maya.state.open import open_store
from maya.testing import FakeClock, ScriptedModel
from maya.tools import Toolset
from state.conftest import Backend

pytestmark = pytest.mark.anyio

SESSION = "memory-session"


def _signed_call() -> types.GenerateContentResponse:
    # Gemini 2.5+ signs its thoughts; the signature must come back byte for byte.
    return response_from_parts(
        [
            types.Part(text="", thought_signature=b"\x00\xffsig\x80"),
            types.Part(
                function_call=types.FunctionCall(id="c1", name="order_drink", args={"name": "IPA"})
            ),
        ]
    )


async def test_a_turn_round_trips_with_calls_responses_and_signatures(
    sql_backend: Backend,
) -> None:
    store = sql_backend.open()
    try:
        manager = TabManager(store, catalog=load_menu())
        toolset = Toolset(manager=manager, payments=None)
        first = ScriptedModel([_signed_call(), text_response("One IPA.")])
        worker_a = Agent(model=first, toolset=toolset, manager=manager)
        await worker_a.respond(SESSION, "an IPA please")
        said = types.Content(role="model", parts=[types.Part(text="One IPA.")])
        sent = [*first.requests[1].contents, said]
        assert len(sent) == 4

        # Another process on the same store answers the next turn.
        other = sql_backend.open()
        try:
            other_manager = TabManager(other, catalog=load_menu())
            second = ScriptedModel([text_response("Still one IPA.")])
            worker_b = Agent(
                model=second,
                toolset=Toolset(manager=other_manager, payments=None),
                manager=other_manager,
            )
            result = await worker_b.respond(SESSION, "what did I order?")
        finally:
            await other.aclose()
        contents = second.requests[0].contents
        assert list(contents[:4]) == sent
        assert contents[1].parts is not None
        assert contents[1].parts[0].thought_signature == b"\x00\xffsig\x80"
        assert history_problems(contents) == []
        assert result.turn == 2
    finally:
        await store.aclose()


async def test_bounded_history_never_splits_a_call_from_its_response() -> None:
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    toolset = Toolset(manager=manager, payments=None)
    script: list[types.GenerateContentResponse] = []
    for n in range(6):
        script += [calls_response([("get_balance", {})], start=n), text_response(f"reply {n}")]
    model = ScriptedModel(script)
    # Each turn here is ~600 bytes of JSON: 1500 bytes keep two of them.
    history = ConversationHistory(
        manager.store,
        bounds=ConversationBounds(max_bytes=1500),  # type: ignore[arg-type]
    )
    agent = Agent(model=model, toolset=toolset, manager=manager, history=history)
    for n in range(6):
        await agent.respond(SESSION, f"balance {n}")
    for request in model.requests:
        assert history_problems(request.contents) == []
    last = model.requests[-1].contents
    said = [p.text for c in last for p in c.parts or [] if p.text]
    kept = 3  # of ~470 bytes each
    assert said == [text for n in range(5 - kept, 5) for text in (f"balance {n}", f"reply {n}")] + [
        "balance 5"
    ]


async def test_an_idle_conversation_is_forgotten_by_the_agent() -> None:
    clock = FakeClock(start=1_000_000.0)
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    model = ScriptedModel([text_response("Hi."), text_response("Hello again.")])
    agent = Agent(
        model=model,
        toolset=Toolset(manager=manager, payments=None),
        manager=manager,
        history=ConversationHistory.of(
            manager.store, bounds=ConversationBounds(idle_s=600), clock=clock
        ),
    )
    await agent.respond(SESSION, "hello")
    clock.advance(601)
    result = await agent.respond(SESSION, "hello?")
    assert [c.role for c in model.requests[1].contents] == ["user"]
    assert result.turn == 1


class _DownStore(MemoryTabStore):
    async def load_conversation(
        self, session_id: str, *, now: float, idle_s: float
    ) -> Conversation:
        raise StoreError("conversations table unreachable")

    async def append_conversation_turn(
        self, session_id: str, turn: str, *, now: float, bounds: ConversationBounds
    ) -> None:
        raise StoreError("conversations table unreachable")


async def test_an_unreachable_memory_still_gets_the_customer_an_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager = TabManager(_DownStore(), catalog=load_menu())
    agent = Agent(
        model=OfflineModel(), toolset=Toolset(manager=manager, payments=None), manager=manager
    )
    with caplog.at_level(logging.WARNING, logger="maya.agent"):
        result = await agent.respond(SESSION, "a water please")
    assert result.outcome == "ok" and "Water" in result.reply
    assert "conversation memory unavailable" in caplog.text
    assert "could not be remembered" in caplog.text


async def test_a_chat_resumed_on_a_sqlite_file_remembers_the_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tabs.sqlite3'}"
    for message, expected in (("a Negroni please", "Negroni"), ("same again", "Negroni")):
        store = open_store(url)  # a new process each time, as `maya chat` restarted
        try:
            manager = TabManager(store, catalog=load_menu())
            agent = Agent(
                model=OfflineModel(),
                toolset=Toolset(manager=manager, payments=None),
                manager=manager,
            )
            result = await agent.respond(SESSION, message)
            assert expected in result.reply, result.reply
        finally:
            await store.aclose()
    store = open_store(url)
    try:
        state = await TabManager(store, catalog=load_menu()).get(SESSION)
        assert [(i.name, i.quantity) for i in state.items] == [("Negroni", 1), ("Negroni", 1)]
    finally:
        await store.aclose()


def _turn_text(number: int) -> str:
    contents = [
        types.Content(role="user", parts=[types.Part(text=f"message {number}")]),
        types.Content(role="model", parts=[types.Part(text=f"reply {number % 3}")]),
    ]
    return history_module._TURN.dump_json(contents, exclude_none=True).decode()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.lists(st.integers(0, 12), max_size=8)),
        min_size=1,
        max_size=12,
    )
)
def test_a_sessions_parsed_turns_are_reused_only_where_they_are_the_same(
    reads: list[tuple[int, list[int]]],
) -> None:
    """Whatever each read of a session holds (its last read continued, turns dropped or
    added, another process's turns, a conversation begun again, the same turn twice),
    the contents are those of parsing every turn afresh; a conversation that continues
    the session's last one reuses its parsed contents as they were."""
    parsed = history_module._ParsedTurns(size=4, sessions=3)
    last: dict[str, tuple[tuple[str, ...], list[types.Content]]] = {}
    for session_number, numbers in reads:
        session = f"s{session_number}"
        turns = tuple(_turn_text(number) for number in numbers)
        got = parsed.contents(session, turns)
        fresh = [c for turn in turns for c in history_module._TURN.validate_json(turn)]
        assert got == fresh
        before = last.get(session)
        if (
            before is not None
            and turns
            and before[0]
            and before[0][-1] == turns[0]
            and len(set(before[0])) == len(before[0])
        ):
            # It continues the last read's newest turn: that turn's contents are reused.
            assert got[0] is before[1][-2]
        last[session] = (turns, got)


def test_a_continued_conversation_parses_only_its_new_turns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    parsed = history_module._ParsedTurns(size=1)  # the text cache remembers one turn only
    first = tuple(_turn_text(n) for n in range(40))
    added = _turn_text(40)
    calls: list[str] = []
    validate = history_module._TURN.validate_json

    class Counting:
        @staticmethod
        def validate_json(text: str) -> list[types.Content]:
            calls.append(text)
            return validate(text)

    monkeypatch.setattr(history_module, "_TURN", Counting)
    parsed.contents("bar", first)
    assert len(calls) == 40
    calls.clear()
    # The oldest dropped and one turn added, as every turn past the bound does.
    second = (*first[1:], added)
    assert len(parsed.contents("bar", second)) == 80
    assert calls == [added]
