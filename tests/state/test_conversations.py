"""Conversation memory in every store: bounded by turns and bytes, forgotten when idle,
shared by every process on the store."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import pytest

from maya.state import ConversationBounds, ConversationStore, TabStore
from maya.state.conversations import PRUNE_EVERY, MemoryConversations
from maya.state.sql._conversations import RecentConversations, Version
from maya.state.sql.sqlite import SqliteTabStore

from .conftest import Backend

pytestmark = pytest.mark.anyio

HOUR = 3600.0


def memory_of(store: TabStore) -> ConversationStore:
    assert isinstance(store, ConversationStore)
    return store


async def test_the_oldest_turns_go_first_beyond_the_turn_bound(store: TabStore) -> None:
    memory = memory_of(store)
    bounds = ConversationBounds(max_turns=2)
    for n in range(5):
        await memory.append_conversation_turn("bar", f"turn {n}", now=100.0 + n, bounds=bounds)
    kept = await memory.load_conversation("bar", now=110.0, idle_s=HOUR)
    assert kept.turns == ("turn 3", "turn 4")
    assert kept.count == 5  # the next turn is number 6


async def test_the_oldest_turns_go_first_beyond_the_byte_bound(store: TabStore) -> None:
    memory = memory_of(store)
    bounds = ConversationBounds(max_bytes=25)
    for text in ("a" * 10, "b" * 10, "é" * 5, "c" * 10):  # "é" is 2 bytes: 10 in all
        await memory.append_conversation_turn("bar", text, now=1.0, bounds=bounds)
    assert (await memory.load_conversation("bar", now=1.0, idle_s=HOUR)).turns == (
        "é" * 5,
        "c" * 10,
    )
    # A turn larger than the bound on its own is not kept at all, nor is anything older.
    await memory.append_conversation_turn("bar", "d" * 26, now=2.0, bounds=bounds)
    kept = await memory.load_conversation("bar", now=2.0, idle_s=HOUR)
    assert (kept.turns, kept.count) == ((), 5)


async def test_an_idle_conversation_is_forgotten_and_pruned_by_the_next_to_begin(
    store: TabStore,
) -> None:
    memory = memory_of(store)
    bounds = ConversationBounds(idle_s=HOUR)
    await memory.append_conversation_turn("old", "hello", now=0.0, bounds=bounds)
    await memory.append_conversation_turn("recent", "hi", now=HOUR - 10, bounds=bounds)
    assert (await memory.load_conversation("old", now=HOUR, idle_s=HOUR)).turns == ("hello",)
    assert (await memory.load_conversation("old", now=HOUR + 1, idle_s=HOUR)).turns == ()
    # Another conversation beginning deletes it: a reader with no idle limit finds nothing.
    await memory.append_conversation_turn("other", "hey", now=HOUR + 1, bounds=bounds)
    gone = await memory.load_conversation("old", now=HOUR + 1, idle_s=1e12)
    assert (gone.turns, gone.count) == ((), 0)
    recent = await memory.load_conversation("recent", now=HOUR + 1, idle_s=HOUR)
    assert recent.turns == ("hi",)


async def test_a_long_conversation_prunes_idle_ones_as_it_goes(store: TabStore) -> None:
    memory = memory_of(store)
    bounds = ConversationBounds(idle_s=100)
    await memory.append_conversation_turn("old", "hello", now=0.0, bounds=bounds)
    for n in range(PRUNE_EVERY):  # one turn every 7 s: never idle itself
        if n == PRUNE_EVERY - 1:
            kept = await memory.load_conversation("old", now=1e6, idle_s=1e12)
            assert kept.turns == ("hello",)  # idle for a while, not yet pruned
        await memory.append_conversation_turn("long", f"turn {n}", now=1.0 + 7 * n, bounds=bounds)
    # The 16th turn, at 106 s, looked: "old" (idle since 0 s) is gone.
    gone = await memory.load_conversation("old", now=1e6, idle_s=1e12)
    assert (gone.turns, gone.count) == ((), 0)
    assert (await memory.load_conversation("long", now=106.0, idle_s=100)).count == PRUNE_EVERY


async def test_a_session_back_after_its_idle_time_starts_a_new_conversation(
    store: TabStore,
) -> None:
    memory = memory_of(store)
    bounds = ConversationBounds(idle_s=60)
    await memory.append_conversation_turn("bar", "first", now=0.0, bounds=bounds)
    await memory.append_conversation_turn("bar", "second", now=61.0, bounds=bounds)
    kept = await memory.load_conversation("bar", now=61.0, idle_s=60)
    assert (kept.turns, kept.count) == (("second",), 1)


async def test_sessions_keep_their_own_conversations(store: TabStore) -> None:
    memory = memory_of(store)
    bounds = ConversationBounds()
    await memory.append_conversation_turn("a", "for a", now=1.0, bounds=bounds)
    await memory.append_conversation_turn("b", "for b", now=1.0, bounds=bounds)
    assert (await memory.load_conversation("a", now=1.0, idle_s=HOUR)).turns == ("for a",)
    assert (await memory.load_conversation("b", now=1.0, idle_s=HOUR)).turns == ("for b",)
    assert (await memory.load_conversation("c", now=1.0, idle_s=HOUR)).count == 0


async def test_another_process_on_the_store_continues_the_conversation(
    sql_backend: Backend,
) -> None:
    bounds = ConversationBounds(max_turns=50)
    first, second = sql_backend.open(), sql_backend.open()
    try:
        one, two = memory_of(first), memory_of(second)

        async def append(memory: ConversationStore, label: str) -> None:
            for n in range(10):
                await memory.append_conversation_turn("bar", f"{label}{n}", now=1.0, bounds=bounds)

        # Two writers at once on one session: every turn is kept, none twice.
        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                group.start_soon(append, one, "x")
                group.start_soon(append, two, "y")
        kept = await two.load_conversation("bar", now=1.0, idle_s=HOUR)
        assert kept.count == 20
        assert sorted(kept.turns) == sorted(
            [f"x{n}" for n in range(10)] + [f"y{n}" for n in range(10)]
        )
        assert [t for t in kept.turns if t[0] == "x"] == [f"x{n}" for n in range(10)]
    finally:
        await first.aclose()
        await second.aclose()


def test_bounds_come_from_the_environment_and_refuse_nonsense() -> None:
    bounds = ConversationBounds.from_env(
        {"MAYA_CONVERSATION_MAX_TURNS": "8", "MAYA_CONVERSATION_IDLE_S": "90"}
    )
    assert (bounds.max_turns, bounds.max_bytes, bounds.idle_s) == (8, 256_000, 90.0)
    with pytest.raises(ValueError, match="MAYA_CONVERSATION_MAX_BYTES must be a number"):
        ConversationBounds.from_env({"MAYA_CONVERSATION_MAX_BYTES": "lots"})
    with pytest.raises(ValueError, match="idle_s > 0"):
        ConversationBounds.from_env({"MAYA_CONVERSATION_IDLE_S": "0"})


async def test_every_store_keeps_what_the_bounds_keep_whatever_the_sizes(store: TabStore) -> None:
    """The SQL trim (a key range while the bytes fit, a walk newest first when they do not)
    keeps exactly the turns ``kept_from`` keeps, bounds changing between turns included."""
    memory = memory_of(store)
    reference = MemoryConversations()
    randomness = random.Random(24)
    for session in range(30):
        name = f"s{session}"
        for _ in range(randomness.randrange(1, 25)):
            bounds = ConversationBounds(
                max_turns=randomness.randrange(1, 8), max_bytes=randomness.randrange(1, 60)
            )
            turn = "x" * randomness.randrange(0, 30)
            for kept in (memory, reference):
                await kept.append_conversation_turn(name, turn, now=1.0, bounds=bounds)
            ours = await memory.load_conversation(name, now=1.0, idle_s=HOUR)
            theirs = await reference.load_conversation(name, now=1.0, idle_s=HOUR)
            assert (ours.turns, ours.count) == (theirs.turns, theirs.count), (session, bounds)


def _remembered(store: TabStore, session: str) -> Version | None:
    recent = getattr(store, "_recent", None)
    assert isinstance(recent, RecentConversations)
    return recent.get(session)


def _forgetful(store: TabStore) -> ConversationStore:
    """``store`` remembering nothing: every read fetches the turns' bodies."""
    assert isinstance(getattr(store, "_recent", None), RecentConversations)
    store._recent = RecentConversations(sessions=0)  # type: ignore[attr-defined]
    return memory_of(store)


