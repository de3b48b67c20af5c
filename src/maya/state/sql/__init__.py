"""SQL stores for the tab: SQLite (the default) and PostgreSQL, sharing one schema."""

from maya.state.errors import StoreError
from maya.state.sql._schema import SCHEMA_VERSION
from maya.state.sql.postgres import PostgresTabStore
from maya.state.sql.sqlite import SqliteTabStore

__all__ = ["SCHEMA_VERSION", "PostgresTabStore", "SqliteTabStore", "StoreError"]
