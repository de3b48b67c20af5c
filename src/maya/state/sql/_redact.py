"""Connection strings without their secrets, for errors and reprs."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

__all__ = ["redact"]

_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"((?:^|&)password=)[^&]*", re.IGNORECASE)


def redact(conninfo: str) -> str:
    """``conninfo`` with any password replaced by ``***``.

    Handles URLs (``postgresql://user:secret@host/db?password=...``) and libpq
    keyword strings (``host=... password=secret``). Text that is neither is returned
    with keyword passwords masked, which is the worst a typo can leak.
    """
    if "://" not in conninfo:
        return _KEYWORD_PASSWORD.sub(r"\1***", conninfo)
    try:
        parts = urlsplit(conninfo)
        netloc = parts.netloc
    except ValueError:
        return "<unparseable connection URL>"
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:***@{host}" if ":" in userinfo else f"{user}@{host}"
    query = _QUERY_PASSWORD.sub(r"\1***", parts.query)
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
