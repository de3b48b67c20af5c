"""Whatever the model answers, every request Maya sends Gemini is one Gemini accepts.

Random sequences of model answers (text, function calls with and without ids, parallel
calls, thoughts with signatures, empty answers, blocked answers, cut-off answers, 4xx,
429 and 5xx errors) are served by a local stand-in for the Gemini API and consumed by the
real ``google.genai`` client. Every request body it receives is checked: roles alternate
starting and ending with the customer, no part is empty, and every function call is
followed by exactly its responses (same names, same ids, same order).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count, pairwise
from typing import Any

import anyio
import pytest
from google.genai import types
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fake_gemini import FakeGemini, error_body, fake_gemini, text_body
from maya.agent import Agent, GeminiModel, GeminiSettings
from maya.agent.history import history_problems as history_problems_of
from maya.bar import load_menu
from maya.state import MemoryTabStore, TabManager
from maya.testing import FakeClock
from maya.tools import Toolset

# Fuzzing and long generated sequences: seconds per test.
pytestmark = pytest.mark.slow

FAKE_KEY = "fake-gemini-key-for-history-tests"
SIGNATURE = "c2lnbmF0dXJlLW9mLWEtdGhvdWdodA=="

CALLS: list[tuple[str, dict[str, Any]]] = [
    ("get_balance", {}),
    ("get_menu", {}),
    ("get_bill", {}),
    ("order_drink", {"name": "Water"}),
    ("order_drink", {"name": "Mojito"}),  # refused: not on the menu
    ("set_tip", {"percent": 15}),
    ("set_tip", {"percent": 12}),  # refused: not a tip we take
    ("no_such_tool", {"x": 1}),
]


def _candidate(parts: list[dict[str, Any]] | None, finish: str) -> dict[str, Any]:
    candidate: dict[str, Any] = {"finishReason": finish, "index": 0}
    if parts is not None:
        candidate["content"] = {"role": "model", "parts": parts}
    return {"candidates": [candidate], "modelVersion": "gemini-2.5-flash"}


def _rpc(code: int, status: str, *details: dict[str, Any]) -> dict[str, Any]:
    body = error_body(code, status, "replayed failure")
    if details:
        body["error"]["details"] = list(details)
    return body


ERRORS: list[tuple[int, dict[str, Any]]] = [
    (
        429,
        _rpc(
            429,
            "RESOURCE_EXHAUSTED",
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"},
        ),
    ),
    (500, _rpc(500, "INTERNAL")),
    (503, _rpc(503, "UNAVAILABLE")),
    (
        400,
        _rpc(
            400,
            "INVALID_ARGUMENT",
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"},
        ),
    ),
]

EMPTIES: list[dict[str, Any]] = [
    {"candidates": []},
    _candidate(None, "STOP"),
    _candidate([{"text": ""}], "STOP"),
    _candidate(None, "MALFORMED_FUNCTION_CALL"),
    _candidate(
        [{"text": "weighing it up", "thought": True, "thoughtSignature": SIGNATURE}], "STOP"
    ),
    _candidate([{"text": "", "thoughtSignature": SIGNATURE}], "STOP"),
]

BLOCKED: list[dict[str, Any]] = [
    {"promptFeedback": {"blockReason": "SAFETY"}},
    _candidate(None, "SAFETY"),
    _candidate([{"text": "Here is how to"}], "SAFETY"),
]


@st.composite
def _calls_answer(draw: st.DrawFn) -> tuple[str, Any]:
    chosen = draw(st.lists(st.sampled_from(CALLS), min_size=1, max_size=3))
    with_ids = draw(st.booleans())
    signed = draw(st.booleans())
    text = draw(st.sampled_from([None, "", "One moment."]))
    return ("calls", (chosen, with_ids, signed, text))


ANSWER = st.one_of(
    st.builds(lambda t: ("text", t), st.sampled_from(["Cheers!", "Here you go.", "Ask away."])),
    _calls_answer(),
    st.builds(lambda b: ("raw", (200, b)), st.sampled_from(EMPTIES + BLOCKED)),
    st.just(("raw", (200, _candidate([{"text": "Our cocktails are the Dai"}], "MAX_TOKENS")))),
    st.builds(lambda e: ("raw", e), st.sampled_from(ERRORS)),
)

TURNS = st.lists(st.lists(ANSWER, min_size=1, max_size=6), min_size=1, max_size=4)


def _serve(answer: tuple[str, Any], ids: Iterator[int]) -> tuple[int, dict[str, Any]]:
    kind, value = answer
    if kind == "text":
        return 200, text_body(value)
    if kind == "raw":
        status, body = value
        return status, body
    chosen, with_ids, signed, text = value
    parts: list[dict[str, Any]] = [] if text is None else [{"text": text}]
    for index, (name, args) in enumerate(chosen):
        call: dict[str, Any] = {"name": name, "args": args}
        if with_ids:
            call["id"] = f"call-{next(ids)}"
        part: dict[str, Any] = {"functionCall": call}
        if signed and index == 0:
            part["thoughtSignature"] = SIGNATURE  # Gemini signs the first call of a step
        parts.append(part)
    if signed and text == "":
        parts.append({"text": "", "thoughtSignature": SIGNATURE})  # a signed empty tail
    return 200, _candidate(parts, "STOP")


# A part holding only a thought signature (with empty text) is echoed as Gemini sent it.
_MEANINGFUL = (
    "text",
    "functionCall",
    "functionResponse",
    "inlineData",
    "fileData",
    "thoughtSignature",
)


def _part_problems(part: dict[str, Any]) -> list[str]:
    if not any(part.get(key) not in (None, "", {}) for key in _MEANINGFUL):
        return [f"empty part {part}"]
    return []


def history_problems(body: dict[str, Any]) -> list[str]:
    """Everything in one ``generateContent`` request body that breaks Gemini's rules."""
    contents = body.get("contents") or []
    problems: list[str] = []
    if not contents:
        return ["no contents"]
    roles = [c.get("role") for c in contents]
    if roles[0] != "user" or roles[-1] != "user":
        problems.append(f"must start and end with the user: {roles}")
    problems += [
        f"two {a} turns in a row at {i}" for i, (a, b) in enumerate(pairwise(roles)) if a == b
    ]
    problems += [f"unknown role {r}" for r in roles if r not in ("user", "model")]
    for index, content in enumerate(contents):
        parts = content.get("parts") or []
        if not parts:
            problems.append(f"content {index} has no parts")
        for part in parts:
            problems += _part_problems(part)
        calls = [p["functionCall"] for p in parts if "functionCall" in p]
        answers = [p["functionResponse"] for p in parts if "functionResponse" in p]
        if answers:
            previous = contents[index - 1] if index else {}
            asked = [p["functionCall"] for p in previous.get("parts") or [] if "functionCall" in p]
            if content.get("role") != "user" or len(answers) != len(parts):
                problems.append(f"content {index}: responses must be a user turn of their own")
            wanted = [(c.get("name"), c.get("id")) for c in asked]
            given_ = [(a.get("name"), a.get("id")) for a in answers]
            if wanted != given_:
                problems.append(f"content {index}: responses {given_} do not answer {wanted}")
        if calls:
            following = contents[index + 1] if index + 1 < len(contents) else None
            if following is None or not any(
                "functionResponse" in p for p in following.get("parts") or []
            ):
                problems.append(f"content {index}: calls {calls} are never answered")
    return problems


