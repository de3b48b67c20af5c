"""``maya trace FILE [--html OUT]``: read a trace and show it to people."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from maya.agent.trace import read_trace
from maya.agent.trace_render import render_html, render_text

__all__ = ["show_trace"]


def show_trace(
    path: Path,
    *,
    html_out: Path | None = None,
    out: Callable[[str], None] = print,
    err: Callable[[str], None] = print,
) -> int:
    """Print the trace at ``path`` turn by turn, or write it as one HTML page.

    Returns:
        0 on success, 1 when the trace cannot be read or the page cannot be written.
    """
    try:
        events = read_trace(path)
    except (OSError, ValueError) as exc:
        err(f"maya trace: cannot read {path}: {exc}")
        return 1
    if html_out is None:
        out(render_text(events).rstrip("\n"))
        return 0
    try:
        html_out.write_text(render_html(events, title=f"Maya trace: {path.name}"), "utf-8")
    except OSError as exc:
        err(f"maya trace: cannot write {html_out}: {exc}")
        return 1
    out(f"wrote {html_out} ({len(events)} events)")
    return 0
