"""Maya the bartender: the chat loop, its models and traces.

The scripted model and the conversation harness: ``maya.conversations``."""

from maya.agent.history import ConversationHistory, history_problems
from maya.agent.loop import (
    Agent,
    TurnResult,
)
from maya.agent.models import (
    GeminiModel,
    GeminiSettings,
    Model,
    OfflineModel,
    RealModelForbiddenError,
)
from maya.agent.models.select import choose_model
from maya.agent.prompt import load_system_instruction
from maya.agent.trace import JsonlTracer, NullTracer

__all__ = [
    "Agent",
    "ConversationHistory",
    "GeminiModel",
    "GeminiSettings",
    "JsonlTracer",
    "Model",
    "NullTracer",
    "OfflineModel",
    "RealModelForbiddenError",
    "TurnResult",
    "choose_model",
    "history_problems",
    "load_system_instruction",
]
