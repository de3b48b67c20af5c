"""Test support for agents built on Maya: a clock that never waits, a scripted model and
the conversation harness (``maya.conversations``), gathered in one import.

No product module imports it (``tests/test_import_direction.py``).
"""

from maya.conversations import (
    Conversation,
    ConversationError,
    ConversationFailure,
    ConversationReport,
    load_conversation,
    run_conversation,
)
from maya.conversations.replay import (
    FakeClock,
    ModelRequest,
    ScriptedModel,
    ScriptExhaustedError,
    ScriptIncompleteError,
    Step,
)

__all__ = [
    "Conversation",
    "ConversationError",
    "ConversationFailure",
    "ConversationReport",
    "FakeClock",
    "ModelRequest",
    "ScriptExhaustedError",
    "ScriptIncompleteError",
    "ScriptedModel",
    "Step",
    "load_conversation",
    "run_conversation",
]
