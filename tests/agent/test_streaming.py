"""Streaming a turn: words and tool activity as they happen, through the real SDK too."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import anyio
import pytest
from google.genai import types

from maya.agent.loop import Agent
from maya.agent.models.gemini import GeminiModel, GeminiSettings
from maya.agent.models.offline import OfflineModel
from maya.agent.streaming import (
    TextDelta,
    ToolFinished,
    ToolStarted,
    TurnEvent,
    merge_chunks,
)
from maya.state.manager import TabManager
from maya.testing import ScriptedModel
from maya.tools import Toolset

pytestmark = pytest.mark.anyio


def _chunk(*parts: types.Part, finish: types.FinishReason | None = None) -> Any:
    return types.GenerateContentResponse(
        candidates=[
            types.Candidate(
                content=types.Content(role="model", parts=list(parts)), finish_reason=finish
            )
        ]
    )


def test_merged_chunks_join_text_and_keep_calls_and_signatures() -> None:
    call = types.FunctionCall(id="c1", name="get_bill", args={})
    merged = merge_chunks(
        [
            _chunk(types.Part(text="Let me ")),
            _chunk(types.Part(text="check.")),
            _chunk(types.Part(text="", thought_signature=b"sig")),
            _chunk(types.Part(function_call=call), finish=types.FinishReason.STOP),
        ]
    )
    assert merged.candidates is not None
    candidate = merged.candidates[0]
    assert candidate.finish_reason == types.FinishReason.STOP
    assert candidate.content is not None
    parts = candidate.content.parts or []
    assert [p.text for p in parts] == ["Let me check.", None]
    assert parts[0].thought_signature == b"sig"
    assert parts[1].function_call == call


async def _record(agent: Agent, session: str, message: str) -> tuple[list[TurnEvent], str]:
    events: list[TurnEvent] = []

    async def on_event(event: TurnEvent) -> None:
        events.append(event)

    result = await agent.respond(session, message, on_event=on_event)
    return events, result.reply


async def test_the_offline_model_answers_in_one_piece_after_its_tool_activity(
    manager: TabManager, toolset: Toolset
) -> None:
    agent = Agent(model=OfflineModel(), toolset=toolset, manager=manager)
    events, reply = await _record(agent, "s", "Two martinis please")
    started = [e for e in events if isinstance(e, ToolStarted)]
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [e.name for e in started] == ["order_drink"]
    assert started[0].args["name"].lower() == "martini"
    assert finished[0].response["status"] == "ok"
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert texts == [reply]  # a whole answer is one piece: cut up, it would leave at once
    # The tool ran before Maya said anything about it.
    assert events.index(finished[0]) < events.index(
        next(e for e in events if isinstance(e, TextDelta))
    )


async def test_words_of_two_answers_are_separated_as_in_the_reply(
    manager: TabManager, toolset: Toolset
) -> None:
    from maya.agent.models.base import calls_response, text_response

    model = ScriptedModel(
        [
            calls_response([("get_balance", {})], text="One moment."),
            text_response("You have $1,000.00."),
        ]
    )
    agent = Agent(model=model, toolset=toolset, manager=manager)
    events, reply = await _record(agent, "s", "balance?")
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == reply
    assert reply == "One moment.\n\nYou have $1,000.00."


async def test_without_a_listener_nothing_changes(manager: TabManager, toolset: Toolset) -> None:
    agent = Agent(model=OfflineModel(), toolset=toolset, manager=manager)
    result = await agent.respond("s", "a beer")
    assert "$5.00" in result.reply


def _sse(chunks: list[dict[str, Any]]) -> bytes:
    return b"".join(b"data: " + json.dumps(c).encode() + b"\r\n\r\n" for c in chunks)


@pytest.fixture
def streaming_gemini() -> Iterator[tuple[str, list[str], list[bytes]]]:
    """A local server playing ``streamGenerateContent?alt=sse``: (base URL, paths, script)."""
    paths: list[str] = []
    script: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            paths.append(self.path)
            body = script.pop(0)
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths, script
    finally:
        server.shutdown()
        server.server_close()


def _text_chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate]}


async def test_gemini_streams_through_the_real_sdk(
    streaming_gemini: tuple[str, list[str], list[bytes]],
    manager: TabManager,
    toolset: Toolset,
) -> None:
    base_url, paths, script = streaming_gemini
    call = {"functionCall": {"id": "c1", "name": "order_drink", "args": {"name": "Martini"}}}
    script.append(
        _sse([{"candidates": [{"content": {"role": "model", "parts": [call]}}]}])
        # An empty final chunk closes the stream, as Gemini's do.
        + _sse([_text_chunk("", "STOP")])
    )
    script.append(
        _sse(
            [
                _text_chunk("One Martini, "),
                _text_chunk("<b>shaken</b>. "),
                _text_chunk("Your tab is $13.00.", "STOP"),
            ]
        )
    )
    model = GeminiModel(GeminiSettings(api_key="fake-key-0123456789", base_url=base_url))
    try:
        agent = Agent(model=model, toolset=toolset, manager=manager)
        with anyio.fail_after(20):
            events, reply = await _record(agent, "g", "A martini")
    finally:
        await model.aclose()
    assert all(":streamGenerateContent" in path for path in paths)
    assert len(paths) == 2
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert texts == ["One Martini, ", "<b>shaken</b>. ", "Your tab is $13.00."]
    assert reply == "One Martini, <b>shaken</b>. Your tab is $13.00."
    assert [type(e).__name__ for e in events[:2]] == ["ToolStarted", "ToolFinished"]
    assert (await manager.get("g")).tab_cents == 1300
