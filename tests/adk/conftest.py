"""Fixtures for the ADK tests: the coffee shop's sandbox and payments client."""

from shop_support import payments, sandbox

__all__ = ["payments", "sandbox"]
