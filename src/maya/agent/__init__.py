"""Maya the bartender: the chat loop, its models and traces.

The scripted model and the conversation harness: ``maya.conversations``."""

from maya.agent.fallback import fallback_reply
from maya.agent.history import ConversationHistory, history_problems
from maya.agent.loop import (
    DEFAULT_MAX_TOOL_ROUNDS,
    Agent,
    ToolCallRecord,
    TurnOutcome,
    TurnResult,
)
from maya.agent.model_errors import (
    DEFAULT_TURN_BUDGET_S,
    ModelFailure,
    RetryPolicy,
    describe_model_error,
)
from maya.agent.models import (
    GeminiModel,
    GeminiSettings,
    Model,
    OfflineModel,
    RealModelForbiddenError,
)
from maya.agent.models.select import ModelChoice, choose_model
from maya.agent.prompt import PromptView, load_system_instruction, prompt_view
from maya.agent.trace import JsonlTracer, NullTracer, Tracer, read_trace, tracer_from_env

__all__ = [
    "DEFAULT_MAX_TOOL_ROUNDS",
    "DEFAULT_TURN_BUDGET_S",
    "Agent",
    "ConversationHistory",
    "GeminiModel",
    "GeminiSettings",
    "JsonlTracer",
    "Model",
    "ModelChoice",
    "ModelFailure",
    "NullTracer",
    "OfflineModel",
    "PromptView",
    "RealModelForbiddenError",
    "RetryPolicy",
    "ToolCallRecord",
    "Tracer",
    "TurnOutcome",
    "TurnResult",
    "choose_model",
    "describe_model_error",
    "fallback_reply",
    "history_problems",
    "load_system_instruction",
    "prompt_view",
    "read_trace",
    "tracer_from_env",
]
