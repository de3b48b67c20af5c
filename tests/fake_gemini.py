"""A local HTTP server that plays Gemini's side of ``generateContent`` for contract tests.

The real ``google.genai.Client`` talks to it through ``http_options.base_url``, so request
building, retries and response parsing are the SDK's own.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["FakeGemini", "RecordedRequest", "fake_gemini", "function_call_body", "text_body"]


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeGemini:
    """The server's script (status, JSON body) and what it received.

    ``delay_s`` makes every answer that slow (a slow model, as the customer sees it).
    """

    base_url: str = ""
    replies: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    delay_s: float = 0.0


def text_body(text: str) -> dict[str, Any]:
    """A ``generateContent`` response with one text part."""
    return {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": text}]},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 3, "totalTokenCount": 13},
        "modelVersion": "gemini-2.5-flash",
    }


def function_call_body(*calls: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """A response asking for function calls given as (id, name, args)."""
    parts = [{"functionCall": {"id": i, "name": n, "args": a}} for i, n, a in calls]
    return {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
        ],
        "modelVersion": "gemini-2.5-flash",
    }


def error_body(code: int, status: str, message: str) -> dict[str, Any]:
    """Google's error envelope."""
    return {"error": {"code": code, "message": message, "status": status}}


@contextmanager
def fake_gemini() -> Iterator[FakeGemini]:
    """Serve on 127.0.0.1 (a free port) until the block ends."""
    state = FakeGemini()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            with lock:
                state.requests.append(
                    RecordedRequest(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body
                    )
                )
                status, reply = (
                    state.replies.pop(0)
                    if state.replies
                    else (500, error_body(500, "INTERNAL", "the fake ran out of replies"))
                )
            data = json.dumps(reply).encode()
            if state.delay_s:
                time.sleep(state.delay_s)  # server side: the test itself never sleeps
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
