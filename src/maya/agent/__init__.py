"""Maya the bartender: the chat loop, its models, conversations and traces."""

from maya.agent.history import SessionHistory
from maya.agent.loop import (
    DEFAULT_MAX_TOOL_ROUNDS,
    Agent,
    ToolCallRecord,
    ToolRunner,
    TurnOutcome,
    TurnResult,
)
from maya.agent.model_errors import ModelFailure, describe_model_error
from maya.agent.models import (
    GeminiModel,
    GeminiSettings,
    Model,
    OfflineModel,
    RealModelForbiddenError,
    ScriptedModel,
    ScriptExhaustedError,
    ScriptIncompleteError,
)
from maya.agent.prompt import PromptView, load_system_instruction, prompt_view
from maya.agent.redact import Redactor
from maya.agent.trace import JsonlTracer, NullTracer, Tracer, read_trace, tracer_from_env

__all__ = [
    "DEFAULT_MAX_TOOL_ROUNDS",
    "Agent",
    "GeminiModel",
    "GeminiSettings",
    "JsonlTracer",
    "Model",
    "ModelFailure",
    "NullTracer",
    "OfflineModel",
    "PromptView",
    "RealModelForbiddenError",
    "Redactor",
    "ScriptExhaustedError",
    "ScriptIncompleteError",
    "ScriptedModel",
    "SessionHistory",
    "ToolCallRecord",
    "ToolRunner",
    "Tracer",
    "TurnOutcome",
    "TurnResult",
    "describe_model_error",
    "load_system_instruction",
    "prompt_view",
    "read_trace",
    "tracer_from_env",
]
