"""Traces: one JSONL file per session, one event a line, secrets redacted.

Events: ``prompt``, ``turn_start``, ``model_call``, ``tool_call``, ``state_change`` and
``turn_end``, each with ``ts``, ``session_id`` and ``turn``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from maya.redact import Redactor

__all__ = [
    "TRACE_DIR_ENV",
    "EventType",
    "JsonlTracer",
    "NullTracer",
    "Tracer",
    "read_trace",
    "tracer_from_env",
]

TRACE_DIR_ENV = "MAYA_TRACE_DIR"
"""Where traces are written; unset means no traces."""

EventType = str
"""One of ``prompt``, ``turn_start``, ``model_call``, ``tool_call``, ``state_change``,
``turn_end``."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.@-]")


class Tracer(Protocol):
    """Where trace events go."""

    def emit(self, event_type: EventType, session_id: str, turn: int, **fields: Any) -> None:
        """Record one event."""
        ...

    def wants_prompt(self, session_id: str, prompt_hash: str) -> bool:
        """True when the prompt with ``prompt_hash`` is not yet in this session's trace."""
        ...

    def path_for(self, session_id: str) -> Path | None:
        """The file holding ``session_id``'s trace, if traces are written to files."""
        ...


class NullTracer:
    """Traces nothing."""

    def emit(self, event_type: EventType, session_id: str, turn: int, **fields: Any) -> None:
        """Drop the event."""

    def wants_prompt(self, session_id: str, prompt_hash: str) -> bool:
        """Never: nothing is written."""
        return False

    def path_for(self, session_id: str) -> Path | None:
        """None: nothing is written."""
        return None


class JsonlTracer:
    """Appends events to ``{directory}/{session}-{start}-{pid}.jsonl``."""

    def __init__(
        self,
        directory: Path,
        *,
        redactor: Redactor | None = None,
        clock: Any = time.time,
    ) -> None:
        """Create a tracer writing under ``directory`` (made when the first event comes).

        Args:
            directory: the trace folder.
            redactor: what hides secrets (default: patterns plus secret env values).
            clock: Unix time for ``ts``.
        """
        self.directory = Path(directory)
        self._redactor = redactor if redactor is not None else Redactor()
        self._clock = clock
        self._stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        self._paths: dict[str, Path] = {}
        self._prompts: dict[str, set[str]] = {}

    def path_for(self, session_id: str) -> Path:
        """This tracer's file for ``session_id``."""
        path = self._paths.get(session_id)
        if path is None:
            safe = _UNSAFE.sub("_", session_id)[:80] or "session"
            path = self.directory / f"{safe}-{self._stamp}-{os.getpid()}.jsonl"
            self._paths[session_id] = path
        return path

    def wants_prompt(self, session_id: str, prompt_hash: str) -> bool:
        """True the first time ``prompt_hash`` is seen for ``session_id``."""
        seen = self._prompts.setdefault(session_id, set())
        if prompt_hash in seen:
            return False
        seen.add(prompt_hash)
        return True

    def emit(self, event_type: EventType, session_id: str, turn: int, **fields: Any) -> None:
        """Append one redacted event to the session's file."""
        event: dict[str, Any] = {
            "ts": round(float(self._clock()), 6),
            "type": event_type,
            "session_id": session_id,
            "turn": turn,
            **fields,
        }
        # One redaction pass over the serialised line: secrets are runs of letters, digits
        # and punctuation that JSON leaves as they are, so they match here just the same.
        line = self._redactor.text(json.dumps(event, default=str, ensure_ascii=False))
        path = self.path_for(session_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def tracer_from_env(
    env: Mapping[str, str] | None = None, *, redactor: Redactor | None = None
) -> JsonlTracer | NullTracer:
    """A ``JsonlTracer`` under ``MAYA_TRACE_DIR`` when it is set, else a ``NullTracer``."""
    environ = os.environ if env is None else env
    directory = environ.get(TRACE_DIR_ENV, "").strip()
    if not directory:
        return NullTracer()
    return JsonlTracer(Path(directory).expanduser(), redactor=redactor)


def read_trace(path: Path) -> list[dict[str, Any]]:
    """The events of a trace file, in order.

    Raises:
        OSError: the file cannot be read.
        ValueError: a line is not a JSON object (naming the line).
    """
    events: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc.msg}") from exc
            if not isinstance(event, dict):
                raise ValueError(f"{path}:{number}: an event must be a JSON object")
            events.append(event)
    return events
