"""``open_store``: a ``TabStore`` from one URL, as configuration gives it.

``None`` means ``$MAYA_STATE_URL`` if set, else a SQLite file in the user's data
directory, so Maya keeps tabs across restarts with no setup.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import platformdirs

from maya.redact import redact_conninfo
from maya.state.memory import MemoryTabStore
from maya.state.sql import PostgresTabStore, SqliteTabStore
from maya.state.sql.postgres import LOCK_TIMEOUT, STATEMENT_TIMEOUT
from maya.state.sql.sqlite import MEMORY
from maya.state.store import TabStore

__all__ = [
    "STATE_URL_ENV",
    "StoreURLError",
    "default_sqlite_path",
    "open_store",
    "open_usable_store",
]

STATE_URL_ENV = "MAYA_STATE_URL"
"""The environment variable ``open_store(None)`` reads."""

_POSTGRES_SCHEMES = ("postgresql", "postgres")
# Our own query parameters; libpq would reject them, so they are taken out of the URL.
_POOL_OPTIONS = ("schema", "pool_min_size", "pool_max_size", "lock_timeout", "statement_timeout")
# ``host=... password=... dbname=...``: libpq's keyword form, never a file name (a file
# named after it would keep the password on disk, and ``state show`` would print it).
_LIBPQ_KEYWORDS = re.compile(r"^\s*[A-Za-z_]+\s*=")


class StoreURLError(ValueError):
    """A store URL Maya cannot use. The message never contains a password."""


def default_sqlite_path(app_name: str = "maya") -> Path:
    """Where an application's tabs live when nothing is configured:
    ``<user data dir>/<app_name>/state.sqlite3`` (``maya`` is the ``maya`` CLI's)."""
    return Path(platformdirs.user_data_dir(app_name, appauthor=False)) / "state.sqlite3"


_APP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def open_store(
    url: str | None = None, *, app_name: str = "maya", read_only: bool = False
) -> TabStore:
    """Open the store ``url`` names; nothing connects until its first call.

    ``read_only=True`` opens a store only to look: a SQLite file (``SqliteTabStore``:
    a read-only file or directory can be inspected, nothing is created or locked) or a
    PostgreSQL schema (``PostgresTabStore``: nothing is created or migrated; a schema
    without Maya's tables is an error, not made).

    Accepted forms:

    - ``None``: ``$MAYA_STATE_URL`` if set, else SQLite at
      ``default_sqlite_path(app_name)``: give your application's name so its tabs are
      its own (the default, ``maya``, is the ``maya`` CLI's file);
    - ``memory://``: a ``MemoryTabStore`` (one process, gone at exit);
    - ``sqlite:///relative/path``, ``sqlite:////absolute/path``, a bare file path, or
      ``sqlite://`` / ``sqlite:///:memory:`` for a private in-memory database;
    - ``postgresql://...`` or ``postgres://...``, with optional query parameters
      ``schema`` (a PostgreSQL schema for the tables), ``pool_min_size``,
      ``pool_max_size``, ``lock_timeout`` and ``statement_timeout`` (seconds); the
      others go to libpq (``sslmode``...);
    - libpq's keyword form, ``host=... dbname=... password=...``: PostgreSQL with the
      default pool options (never a file name).

    Raises:
        StoreURLError: for an unknown scheme or a malformed parameter, or an
            ``app_name`` that is not a plain name.
    """
    if not isinstance(app_name, str) or not _APP_NAME.match(app_name):
        raise StoreURLError("app_name is 1-64 letters, digits or _.- (a folder name)")
    if url is None:
        url = os.environ.get(STATE_URL_ENV) or None
    if url is None:
        path = default_sqlite_path(app_name)
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteTabStore(path, read_only=read_only)
    url = url.strip()
    if not url:
        raise StoreURLError("the store URL is empty")
    if "://" not in url and _LIBPQ_KEYWORDS.match(url):
        return _postgres_keywords(url, read_only=read_only)
    if "://" not in url:
        # A plain path, including Windows' C:\... which would otherwise look like a scheme.
        return SqliteTabStore(Path(url).expanduser(), read_only=read_only)
    scheme = url.split("://", 1)[0].lower()
    if scheme == "memory":
        return MemoryTabStore()
    if scheme == "sqlite":
        return _sqlite(url, read_only=read_only)
    if scheme in _POSTGRES_SCHEMES:
        return _postgres(url, read_only=read_only)
    raise StoreURLError(
        f"unknown store scheme {scheme!r} in {redact_conninfo(url)!r}: use memory://, "
        "sqlite:///path (or a plain path) or postgresql://user@host/db"
    )


def _sqlite(url: str, *, read_only: bool) -> SqliteTabStore:
    # SQLAlchemy's convention: sqlite:///rel/path, sqlite:////abs/path, sqlite:// = memory.
    rest = url.split("://", 1)[1]
    if rest in ("", "/", f"/{MEMORY}"):
        return SqliteTabStore(MEMORY)  # a private database: nothing to protect
    if not rest.startswith("/"):
        raise StoreURLError(
            f"a SQLite URL has three slashes before a path: sqlite:///{rest} (got {url!r})"
        )
    return SqliteTabStore(Path(rest[1:]).expanduser(), read_only=read_only)


def _postgres_keywords(conninfo: str, *, read_only: bool) -> PostgresTabStore:
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:  # the [postgres] extra is not installed: the store would say so
        return PostgresTabStore(conninfo)
    try:
        conninfo_to_dict(conninfo)
    except Exception:  # psycopg.ProgrammingError; its text may quote the password
        raise StoreURLError(
            f"malformed PostgreSQL keyword string {redact_conninfo(conninfo)!r}: write "
            "key=value pairs (host=... dbname=...) or a postgresql:// URL"
        ) from None
    return PostgresTabStore(conninfo, read_only=read_only)


def _postgres(url: str, *, read_only: bool) -> PostgresTabStore:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsed here so a bad port is refused here
    except ValueError as exc:
        raise StoreURLError(f"malformed PostgreSQL URL ({exc}): {redact_conninfo(url)}") from None
    ours: dict[str, str] = {}
    theirs: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in _POOL_OPTIONS:
            ours[key] = value
        else:
            theirs.append((key, value))
    # quote, not quote_plus: libpq decodes %20 but would keep a '+' (options=-c%20x%3Dy).
    conninfo = urlunsplit(parts._replace(query=urlencode(theirs, quote_via=quote)))
    try:
        min_size = int(ours.get("pool_min_size", "1"))
        max_size = int(ours.get("pool_max_size", "10"))
        return PostgresTabStore(
            conninfo,
            schema=ours.get("schema") or None,
            min_size=min_size,
            max_size=max_size,
            lock_timeout=float(ours.get("lock_timeout", LOCK_TIMEOUT)),
            statement_timeout=float(ours.get("statement_timeout", STATEMENT_TIMEOUT)),
            read_only=read_only,
        )
    except ValueError as exc:
        raise StoreURLError(f"bad pool option in {redact_conninfo(url)!r}: {exc}") from None


_START_TAB = "maya-start-check"
"""The tab ``open_usable_store`` reads (never written)."""


async def open_usable_store(url: str | None) -> TabStore:
    """The store ``url`` names (``open_store``), once a tab has been read from it.

    What ``maya chat`` meets at its first line (``TabManager.get``), checked by ``maya
    mcp`` and ``maya serve`` before they serve: an unusable store (a directory, a file
    that is not a database, a server that does not answer) is refused at start, one line
    and exit status 2 (``maya.cli``), instead of every tab call answering
    ``STORE_UNAVAILABLE``.

    Raises:
        StoreURLError: the URL is unusable.
        StoreError: the store cannot be read (the store is closed again).
    """
    store = open_store(url)
    try:
        await store.load(_START_TAB)
    except BaseException:
        await store.aclose()
        raise
    return store
