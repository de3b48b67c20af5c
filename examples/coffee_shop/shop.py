"""What every recipe shares: the catalog, the shop's instruction and its toolset."""

from __future__ import annotations

from pathlib import Path

from maya import CATALOG_TOOLS, Catalog, TabManager, Toolset, open_store
from maya.tools import PaymentGateway

CATALOG_FILE = Path(__file__).with_name("catalog.yaml")
MODEL = "gemini-2.5-flash"
INSTRUCTION = (
    "You take orders at Bean There, a coffee shop. Use get_catalog for prices, order_item "
    "for each item, and create_stripe_payment when the customer wants to pay; give them "
    "the link. check_payment_status tells whether they paid. Never make up prices."
)


def shop_toolset(payments: PaymentGateway | None, *, store_url: str | None = None) -> Toolset:
    """The shop's tools: its catalog, a tab without prepaid balance, neutral words.

    Args:
        payments: the payment gateway (``open_stripe_client()``), None for no card payment.
        store_url: where tabs are kept; default the shop's own SQLite file.
    """
    catalog = Catalog.from_file(CATALOG_FILE)
    store = open_store(store_url, app_name="bean-there")
    return Toolset(
        manager=TabManager(store, catalog=catalog), payments=payments, tools=CATALOG_TOOLS
    )
