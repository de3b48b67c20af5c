"""Keeping the terminal for the conversation: without ``-v``, ``maya chat`` sends its logs
and stderr to a log file, secrets masked; with ``-v`` they stay on stderr.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr
from pathlib import Path

import platformdirs

from maya.redact import RedactingFilter, RedactingStream, Redactor

__all__ = ["LOG_FORMAT", "chat_log_path", "logs_to_file"]

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
"""The format of every log line, on stderr or in the file."""


def chat_log_path(env: dict[str, str] | None = None) -> Path:
    """``$MAYA_CHAT_LOG`` or ``chat.log`` in the user's log folder."""
    environ = os.environ if env is None else env
    configured = environ.get("MAYA_CHAT_LOG", "").strip()
    if configured:
        return Path(configured).expanduser()
    return Path(platformdirs.user_log_dir("maya", appauthor=False)) / "chat.log"


def _is_terminal_handler(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    return (
        isinstance(handler, logging.StreamHandler)
        and not isinstance(handler, logging.FileHandler)
        and stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)
    )


@contextmanager
def logs_to_file(path: Path) -> Iterator[Path]:
    """Send log records and stderr to ``path`` (appended) until the block ends.

    The root logger's terminal handlers are set aside (and put back afterwards), warnings
    are logged rather than printed, and ``sys.stderr`` points at the file. Both pass
    through ``maya.redact`` (as the terminal's handlers do, ``maya.cli``): no secret
    reaches the file, in a message, an exception's text or a traceback. A subprocess
    handed ``sys.stderr`` writes to the file directly; Maya's own (the MCP servers, the
    sandbox) get a pipe whose lines are logged.

    Raises:
        OSError: the file cannot be opened.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    redactor = Redactor()
    with path.open("a", encoding="utf-8", buffering=1) as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler.addFilter(RedactingFilter(redactor))
        set_aside = [h for h in root.handlers if _is_terminal_handler(h)]
        for old in set_aside:
            root.removeHandler(old)
        root.addHandler(handler)
        logging.captureWarnings(True)
        try:
            with RedactingStream(stream, redactor) as masked, redirect_stderr(masked):
                yield path
        finally:
            logging.captureWarnings(False)
            root.removeHandler(handler)
            for old in set_aside:
                root.addHandler(old)
