"""The PostgreSQL server the benchmarks measure on, and the schemas they leave behind."""

from __future__ import annotations

import os

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    """``$MAYA_BENCH_POSTGRES_URL``, else ``$MAYA_TEST_POSTGRES_URL``, else the local server."""
    return (
        os.environ.get("MAYA_BENCH_POSTGRES_URL")
        or os.environ.get("MAYA_TEST_POSTGRES_URL")
        or DEFAULT_POSTGRES
    )


def postgres_answers(url: str) -> bool:
    """Whether a connection to ``url`` opens within 3 s."""
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3):
            return True
    except Exception:
        return False


def drop_schema(url: str, schema: str) -> None:
    """Remove a benchmark's schema and everything in it."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
