"""The tab: models, atomic operations (``TabManager``) and the stores that keep it."""

from maya.state.catalog import Catalog, CatalogError, LineItem, TabSettings
from maya.state.conversations import Conversation, ConversationBounds, ConversationStore
from maya.state.errors import StateError
from maya.state.events import EventOutcome, EventResult, PaymentEvent
from maya.state.manager import PaymentStarted, SettleResult, TabManager, validate_session_id
from maya.state.memory import MemoryTabStore
from maya.state.models import (
    STARTING_BALANCE_CENTS,
    TIP_PERCENTAGES,
    OrderedItem,
    PaymentRecord,
    PaymentSnapshot,
    PaymentStatus,
    TabState,
)
from maya.state.open import StoreURLError, open_store
from maya.state.sql import PostgresTabStore, SqliteTabStore, StoreError
from maya.state.store import Change, TabStore

__all__ = [
    "STARTING_BALANCE_CENTS",
    "TIP_PERCENTAGES",
    "Catalog",
    "CatalogError",
    "Change",
    "Conversation",
    "ConversationBounds",
    "ConversationStore",
    "EventOutcome",
    "EventResult",
    "LineItem",
    "MemoryTabStore",
    "OrderedItem",
    "PaymentEvent",
    "PaymentRecord",
    "PaymentSnapshot",
    "PaymentStarted",
    "PaymentStatus",
    "PostgresTabStore",
    "SettleResult",
    "SqliteTabStore",
    "StateError",
    "StoreError",
    "StoreURLError",
    "TabManager",
    "TabSettings",
    "TabState",
    "TabStore",
    "open_store",
    "validate_session_id",
]
