"""Conversation files played against the real agent: the harness behind export-adk.

A YAML file (``schema``) holds a customer's turns, the model's recorded answers
(``replay``) and what must happen; ``run_conversation`` plays it and checks every turn.
"""

from maya.conversations.runner import ConversationFailure, run_conversation
from maya.conversations.schema import Conversation, ConversationError, load_conversation

__all__ = [
    "Conversation",
    "ConversationError",
    "ConversationFailure",
    "load_conversation",
    "run_conversation",
]
