"""Test support for agents built on Maya: a clock that never waits, a scripted model and
the conversation harness (``maya.conversations``), gathered in one import.

No product module imports it (``tests/test_import_direction.py``).
"""

from maya import conversations
from maya.conversations import *  # noqa: F403
from maya.conversations import replay
from maya.conversations.replay import *  # noqa: F403

__all__ = conversations.__all__ + replay.__all__
