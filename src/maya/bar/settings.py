"""The bar's tab settings: a prepaid balance, 1-20 of a drink, 10/15/20 % tips."""

from __future__ import annotations

from maya.state.catalog import TabSettings
from maya.state.models import STARTING_BALANCE_CENTS, TIP_PERCENTAGES

__all__ = ["BAR_SETTINGS", "MAX_QUANTITY"]

MAX_QUANTITY = 20
"""The most of one drink a single order may ask for at the bar."""

BAR_SETTINGS = TabSettings(
    starting_balance_cents=STARTING_BALANCE_CENTS,
    max_quantity=MAX_QUANTITY,
    tip_percentages=TIP_PERCENTAGES,
)
"""The bar's tab: a $1,000.00 prepaid balance, 1-20 of a drink, 10/15/20 % tips."""