async def test_a_store_reads_a_conversation_it_knows_without_its_bodies(
    sql_backend: Backend,
) -> None:
    first, second = sql_backend.open(), sql_backend.open()
    try:
        one, two = memory_of(first), memory_of(second)
        bounds = ConversationBounds(max_turns=3)
        for n in range(5):
            await one.append_conversation_turn("bar", f"turn {n}", now=10.0 + n, bounds=bounds)
        known = _remembered(first, "bar")
        # What its own appends left, trimmed as the database trimmed it.
        assert known is not None and (known.count, known.last_at) == (5, 14.0)
        assert known.turns == ("turn 2", "turn 3", "turn 4")
        kept = await one.load_conversation("bar", now=20.0, idle_s=HOUR)
        assert kept.turns is known.turns and kept.count == 5  # no body was read
        # Another process's turn changes the row's version: the bodies are read again.
        await two.append_conversation_turn("bar", "theirs", now=15.0, bounds=bounds)
        kept = await one.load_conversation("bar", now=20.0, idle_s=HOUR)
        assert (kept.turns, kept.count) == (("turn 3", "turn 4", "theirs"), 6)
        # Its next turn builds on what it has read: still no read of the bodies after it.
        await one.append_conversation_turn("bar", "mine", now=16.0, bounds=bounds)
        kept = await one.load_conversation("bar", now=20.0, idle_s=HOUR)
        assert (kept.turns, kept.count) == (("turn 4", "theirs", "mine"), 7)
        assert kept.turns is (_remembered(first, "bar") or known).turns
        # Another process's turn it has not read: its own next one cannot know the rest.
        await two.append_conversation_turn("bar", "again", now=17.0, bounds=bounds)
        await one.append_conversation_turn("bar", "late", now=18.0, bounds=bounds)
        assert _remembered(first, "bar") is None
        kept = await one.load_conversation("bar", now=20.0, idle_s=HOUR)
        assert (kept.turns, kept.count) == (("mine", "again", "late"), 9)
    finally:
        await first.aclose()
        await second.aclose()


