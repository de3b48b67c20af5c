"""Masking secrets before they reach a log line, a trace, an exception, a result or a repr.

The one place secret handling lives: ``redact`` (by pattern), ``Redactor`` (plus known
values), ``redact_conninfo``, ``RedactingFilter`` (log records), ``RedactingStream`` (text
written to a file), ``redacted_traceback``.
"""

from __future__ import annotations

import io
import logging
import os
import re
import threading
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "REDACTED",
    "SECRET_ENV_VARS",
    "RedactingFilter",
    "RedactingStream",
    "Redactor",
    "redact",
    "redact_conninfo",
    "redact_log_handlers",
    "redacted_traceback",
]

REDACTED = "***"
"""What a secret is replaced with; key prefixes stay so a reader can tell test from live."""

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Stripe secret and restricted keys keep their mode prefix: "sk_test_***" is still useful.
    (re.compile(r"\b(sk|rk|pk)_(test|live)_[A-Za-z0-9]+"), rf"\1_\2_{REDACTED}"),
    # Any other restricted-key shape (rk_...) and webhook signing secrets.
    (re.compile(r"\brk_(?!(?:test|live)_\*)[A-Za-z0-9_]{8,}"), f"rk_{REDACTED}"),
    (re.compile(r"\bwhsec_[A-Za-z0-9_\-]+"), f"whsec_{REDACTED}"),
    # HTTP bearer tokens, whatever they carry.
    (re.compile(r"\b(Bearer)\s+[^\s\"',;]+", re.IGNORECASE), rf"\1 {REDACTED}"),
    # Google API keys (Gemini).
    (re.compile(r"\bAIza[0-9A-Za-z_\-]{16,}"), f"AIza{REDACTED}"),
    # Keys that look like nothing in particular but sit where keys go: ?key=, headers,
    # --api-key=... (a Stripe key there was already masked above and keeps its prefix).
    (re.compile(r"(?i)(?<=[?&]key=)[^&\s\"']+"), REDACTED),
    (re.compile(r"(?i)(x-goog-api-key[\"']?\s*[:=]\s*[\"']?)[^\s\"',]+"), rf"\1{REDACTED}"),
    (
        re.compile(r"(?i)(?<=api[_-]key=)(?!(?:sk|rk|pk)_(?:test|live)_\*)[^&\s\"',]+"),
        REDACTED,
    ),
)


def redact(text: str) -> str:
    """Mask Stripe keys, bearer tokens and Gemini keys in ``text``.

    ``sk_test_abc`` becomes ``sk_test_***``, ``Bearer abc`` becomes ``Bearer ***``,
    ``AIza...`` becomes ``AIza***``, ``?key=abc`` becomes ``?key=***``. Text without
    secrets is returned unchanged.

    Args:
        text: Anything about to be logged, raised, traced or returned.

    Returns:
        The text with every recognised secret masked.
    """
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


SECRET_ENV_VARS: tuple[str, ...] = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "STRIPE_SECRET_KEY",
    "STRIPE_API_KEY",
    "MAYA_SERVER_SECRET",
    "MAYA_MCP_TOKEN",
)
"""Environment variables whose values are redacted wherever they appear."""


class Redactor:
    """Replaces secrets in text and in JSON-like values."""

    def __init__(
        self, *, secrets: Iterable[str] = (), env: Mapping[str, str] | None = None
    ) -> None:
        """Create a redactor.

        Args:
            secrets: exact values to hide (at least 6 characters each; shorter are ignored).
            env: also hide the values of ``SECRET_ENV_VARS`` found here (default:
                ``os.environ``).
        """
        environ = os.environ if env is None else env
        values = {s for s in secrets if len(s) >= 6}
        values.update(v for name in SECRET_ENV_VARS if len(v := environ.get(name, "")) >= 6)
        self._values = sorted(values, key=len, reverse=True)

    def text(self, value: str) -> str:
        """``value`` with every secret replaced by ``REDACTED``."""
        for secret in self._values:
            value = value.replace(secret, REDACTED)
        return redact(value)

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with every string redacted (keys included)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"((?:^|&)password=)[^&]*", re.IGNORECASE)


def redact_conninfo(conninfo: str) -> str:
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


def redacted_traceback(exc: BaseException, redactor: Redactor | None = None) -> str:
    """``exc``'s traceback (with its chain) as text, every secret masked."""
    text = "".join(traceback.format_exception(exc))
    return (redactor or Redactor()).text(redact_conninfo_words(text))


def redact_conninfo_words(text: str) -> str:
    """``text`` with ``password=...`` keywords and URL passwords masked."""
    text = _KEYWORD_PASSWORD.sub(r"\1***", text)
    return _URL_PASSWORD.sub(r"\1***\2", text)


_URL_PASSWORD = re.compile(r"(\w+://[^:/@\s'\"]*:)[^@\s'\"/]+(@)")


class RedactingFilter(logging.Filter):
    """Masks secrets in every record it sees: message, arguments and traceback."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        """Use ``redactor`` (default: pattern secrets and the secret environment)."""
        super().__init__()
        self._redactor = redactor if redactor is not None else Redactor()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` with its secrets masked; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler's own error path
            return True
        record.msg = self._redactor.text(redact_conninfo_words(message))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._redactor.text(redact_conninfo_words(record.exc_text))
        if record.stack_info:
            record.stack_info = self._redactor.text(redact_conninfo_words(record.stack_info))
        return True


def redact_log_handlers() -> None:
    """Put a ``RedactingFilter`` on every handler of the root logger (those of the
    process's ``logging.basicConfig``): ``maya``'s own process and each ``maya serve``
    worker, whose logging is set up in the worker."""
    redacting = RedactingFilter()
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)


class RedactingStream(io.TextIOBase):
    """A text stream that passes each line to ``target`` with its secrets masked.

    Lines are masked whole, so a key written in pieces (a traceback printed part by
    part) is still caught; a line not yet ended waits for its end, for ``close`` or for
    ``_MAX_PENDING`` characters. ``target`` is not closed. A subprocess handed this
    stream writes to ``fileno()`` directly, unmasked: give it a pipe that is logged.
    """

    _MAX_PENDING = 64 * 1024

    def __init__(self, target: TextIO, redactor: Redactor | None = None) -> None:
        """Write to ``target``, masking with ``redactor`` (default as ``RedactingFilter``)."""
        super().__init__()
        self._target = target
        self._redactor = redactor if redactor is not None else Redactor()
        self._pending = ""
        self._lock = threading.Lock()  # threads share sys.stderr

    def writable(self) -> bool:
        """Always: this stream is for writing."""
        return True

    def fileno(self) -> int:
        """The target's file descriptor."""
        return self._target.fileno()

    def write(self, text: str) -> int:
        """Queue ``text``; write every line it completes, masked. Returns ``len(text)``."""
        with self._lock:
            if self.closed:
                raise ValueError("write to a closed RedactingStream")
            done, newline, self._pending = (self._pending + text).rpartition("\n")
            if newline:
                self._write(done + newline)
            if len(self._pending) > self._MAX_PENDING:
                self._write(self._pending)
                self._pending = ""
        return len(text)

    def flush(self) -> None:
        """Flush the target (a line not yet ended stays queued)."""
        if not self.closed:
            self._target.flush()

    def close(self) -> None:
        """Write what is queued, masked, and flush; later writes raise ``ValueError``."""
        with self._lock:
            if not self.closed and not self._target.closed:
                if self._pending:
                    self._write(self._pending)
                    self._pending = ""
                self._target.flush()
        super().close()

    def _write(self, text: str) -> None:
        self._target.write(self._redactor.text(redact_conninfo_words(text)))
