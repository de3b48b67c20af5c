"""``open_store``: one URL picks the store; secrets never reach an error message."""

from __future__ import annotations

from pathlib import Path

import pytest

from maya.redact import redact_conninfo as redact
from maya.state.memory import MemoryTabStore
from maya.state.open import STATE_URL_ENV, StoreURLError, default_sqlite_path, open_store
from maya.state.sql import PostgresTabStore, SqliteTabStore


def test_memory_url_opens_a_memory_store() -> None:
    assert isinstance(open_store("memory://"), MemoryTabStore)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///relative/tabs.db", "relative/tabs.db"),
        ("sqlite:////abs/tabs.db", "/abs/tabs.db"),
        ("SQLITE:////abs/tabs.db", "/abs/tabs.db"),
        ("/abs/tabs.db", "/abs/tabs.db"),
        ("tabs.db", "tabs.db"),
        ("  tabs.db  ", "tabs.db"),
        (r"C:\maya\tabs.db", r"C:\maya\tabs.db"),
        ("sqlite://", ":memory:"),
        ("sqlite:///", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_urls_and_paths(url: str, path: str) -> None:
    store = open_store(url)
    assert isinstance(store, SqliteTabStore)
    assert store.path == path


def test_home_is_expanded_in_sqlite_paths() -> None:
    store = open_store("~/tabs.db")
    assert isinstance(store, SqliteTabStore)
    assert store.path == str(Path.home() / "tabs.db")


def test_sqlite_url_with_two_slashes_is_explained() -> None:
    with pytest.raises(StoreURLError, match="three slashes"):
        open_store("sqlite://tabs.db")


def test_default_is_a_sqlite_file_in_the_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(STATE_URL_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store = open_store(None)
    assert isinstance(store, SqliteTabStore)
    assert Path(store.path) == default_sqlite_path()
    assert Path(store.path) == tmp_path / "data" / "maya" / "state.sqlite3"
    assert Path(store.path).parent.is_dir()


def test_the_environment_names_the_store_when_no_url_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(STATE_URL_ENV, "memory://")
    assert isinstance(open_store(None), MemoryTabStore)
    assert isinstance(open_store(), MemoryTabStore)
    # An explicit URL wins over the environment.
    assert isinstance(open_store("sqlite://"), SqliteTabStore)


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "PostgreSQL"])
def test_postgres_urls(scheme: str) -> None:
    store = open_store(f"{scheme}://maya@db.example:5432/tabs?sslmode=require")
    assert isinstance(store, PostgresTabStore)
    assert store.schema is None
    assert "sslmode=require" in repr(store)


def test_postgres_pool_options_are_taken_from_the_query() -> None:
    store = open_store(
        "postgresql://maya@db/tabs?schema=bar&pool_min_size=0&pool_max_size=3&sslmode=disable"
    )
    assert isinstance(store, PostgresTabStore)
    assert store.schema == "bar"
    assert store._min_size == 0 and store._max_size == 3
    assert "pool_" not in store._conninfo and "schema" not in store._conninfo
    assert store._conninfo.endswith("?sslmode=disable")


def test_libpq_options_survive_with_spaces_encoded_for_libpq() -> None:
    store = open_store("postgresql://maya@db/tabs?options=-c%20search_path%3Dx&schema=s")
    assert isinstance(store, PostgresTabStore)
    assert store._conninfo == "postgresql://maya@db/tabs?options=-c%20search_path%3Dx"


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://maya:hunter2@db/tabs?pool_max_size=many",
        "postgresql://maya:hunter2@db/tabs?pool_min_size=4&pool_max_size=2",
    ],
)
def test_bad_pool_options_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(StoreURLError, match="bad pool option") as caught:
        open_store(url)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["mysql://root:hunter2@db/maya", "redis://:hunter2@cache", "http://x", "file:///tmp/x"]
)
def test_unknown_schemes_are_refused_without_the_password(url: str) -> None:
    with pytest.raises(StoreURLError, match="unknown store scheme") as caught:
        open_store(url)
    assert "hunter2" not in str(caught.value)
    assert "postgresql://" in str(caught.value)


def test_an_empty_url_is_refused() -> None:
    with pytest.raises(StoreURLError, match="empty"):
        open_store("   ")


@pytest.mark.parametrize(
    ("conninfo", "shown"),
    [
        ("postgresql://maya:hunter2@db:5432/tabs", "postgresql://maya:***@db:5432/tabs"),
        ("postgresql://maya@db/tabs", "postgresql://maya@db/tabs"),
        ("postgresql://db/tabs?password=hunter2&x=1", "postgresql://db/tabs?password=***&x=1"),
        ("postgresql://a:b:c@db/t", "postgresql://a:***@db/t"),
        ("host=db password=hunter2 user=maya", "host=db password=*** user=maya"),
        ("host=db password = 'hun ter2' user=maya", "host=db password = *** user=maya"),
        ("postgresql://[bad", "<unparseable connection URL>"),
    ],
)
def test_redact_hides_passwords(conninfo: str, shown: str) -> None:
    assert redact(conninfo) == shown
