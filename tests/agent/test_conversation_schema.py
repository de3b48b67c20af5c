"""Conversation files are validated strictly: unknown keys and impossible steps are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from maya.conversations import Conversation, ConversationError, load_conversation

BASE = {
    "name": "x",
    "turns": [{"user": "hi", "model": [{"text": "Hello!"}]}],
}


def test_a_minimal_conversation_is_valid() -> None:
    conversation = Conversation.model_validate(BASE)
    assert conversation.model == "scripted" and conversation.sandbox.mode == "sandbox"


@pytest.mark.parametrize(
    "change",
    [
        {"surprise": 1},
        {"turns": [{"user": "hi", "model": [{"text": "a"}], "expect": {"reply_contain": ["a"]}}]},
        {"turns": [{"user": "hi", "model": [{"txt": "a"}]}]},
        {"turns": [{"user": "hi", "model": [{}]}]},
        {"turns": [{"user": "hi", "model": [{"text": "a", "error": {"code": 429}}]}]},
        {"turns": [{"user": "hi"}]},
        {"model": "offline"},
        {"sandbox": {"mode": "maybe"}},
        {"initial": {"balance": "-$5"}},
    ],
)
def test_mistakes_are_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Conversation.model_validate({**BASE, **change})


def test_money_in_the_initial_state_is_read_as_cents() -> None:
    conversation = Conversation.model_validate({**BASE, "initial": {"balance": "$40.50"}})
    assert conversation.initial.balance == 4050


def test_a_bad_file_names_itself(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nturns: []\n")
    with pytest.raises(ConversationError, match=r"broken\.yaml"):
        load_conversation(path)


def test_a_bad_file_says_where_and_what_in_one_line(tmp_path: Path) -> None:
    """Each problem as its place and message, not pydantic's report with its links."""
    path = tmp_path / "broken.yaml"
    path.write_text("turns:\n  - {say: 3}\n")
    with pytest.raises(ConversationError) as caught:
        load_conversation(path)
    text = str(caught.value)
    assert "name: Field required" in text and "turns.0.say: Extra inputs" in text
    assert "\n" not in text and "pydantic.dev" not in text
    path.write_text("just a line of text\n")
    with pytest.raises(ConversationError, match="not a conversation"):
        load_conversation(path)
