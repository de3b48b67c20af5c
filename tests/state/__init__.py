"""Tests of the tab: money, menu, rules and every store."""
