"""The models behind Maya's seam: Gemini and offline (rule-based); the scripted one is
``maya.conversations.ScriptedModel``."""

from maya.agent.models.base import (
    Model,
    calls_response,
    function_calls_of,
    response_content,
    response_from_parts,
    text_of,
    text_response,
)
from maya.agent.models.gemini import (
    GeminiModel,
    GeminiSettings,
)
from maya.agent.models.guard import (
    RealModelForbiddenError,
    check_real_model_allowed,
)
from maya.agent.models.offline import OfflineModel
from maya.agent.models.offline_parse import DrinkOrder, parse_message

__all__ = [
    "DrinkOrder",
    "GeminiModel",
    "GeminiSettings",
    "Model",
    "OfflineModel",
    "RealModelForbiddenError",
    "calls_response",
    "check_real_model_allowed",
    "function_calls_of",
    "parse_message",
    "response_content",
    "response_from_parts",
    "text_of",
    "text_response",
]
