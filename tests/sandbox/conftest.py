"""Fixtures for the sandbox's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from maya.sandbox import SandboxStore


@pytest.fixture
def store() -> Iterator[SandboxStore]:
    """A throwaway in-memory store."""
    with SandboxStore() as store:
        yield store
