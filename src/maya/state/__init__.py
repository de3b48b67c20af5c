"""The tab: models, atomic operations (``TabManager``) and the stores that keep it."""

from maya.state.errors import StateError
from maya.state.manager import PaymentStarted, SettleResult, TabManager, validate_session_id
from maya.state.memory import MemoryTabStore
from maya.state.menu import Menu, MenuError, MenuItem, load_menu
from maya.state.models import (
    STARTING_BALANCE_CENTS,
    TIP_PERCENTAGES,
    OrderedItem,
    PaymentRecord,
    PaymentSnapshot,
    PaymentStatus,
    TabState,
)
from maya.state.store import TabStore

__all__ = [
    "STARTING_BALANCE_CENTS",
    "TIP_PERCENTAGES",
    "MemoryTabStore",
    "Menu",
    "MenuError",
    "MenuItem",
    "OrderedItem",
    "PaymentRecord",
    "PaymentSnapshot",
    "PaymentStarted",
    "PaymentStatus",
    "SettleResult",
    "StateError",
    "TabManager",
    "TabState",
    "TabStore",
    "load_menu",
    "validate_session_id",
]
