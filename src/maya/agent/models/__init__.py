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
    DEFAULT_GEMINI_MODEL,
    GeminiModel,
    GeminiSettings,
    gemini_api_key,
)
from maya.agent.models.guard import (
    FORBID_REAL_MODEL_ENV,
    RealModelForbiddenError,
    check_real_model_allowed,
)
from maya.agent.models.offline import OfflineModel
from maya.agent.models.offline_parse import DrinkOrder, Intent, parse_message

__all__ = [
    "DEFAULT_GEMINI_MODEL",
    "FORBID_REAL_MODEL_ENV",
    "DrinkOrder",
    "GeminiModel",
    "GeminiSettings",
    "Intent",
    "Model",
    "OfflineModel",
    "RealModelForbiddenError",
    "calls_response",
    "check_real_model_allowed",
    "function_calls_of",
    "gemini_api_key",
    "parse_message",
    "response_content",
    "response_from_parts",
    "text_of",
    "text_response",
]
