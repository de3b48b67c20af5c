"""A tab's currency is kept by every store, and a database from before currencies upgrades
with its tabs in US dollars."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from maya.bar import load_menu
from maya.state import SqliteTabStore, TabManager, TabStore
from maya.state.catalog import Catalog
from maya.state.sql import _schema

from .conftest import Backend

pytestmark = pytest.mark.anyio


async def test_every_store_keeps_the_tabs_currency(backend: Backend, store: TabStore) -> None:
    catalog = Catalog({"Onigiri": "180"}, merchant="Kiosk", currency="jpy")
    await TabManager(store, catalog=catalog).order("k1", "Onigiri", 3)
    again = backend.open()
    try:
        state = await TabManager(again, catalog=catalog).get("k1")
    finally:
        if again is not store:
            await again.aclose()
    assert state.currency == "jpy" and state.tab_cents == 540


async def test_a_version_2_database_is_upgraded_with_its_tabs_in_dollars(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute(_schema.SCHEMA_TABLE_DDL)
        for statement in (*_schema.DDL, *_schema.EVENTS_DDL):
            connection.execute(statement)
        connection.execute("INSERT INTO maya_schema (id, version) VALUES (1, 2)")
        connection.execute("INSERT INTO tabs VALUES ('old', 100000, 0, 1, NULL, 0, 0, 0, 0)")
    async with SqliteTabStore(path) as store:
        state = await TabManager(store, catalog=load_menu()).get("old")
    assert state.currency == "usd" and state.balance_cents == 100000
    with sqlite3.connect(path) as connection:
        version = connection.execute("SELECT version FROM maya_schema").fetchone()
    assert version == (_schema.SCHEMA_VERSION,)