@contextmanager
def _trims(store: SqliteTabStore) -> Iterator[list[str]]:
    """How ``store`` drops turns, on any of its connections, meanwhile: ``"trim"`` for the
    database's ``TRIM``, ``"range"`` for a known conversation's ``DROP_BEFORE``."""
    trims: list[str] = []
    connections = [store._connection, store._loop_connection, store._loop_synced]
    opened = [connection for connection in connections if connection is not None]
    assert len(opened) == 3

    def note(statement: str) -> None:
        if statement.startswith("DELETE FROM conversation_turns") and "seq <=" in statement:
            trims.append("trim")
        elif statement.startswith("DELETE FROM conversation_turns") and "seq <" in statement:
            trims.append("range")

    for connection in opened:
        connection.set_trace_callback(note)
    try:
        yield trims
    finally:
        for connection in opened:
            connection.set_trace_callback(None)


async def test_only_an_unknown_conversation_asks_the_database_what_to_drop(
    tmp_path: Path,
) -> None:
    """``TRIM`` (which sums the session's bytes) runs when the database alone knows what
    to drop: rows another process appended. An append that derives the conversation
    sends nothing when it keeps every turn and deletes a range of the key when a bound is
    reached; the database still holds exactly the turns kept."""
    path = tmp_path / "tabs.sqlite3"
    first, second, truth = SqliteTabStore(path), SqliteTabStore(path), SqliteTabStore(path)
    _forgetful(truth)
    bounds = ConversationBounds(max_turns=3)

    async def append(store: SqliteTabStore, turn: str) -> list[str]:
        with _trims(store) as trims:
            await store.append_conversation_turn("bar", turn, now=1.0, bounds=bounds)
        return trims

    async def held() -> tuple[str, ...]:
        return (await truth.load_conversation("bar", now=1.0, idle_s=HOUR)).turns

    try:
        for store in (first, second, truth):  # its connections open with its first call
            await store.load_conversation("bar", now=1.0, idle_s=HOUR)
        assert [await append(first, f"t{n}") for n in range(3)] == [[], [], []]
        assert await held() == ("t0", "t1", "t2")
        assert await append(first, "t3") == ["range"]  # the turn bound: t0 goes
        assert await held() == ("t1", "t2", "t3")
        # Another process's turn: the first knows its rows no longer, so the database trims.
        assert await append(second, "theirs") == ["trim"]
        assert await append(first, "mine") == ["trim"]
        assert await held() == ("t3", "theirs", "mine")
        # Read again, it is known: a turn within the bounds sends nothing.
        bounds = ConversationBounds(max_turns=5)
        await first.load_conversation("bar", now=1.0, idle_s=HOUR)
        assert await append(first, "more") == []
        assert await held() == ("t3", "theirs", "mine", "more")
        # The byte bound counts too, and can drop several turns at once.
        bounds = ConversationBounds(max_turns=5, max_bytes=len("t3theirsminemorex"))
        assert await append(first, "x") == []
        assert await append(first, "y") == ["range"]  # one byte over: t3 goes
        assert await held() == ("theirs", "mine", "more", "x", "y")
        bounds = ConversationBounds(max_turns=5, max_bytes=len("morexyz"))
        assert await append(first, "z") == ["range"]  # theirs and mine go together
        assert await held() == ("more", "x", "y", "z")
    finally:
        for store in (first, second, truth):
            await store.aclose()


