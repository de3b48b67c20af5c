"""Fixtures for the server tests: the state tests' backends (memory, SQLite, PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from state.conftest import KINDS, Backend, drop_schema, make_backend, postgres_url


@pytest.fixture(params=KINDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """Each store kind in turn, empty."""
    made, schema = make_backend(request.param, tmp_path)
    yield made
    url = postgres_url()
    if schema is not None and url is not None:
        drop_schema(url, schema)


@pytest.fixture(params=[k for k in KINDS if k != "memory"])
def sql_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """SQLite and PostgreSQL in turn, empty."""
    made, schema = make_backend(request.param, tmp_path)
    yield made
    url = postgres_url()
    if schema is not None and url is not None:
        drop_schema(url, schema)
