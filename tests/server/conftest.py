"""Fixtures for the server tests: the state tests' backends (memory, SQLite, PostgreSQL).

The fixtures are the state tests' own, re-exported so pytest finds them here too.
"""

from state.conftest import backend, pg_backend, sql_backend

__all__ = ["backend", "pg_backend", "sql_backend"]