async def test_what_a_store_remembers_is_what_the_database_holds(sql_backend: Backend) -> None:
    """Two processes appending and reading in a random order, with bounds changing, turns
    of every size and idle gaps: each reads exactly what a store remembering nothing
    reads from the database."""
    stores = [sql_backend.open() for _ in range(3)]
    try:
        one, two = memory_of(stores[0]), memory_of(stores[1])
        truth = _forgetful(stores[2])
        randomness = random.Random(2412)
        now = 0.0
        for step in range(300):
            session = f"s{randomness.randrange(3)}"
            writer = randomness.choice((one, two))
            now += randomness.choice((1.0, 1.0, 1.0, 61.0))  # now and then idle
            bounds = ConversationBounds(
                max_turns=randomness.randrange(1, 8),
                max_bytes=randomness.randrange(1, 200),
                idle_s=60.0,
            )
            turn = f"{step}:" + "é" * randomness.randrange(0, 25)
            if randomness.random() < 0.7:
                await writer.append_conversation_turn(session, turn, now=now, bounds=bounds)
            for reader in (one, two):
                ours = await reader.load_conversation(session, now=now, idle_s=60.0)
                theirs = await truth.load_conversation(session, now=now, idle_s=60.0)
                assert (ours.turns, ours.count) == (theirs.turns, theirs.count), step
    finally:
        for opened in stores:
            await opened.aclose()


async def test_an_idle_conversation_is_not_continued_from_memory(sql_backend: Backend) -> None:
    # The version held is idle by the writer's clock: another process may have begun the
    # conversation again since (and brought it back to the same count), so the append
    # derives nothing from it.
    first, second = sql_backend.open(), sql_backend.open()
    try:
        one, two = memory_of(first), memory_of(second)
        bounds = ConversationBounds(idle_s=60.0)
        await one.append_conversation_turn("bar", "old", now=0.0, bounds=bounds)
        await two.append_conversation_turn("bar", "theirs", now=100.0, bounds=bounds)
        await one.append_conversation_turn("bar", "mine", now=101.0, bounds=bounds)
        assert _remembered(first, "bar") is None
        kept = await one.load_conversation("bar", now=102.0, idle_s=60.0)
        assert (kept.turns, kept.count) == (("theirs", "mine"), 2)
    finally:
        await first.aclose()
        await second.aclose()


def test_recent_conversations_stay_within_their_bounds() -> None:
    recent = RecentConversations(sessions=2, max_bytes=10)

    def version(*sizes: int) -> Version:
        return Version(len(sizes), 1.0, tuple("x" * size for size in sizes), sizes)

    a, b, c = version(3), version(4), version(2)
    recent.settle("a", a, known=None)
    recent.settle("b", b, known=None)
    recent.settle("c", c, known=None)  # three sessions: the least recently used goes
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (None, b, c)
    big = version(5, 4)
    recent.settle("b", big, known=b)  # 9 + 2 bytes: over 10, the oldest (c) goes
    assert (recent.get("b"), recent.get("c"), len(recent)) == (big, None, 1)
    recent.settle("d", version(11), known=None)  # larger than all of it: not kept
    assert recent.get("d") is None and recent.get("b") == big
    # Settled from a version no longer held (another call settled it meanwhile): forgotten.
    recent.settle("b", version(1), known=b)
    assert recent.get("b") is None