@pytest.fixture(scope="module")
def server() -> Iterator[FakeGemini]:
    with fake_gemini() as fake:
        yield fake


async def _play(server: FakeGemini, turns: list[list[tuple[str, Any]]]) -> None:
    clock = FakeClock()
    manager = TabManager(MemoryTabStore(), catalog=load_menu())
    model = GeminiModel(GeminiSettings(api_key=FAKE_KEY, base_url=server.base_url, timeout_s=10))
    agent = Agent(
        model=model,
        toolset=Toolset(manager=manager, payments=None),
        clock=clock,
        sleep=clock.sleep,
    )
    ids = count(1)
    try:
        for number, answers in enumerate(turns):
            server.replies[:] = [_serve(answer, ids) for answer in answers]
            first = len(server.requests)
            with anyio.fail_after(20):
                result = await agent.respond("history", f"message {number}")
            assert result.reply.strip(), "Maya always says something"
            for request in server.requests[first:]:
                problems = history_problems(request.body)
                assert not problems, f"turn {number}: {problems}\n{request.body['contents']}"
            # Request k got answer k: a signed call's signature is echoed in the next one.
            sent = server.requests[first:]
            for k, (kind, value) in enumerate(answers[: len(sent) - 1]):
                if kind == "calls" and value[2]:
                    assert SIGNATURE in str(sent[k + 1].body["contents"]), "signature not echoed"
    finally:
        await model.aclose()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(turns=TURNS)
def test_every_request_holds_a_valid_history(server: FakeGemini, turns: list[Any]) -> None:
    server.requests.clear()
    anyio.run(_play, server, turns)
    assert server.requests, "the model was called"


def test_the_checker_finds_each_kind_of_invalid_history() -> None:
    user = {"role": "user", "parts": [{"text": "hi"}]}
    model = {"role": "model", "parts": [{"text": "hello"}]}
    call = {"role": "model", "parts": [{"functionCall": {"name": "get_menu", "id": "a"}}]}
    answer = {"role": "user", "parts": [{"functionResponse": {"name": "get_menu", "id": "a"}}]}
    wrong = {"role": "user", "parts": [{"functionResponse": {"name": "get_menu", "id": "b"}}]}
    assert history_problems({"contents": [user, call, answer]}) == []
    assert history_problems({"contents": [user, model, model, user]})
    assert history_problems({"contents": [user, {"role": "model", "parts": [{"text": ""}]}, user]})
    assert history_problems({"contents": [user, call, wrong]})
    assert history_problems({"contents": [user, call, user]})
    assert history_problems({"contents": [user, model]})


def test_the_runners_checker_agrees_on_each_kind_of_invalid_history() -> None:
    user = types.Content(role="user", parts=[types.Part(text="hi")])
    model = types.Content(role="model", parts=[types.Part(text="hello")])
    call = types.Content(
        role="model",
        parts=[types.Part(function_call=types.FunctionCall(name="get_menu", id="a"))],
    )

    def answer(call_id: str | None) -> types.Content:
        response = types.FunctionResponse(name="get_menu", id=call_id, response={})
        return types.Content(role="user", parts=[types.Part(function_response=response)])

    empty = types.Content(role="model", parts=[types.Part(text="")])
    assert history_problems_of([user, call, answer("a")]) == []
    assert history_problems_of([user, model, model, user])
    assert history_problems_of([user, empty, user])
    assert history_problems_of([user, call, answer("b")])
    assert history_problems_of([user, call, user])
    assert history_problems_of([user, model])
