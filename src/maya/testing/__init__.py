"""Test support for agents built on Maya: a clock that never waits, a scripted model and
the conversation harness (YAML conversations replayed against the real agent and tools).

None of it ships in ``maya.agent``: chatting never loads it.
"""

from maya.testing.clock import FakeClock
from maya.testing.conversation import Conversation, ConversationError, load_conversation
from maya.testing.conversation_runner import (
    ConversationFailure,
    ConversationReport,
    run_conversation,
)
from maya.testing.scripted import (
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
