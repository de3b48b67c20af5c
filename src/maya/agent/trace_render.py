"""Trace files for people: a terminal view, turn by turn, and one self-contained HTML page.

The HTML page needs no network: inline CSS, no scripts, ``<details>`` for everything
collapsible. Every value from the trace is escaped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

from maya.agent.trace import read_trace

__all__ = [
    "TraceTurn",
    "group_turns",
    "render_html",
    "render_text",
    "show_trace",
]

_SHORT = 160


@dataclass(slots=True)
class TraceTurn:
    """The events of one turn, in order.

    Attributes:
        session_id: the session.
        number: the turn number.
        message: the customer's message (from ``turn_start``).
        reply: Maya's reply (from ``turn_end``).
        end: the ``turn_end`` event, if the turn finished.
        events: every event of the turn, ``prompt`` excluded.
    """

    session_id: str
    number: int
    message: str = ""
    reply: str = ""
    end: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)


def group_turns(
    events: Iterable[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[TraceTurn]]:
    """Split events into the prompts and the turns they belong to, in order of appearance."""
    prompts: list[dict[str, Any]] = []
    turns: dict[tuple[str, int], TraceTurn] = {}
    for raw in events:
        event = dict(raw)
        if event.get("type") == "prompt":
            prompts.append(event)
            continue
        key = (str(event.get("session_id", "")), int(event.get("turn", 0) or 0))
        turn = turns.get(key)
        if turn is None:
            turn = turns[key] = TraceTurn(session_id=key[0], number=key[1])
        if event.get("type") == "turn_start":
            turn.message = str(event.get("message", ""))
        elif event.get("type") == "turn_end":
            turn.reply = str(event.get("reply", ""))
            turn.end = event
        turn.events.append(event)
    return prompts, list(turns.values())


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _short(text: str, limit: int = _SHORT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _ms(event: Mapping[str, Any]) -> str:
    value = event.get("ms")
    return f"{float(value):.1f} ms" if isinstance(value, int | float) else "? ms"


def _parts_summary(parts: Sequence[Any]) -> list[str]:
    lines: list[str] = []
    for part in parts:
        if not isinstance(part, Mapping):
            continue
        if "function_call" in part:
            call = part["function_call"]
            lines.append(f"call {call.get('name')}({_json(call.get('args', {}))})")
        elif "function_response" in part:
            reply = part["function_response"]
            lines.append(f"response {reply.get('name')}: {_json(reply.get('response', {}))}")
        elif part.get("text"):
            lines.append(f"text {part['text']!r}")
    return lines


def _patch_lines(patch: Any) -> list[str]:
    if not isinstance(patch, Mapping):
        return []
    lines = []
    for key, change in patch.items():
        if isinstance(change, Sequence) and not isinstance(change, str) and len(change) == 2:
            lines.append(f"{key}: {_json(change[0])} -> {_json(change[1])}")
        else:
            lines.append(f"{key}: {_json(change)}")
    return lines


def _event_line(event: Mapping[str, Any]) -> list[str]:
    kind = event.get("type")
    if kind == "model_call":
        head = f"model call ({_ms(event)})"
        if event.get("error"):
            error = event["error"]
            return [f"{head}: FAILED {error.get('category')}: {_short(str(error.get('detail')))}"]
        parts = _parts_summary(event.get("response") or [])
        return [f"{head}:"] + [f"    {_short(p)}" for p in parts or ["(empty)"]]
    if kind == "tool_call":
        result = event.get("result") or {}
        outcome = "ok" if result.get("status") == "ok" else f"error {result.get('error')}"
        return [
            f"tool {event.get('name')}({_json(event.get('args', {}))}) ({_ms(event)}) {outcome}",
            f"    {_short(_json(result.get('result', result)))}",
        ]
    if kind == "state_change":
        version = event.get("version") or [None, None]
        head = f"state {event.get('operation')} v{version[0]} -> v{version[1]}"
        return [head] + [f"    {_short(line)}" for line in _patch_lines(event.get("patch"))]
    return []


def render_text(events: Iterable[Mapping[str, Any]]) -> str:
    """The trace as plain text, turn by turn."""
    prompts, turns = group_turns(events)
    out: list[str] = []
    for prompt in prompts:
        out.append(
            f"prompt {str(prompt.get('hash', ''))[:12]} for model {prompt.get('model')}: "
            f"{prompt.get('chars')} chars, ~{prompt.get('estimated_tokens')} tokens"
        )
    for turn in turns:
        out.append("")
        out.append(f"=== {turn.session_id} turn {turn.number} ".ljust(72, "="))
        out.append(f"customer: {turn.message}")
        for event in turn.events:
            out.extend(f"  {line}" for line in _event_line(event))
        if turn.end is not None:
            end = turn.end
            out.append(
                f"  end: {end.get('outcome')} after {end.get('model_calls')} model call(s), "
                f"{end.get('tool_calls')} tool call(s), {_ms(end)}"
            )
            out.append("maya: " + turn.reply.replace("\n", "\n      "))
    return "\n".join(out).strip() + "\n"


_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222;
background:#fbfaf7;padding:0 1rem}
h1{font-size:1.4rem}details{margin:.35rem 0;border-left:3px solid #ddd;padding-left:.6rem}
details.turn{border-left-color:#b5651d;background:#fff;padding:.4rem .8rem;margin:1rem 0;
box-shadow:0 1px 2px #0001}
summary{cursor:pointer;font-weight:600}
.customer{color:#1f4e79}.maya{color:#5b2c06;white-space:pre-wrap}
.error{color:#a00}.ok{color:#176117}.meta{color:#777;font-weight:400;font-size:.85em}
pre{background:#f3f1ec;padding:.5rem;overflow:auto;font-size:.85em;white-space:pre-wrap}
table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:.2rem .4rem;
text-align:left;vertical-align:top}
"""


