"""Test support for agents built on Maya: a clock that never waits and a scripted model
(``maya.conversations.replay``), and a client's MCP call counter (``client_calls``).

No product module imports it (``tests/test_import_direction.py``).
"""

from maya.conversations.replay import (
    FakeClock,
    ScriptedModel,
    ScriptExhaustedError,
    ScriptIncompleteError,
)

__all__ = ["FakeClock", "ScriptExhaustedError", "ScriptIncompleteError", "ScriptedModel"]
