"""Maya as a Google ADK agent; ``adk web examples`` lists it as ``maya_bar``."""

from . import agent

__all__ = ["agent"]