def _pre(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)
    return f"<pre>{escape(text)}</pre>"


def _html_event(event: Mapping[str, Any]) -> str:
    kind = event.get("type")
    if kind == "model_call":
        error = event.get("error")
        status = (
            f'<span class="error">failed: {escape(str(error.get("category")))}</span>'
            if isinstance(error, Mapping)
            else '<span class="ok">ok</span>'
        )
        lines = _parts_summary(event.get("response") or [])
        label = escape(_short("; ".join(lines), 90)) if lines else ""
        return (
            f"<details><summary>model call {status} <span class='meta'>{escape(_ms(event))}"
            f" {label}</span></summary>"
            f"<p>request</p>{_pre(event.get('request'))}"
            f"<p>response</p>{_pre(event.get('response') or error)}</details>"
        )
    if kind == "tool_call":
        result = event.get("result") or {}
        ok = result.get("status") == "ok"
        status = (
            '<span class="ok">ok</span>'
            if ok
            else f'<span class="error">{escape(str(result.get("error")))}</span>'
        )
        return (
            f"<details><summary>tool {escape(str(event.get('name')))} {status} "
            f"<span class='meta'>{escape(_ms(event))}</span></summary>"
            f"<p>args</p>{_pre(event.get('args'))}<p>result</p>{_pre(result)}</details>"
        )
    if kind == "state_change":
        patch = event.get("patch") if isinstance(event.get("patch"), Mapping) else {}
        rows = "".join(
            f"<tr><th>{escape(str(key))}</th><td>{escape(_json(change[0]))}</td>"
            f"<td>{escape(_json(change[1]))}</td></tr>"
            if isinstance(change, list) and len(change) == 2
            else f"<tr><th>{escape(str(key))}</th><td colspan=2>{escape(_json(change))}</td></tr>"
            for key, change in (patch or {}).items()
        )
        version = event.get("version") or [None, None]
        return (
            f"<details><summary>state {escape(str(event.get('operation')))} "
            f"<span class='meta'>v{escape(str(version[0]))} &rarr; v{escape(str(version[1]))}"
            f"</span></summary><table><tr><th>field</th><th>before</th><th>after</th></tr>"
            f"{rows}</table></details>"
        )
    return ""


def render_html(events: Iterable[Mapping[str, Any]], *, title: str = "Maya trace") -> str:
    """The trace as one self-contained HTML page (inline CSS, no scripts, no network)."""
    prompts, turns = group_turns(events)
    body: list[str] = [f"<h1>{escape(title)}</h1>"]
    for prompt in prompts:
        body.append(
            f"<details><summary>prompt {escape(str(prompt.get('hash', ''))[:12])} "
            f"<span class='meta'>model {escape(str(prompt.get('model')))}, "
            f"{escape(str(prompt.get('chars')))} chars, "
            f"~{escape(str(prompt.get('estimated_tokens')))} tokens</span></summary>"
            f"<p>system instruction</p>{_pre(str(prompt.get('system_instruction', '')))}"
            f"<p>declarations</p>{_pre(prompt.get('tools'))}</details>"
        )
    for turn in turns:
        end = turn.end or {}
        meta = (
            f"{end.get('outcome', 'unfinished')}, {end.get('model_calls', '?')} model / "
            f"{end.get('tool_calls', '?')} tool calls, {_ms(end)}"
        )
        inner = "".join(_html_event(event) for event in turn.events)
        body.append(
            f"<details class='turn' open><summary>Turn {turn.number} "
            f"<span class='meta'>{escape(turn.session_id)} &middot; {escape(meta)}</span>"
            f"</summary><p class='customer'><b>Customer:</b> {escape(turn.message)}</p>"
            f"{inner}<p class='maya'><b>Maya:</b> {escape(turn.reply)}</p></details>"
        )
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


# -- ``maya trace FILE [--html OUT]``: read a trace and show it to people --------------


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
