"""ADK eval sets from Maya's conversation files (``maya conversations export-adk``).

Each conversation is played once against the real agent and sandbox; each customer
message becomes an ADK ``Invocation`` (reply and trajectory as the reference).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from maya.agent.loop import TurnResult
from maya.conversations.runner import run_conversation
from maya.conversations.schema import Conversation, load_conversation

__all__ = ["INITIAL_STATE_KEY", "eval_case", "export_eval_set"]

INITIAL_STATE_KEY = "maya:initial"
"""Session-input state key carrying the conversation's starting tab (balance, orders, tip)."""


def _content(role: str, text: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"text": text}]}


def _invocation(stem: str, number: int, result: TurnResult) -> dict[str, Any]:
    uses = [{"id": c.id, "name": c.name, "args": c.args} for c in result.tool_calls]
    answers = [{"id": c.id, "name": c.name, "response": c.response} for c in result.tool_calls]
    return {
        "invocation_id": f"{stem}-{number}",
        "user_content": _content("user", result.message),
        "final_response": _content("model", result.reply),
        "intermediate_data": {"tool_uses": uses, "tool_responses": answers},
    }


async def eval_case(
    conversation: Conversation,
    *,
    eval_id: str,
    workdir: Path,
    app_name: str,
    user_id: str = "eval_user",
) -> dict[str, Any]:
    """One ``EvalCase`` (as JSON) from one conversation, played to get the reference replies.

    Raises:
        ConversationFailure: the conversation does not pass its own expectations.
    """
    report = await run_conversation(conversation, workdir=workdir, source=eval_id)
    state: dict[str, Any] = {}
    initial = conversation.initial.model_dump(mode="json", exclude_defaults=True)
    if initial:
        state[INITIAL_STATE_KEY] = initial
    return {
        "eval_id": eval_id,
        "conversation": [
            _invocation(eval_id, number, result)
            for number, result in enumerate(report.results, start=1)
        ],
        "session_input": {"app_name": app_name, "user_id": user_id, "state": state},
        "creation_timestamp": 0.0,
    }


async def export_eval_set(
    paths: Sequence[Path],
    *,
    eval_set_id: str = "maya_conversations",
    app_name: str = "maya_bar",
) -> dict[str, Any]:
    """An ``EvalSet`` (as JSON) with one case per conversation file, in the order given.

    Raises:
        ConversationError: a file cannot be read or does not fit the schema.
        ConversationFailure: a conversation does not pass its own expectations.
    """
    cases: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="maya-export-") as folder:
        for path in paths:
            conversation = load_conversation(path)
            workdir = Path(folder) / path.stem
            workdir.mkdir()
            cases.append(
                await eval_case(conversation, eval_id=path.stem, workdir=workdir, app_name=app_name)
            )
    return {
        "eval_set_id": eval_set_id,
        "name": eval_set_id,
        "description": "Maya's conversation tests, replayed: replies and tool trajectories.",
        "eval_cases": cases,
        "creation_timestamp": 0.0,
    }
