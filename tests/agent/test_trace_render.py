"""Traces for people: the terminal view and one self-contained, escaped HTML page."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from maya.agent import Agent
from maya.agent.models import calls_response, text_response
from maya.agent.trace import read_trace
from maya.agent.trace_render import group_turns, render_html, render_text, show_trace
from maya.testing import ScriptedModel

from .conftest import SESSION


def _only_trace(trace_dir: Path) -> Path:
    (path,) = trace_dir.glob("*.jsonl")
    return path


@pytest.fixture
def trace_file(make_agent: Callable[..., Agent], trace_dir: Path) -> Path:
    model = ScriptedModel(
        [
            calls_response([("order_drink", {"name": "Martini", "modifiers": ["dirty"]})]),
            text_response("A dirty Martini <shaken> & stirred."),
            calls_response([("order_drink", {"name": "Mojito"})]),
            text_response("No Mojitos here."),
        ]
    )
    agent = make_agent(model)

    async def talk() -> None:
        await agent.respond(SESSION, "a dirty martini <script>alert(1)</script>")
        await agent.respond(SESSION, "a mojito")

    anyio.run(talk)
    return _only_trace(trace_dir)


def test_turns_are_grouped_in_order(trace_file: Path) -> None:
    prompts, turns = group_turns(read_trace(trace_file))
    assert len(prompts) == 1 and [t.number for t in turns] == [1, 2]
    assert turns[1].message == "a mojito" and turns[1].reply == "No Mojitos here."


def test_the_terminal_view_reads_turn_by_turn(trace_file: Path) -> None:
    text = render_text(read_trace(trace_file))
    assert "turn 1" in text and "turn 2" in text
    assert "tool order_drink" in text and "error UNKNOWN_ITEM" in text
    assert "state order v0 -> v1" in text and "tab_cents: 0 -> 1300" in text
    assert "maya: No Mojitos here." in text


def test_the_html_page_is_self_contained_and_escaped(trace_file: Path) -> None:
    page = render_html(read_trace(trace_file))
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "&lt;shaken&gt; &amp; stirred" in page
    assert not re.search(r"(src|href)\s*=|https?://|@import", page)
    assert page.count("<details class='turn' open>") == 2
    assert "UNKNOWN_ITEM" in page and "tab_cents" in page


def test_maya_trace_prints_or_writes_html(trace_file: Path, tmp_path: Path) -> None:
    printed: list[str] = []
    assert show_trace(trace_file, out=printed.append) == 0
    assert "turn 1" in printed[0]
    out = tmp_path / "trace.html"
    assert show_trace(trace_file, html_out=out, out=printed.append) == 0
    assert out.read_text().startswith("<!DOCTYPE html>")


def test_an_unreadable_trace_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    errors: list[str] = []
    assert show_trace(bad, err=errors.append) == 1
    assert "bad.jsonl:1" in errors[0]
