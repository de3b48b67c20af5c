"""Fixtures for the tools layer: a memory-backed manager and a scriptable payment gateway."""

from __future__ import annotations

import pytest
from scripted_gateway import ScriptedGateway

from maya.bar import load_menu
from maya.bar.menu import bar_messages
from maya.state import MemoryTabStore, TabManager
from maya.tools import Toolset


@pytest.fixture
def manager() -> TabManager:
    """A tab manager on a fresh memory store."""
    return TabManager(MemoryTabStore(), catalog=load_menu())


@pytest.fixture
def gateway() -> ScriptedGateway:
    """A scripted gateway with no links yet."""
    return ScriptedGateway()


@pytest.fixture
def toolset(manager: TabManager, gateway: ScriptedGateway) -> Toolset:
    """The bar's toolset (in Maya's voice) over the memory store and the scripted gateway."""
    return Toolset(manager=manager, payments=gateway, messages=bar_messages())
