"""Fixtures for the state tests: one parametrised backend per store kind.

PostgreSQL runs only when ``MAYA_TEST_POSTGRES_URL`` is set. The database may be shared
(CI uses one ``test`` database), so every PostgreSQL backend gets its own schema,
dropped when the test ends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from maya.state.memory import MemoryTabStore
from maya.state.open import open_store
from maya.state.store import TabStore

POSTGRES_ENV = "MAYA_TEST_POSTGRES_URL"
KINDS = ("memory", "sqlite", "postgres")


def postgres_url() -> str | None:
    """The test server's URL, or None when PostgreSQL tests should skip."""
    return os.environ.get(POSTGRES_ENV) or None


def drop_schema(url: str, schema: str) -> None:
    """Remove a test schema and everything in it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )


@dataclass
class Backend:
    """Where a test's tabs live, openable more than once (like separate processes).

    Attributes:
        kind: ``memory``, ``sqlite`` or ``postgres``.
        url: what ``open_store`` is given; the memory backend shares one store instead.
    """

    kind: str
    url: str
    _memory: MemoryTabStore = field(default_factory=MemoryTabStore)

    def open(self) -> TabStore:
        """A store on this backend; for memory, the same one every time."""
        return self._memory if self.kind == "memory" else open_store(self.url)


def make_backend(kind: str, tmp_path: Path) -> tuple[Backend, str | None]:
    """A fresh backend of ``kind`` and the PostgreSQL schema to drop afterwards."""
    if kind == "memory":
        return Backend(kind, "memory://"), None
    if kind == "sqlite":
        return Backend(kind, f"sqlite:///{tmp_path / 'state.sqlite3'}"), None
    url = postgres_url()
    if url is None:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    schema = f"maya_test_{uuid.uuid4().hex[:12]}"
    query = [f"schema={schema}"]
    if "options=" not in url:
        # Tests do not need commits to survive a power cut; skipping the WAL flush makes
        # each write ~5x faster. Visibility and locking are unchanged.
        query.append("options=-c%20synchronous_commit%3Doff")
    separator = "&" if "?" in url else "?"
    return Backend(kind, f"{url}{separator}{'&'.join(query)}"), schema


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each store kind in turn, empty."""
    kind: str = request.param
    made, schema = make_backend(kind, tmp_path)
    yield made
    url = postgres_url()
    if schema is not None and url is not None:
        drop_schema(url, schema)


@pytest.fixture(params=[k for k in KINDS if k != "memory"])
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each durable (SQL) store kind in turn, empty."""
    made, schema = make_backend(request.param, tmp_path)
    yield made
    url = postgres_url()
    if schema is not None and url is not None:
        drop_schema(url, schema)


@pytest.fixture
def pg_backend(tmp_path: Path) -> Iterator[Backend]:
    """An empty PostgreSQL backend (skipped without ``MAYA_TEST_POSTGRES_URL``)."""
    made, schema = make_backend("postgres", tmp_path)
    yield made
    url = postgres_url()
    if schema is not None and url is not None:
        drop_schema(url, schema)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[TabStore]:
    """An open store of each kind, closed after the test."""
    opened = backend.open()
    try:
        yield opened
    finally:
        await opened.aclose()
