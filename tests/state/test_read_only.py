"""Looking at tabs never writes: ``maya state show`` works on a read-only SQLite file.

A read-only store opens the file with ``mode=ro``: it creates nothing, migrates nothing
and never takes the write lock, so it reads a file another process is writing, a file
it may not write, and a file in a directory it may not write.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import anyio
import pytest

from maya.bar import load_menu
from maya.state.manager import TabManager
from maya.state.open import open_store
from maya.state.sql import SqliteTabStore, StoreError
from maya.testing import FakeClock

from ._scenarios import EPOCH, rich_tab
from .conftest import Backend

pytestmark = pytest.mark.anyio


async def _written(path: Path) -> dict[str, object]:
    async with SqliteTabStore(path) as store:
        state = await rich_tab(TabManager(store, clock=FakeClock(EPOCH), catalog=load_menu()), "s1")
    return state.model_dump(mode="json")


async def test_a_read_only_store_reads_while_another_process_holds_the_write_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tabs.sqlite3"
    written = await _written(path)
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        async with SqliteTabStore(path, read_only=True, busy_timeout=30) as store:
            with anyio.fail_after(10):
                state = await store.load("s1")
                assert await store.session_ids() == ["s1"]
                assert await store.load("nobody") is None
        assert state is not None and state.model_dump(mode="json") == written
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_a_read_only_store_changes_nothing_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "tabs.sqlite3"
    await _written(path)
    before = path.read_bytes()
    store = open_store(str(path), read_only=True)
    assert isinstance(store, SqliteTabStore) and store.read_only
    async with store:
        with pytest.raises(StoreError, match="read-only"):
            await TabManager(store, catalog=load_menu()).order("s1", "Water")
    assert path.read_bytes() == before
    missing = tmp_path / "missing.sqlite3"
    async with SqliteTabStore(missing, read_only=True) as store:
        with pytest.raises(StoreError, match="unable to open"):
            await store.load("s1")
    assert not missing.exists()


async def test_a_read_only_store_on_a_file_without_tabs_has_no_sessions(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    sqlite3.connect(path).close()
    async with SqliteTabStore(path, read_only=True) as store:
        assert await store.session_ids() == []
        assert await store.load("s1") is None


def test_a_read_only_memory_database_is_refused() -> None:
    with pytest.raises(ValueError, match="read-only"):
        SqliteTabStore(":memory:", read_only=True)


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory another user can reach (pytest's own tmp_path is root's alone)."""
    with tempfile.TemporaryDirectory(prefix="maya-ro-") as directory:
        path = Path(directory)
        path.chmod(0o755)
        yield path
        path.chmod(0o755)


def _as_reader() -> list[str]:
    """A command prefix under which file modes bind us.

    Root ignores them (capability ``CAP_DAC_OVERRIDE``); ``setpriv`` runs the command as
    root without that capability, so a 0444 file really is read-only to it.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: file modes cannot bind")
    drop = "-dac_override,-dac_read_search,-fowner"
    return [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}"]


@pytest.mark.slow
@pytest.mark.parametrize("locked", ["file", "file and directory"])
async def test_maya_state_show_reads_a_read_only_file(shared_dir: Path, locked: str) -> None:
    path = shared_dir / "tabs.sqlite3"
    written = await _written(path)
    before = path.read_bytes()
    os.chmod(path, 0o444)
    if locked == "file and directory":
        os.chmod(shared_dir, 0o555)
    command = [*_as_reader(), sys.executable, "-m", "maya.cli", "state", "--store", str(path)]
    with anyio.fail_after(60):
        shown = await anyio.run_process([*command, "show", "s1", "--json"], check=False)
    assert shown.returncode == 0, shown.stderr.decode()
    assert json.loads(shown.stdout) == written
    assert path.read_bytes() == before


async def test_a_read_only_postgres_store_creates_no_schema_and_changes_nothing(
    pg_backend: Backend,
) -> None:
    """A mistyped schema given to ``maya state show`` used to be created, tables and all,
    and shown as a fresh $1,000 tab; now it is said to hold no Maya tables. An existing
    one is read, and nothing can be written through a read-only store."""
    import psycopg

    schema = dict(parse_qsl(urlsplit(pg_backend.url).query))["schema"]
    plain = pg_backend.url.split("?", 1)[0]
    missing = open_store(pg_backend.url, read_only=True)
    with pytest.raises(StoreError, match="holds no Maya tables"):
        await missing.load("s1")
    await missing.aclose()
    with psycopg.connect(plain, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)
        ).fetchone()
    assert row == (0,)  # not created
    async with pg_backend.open() as writer:  # type: ignore[attr-defined]
        await TabManager(writer, catalog=load_menu()).order("s1", "Martini")
    reader = open_store(pg_backend.url, read_only=True)
    try:
        state = await reader.load("s1")
        assert state is not None and state.tab_cents == 1300
        with pytest.raises(StoreError, match="read-only"):
            await TabManager(reader, catalog=load_menu()).order("s1", "Water")
    finally:
        await reader.aclose()
