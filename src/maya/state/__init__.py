"""The tab: models, atomic operations (``TabManager``) and the stores that keep it."""

from maya.state.catalog import Catalog
from maya.state.conversations import Conversation, ConversationBounds, ConversationStore
from maya.state.errors import StateError
from maya.state.manager import TabManager
from maya.state.memory import MemoryTabStore
from maya.state.models import (
    PaymentStatus,
    TabState,
)
from maya.state.open import StoreURLError, open_store
from maya.state.sql import PostgresTabStore, SqliteTabStore, StoreError
from maya.state.store import TabStore

__all__ = [
    "Catalog",
    "Conversation",
    "ConversationBounds",
    "ConversationStore",
    "MemoryTabStore",
    "PaymentStatus",
    "PostgresTabStore",
    "SqliteTabStore",
    "StateError",
    "StoreError",
    "StoreURLError",
    "TabManager",
    "TabState",
    "TabStore",
    "open_store",
]
