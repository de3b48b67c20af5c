"""The coffee-shop examples are imported as ``examples.coffee_shop`` from the repository."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from shop_support import payments, sandbox  # noqa: E402 - the shop tests' fixtures

__all__ = ["payments", "sandbox"]
