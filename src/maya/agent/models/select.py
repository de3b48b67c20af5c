"""Choosing the model: Gemini when a key is set, the offline model otherwise."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from maya.agent.models.base import Model
from maya.agent.models.gemini import GeminiModel, GeminiSettings
from maya.agent.models.offline import OfflineModel

__all__ = ["ModelChoice", "choose_model"]

OFFLINE_ANNOUNCEMENT = (
    "No GEMINI_API_KEY or GOOGLE_API_KEY is set: Maya runs on her offline model "
    "(rule-based, no network)."
)


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """The chosen model and the line announcing it (say it once, at start).

    Attributes:
        model: the model.
        announcement: one line for the person at the terminal.
        is_offline: True for the offline model.
    """

    model: Model
    announcement: str
    is_offline: bool


def choose_model(env: Mapping[str, str] | None = None, *, offline: bool = False) -> ModelChoice:
    """Gemini when a key is set (and ``offline`` is False), else the offline model.

    Raises:
        RealModelForbiddenError: a key is set but real model calls are forbidden here.
    """
    environ = os.environ if env is None else env
    settings = None if offline else GeminiSettings.from_env(environ)
    if settings is None:
        announcement = (
            "Maya runs on her offline model (rule-based, no network)."
            if offline
            else OFFLINE_ANNOUNCEMENT
        )
        return ModelChoice(model=OfflineModel(), announcement=announcement, is_offline=True)
    where = f" at {settings.base_url}" if settings.base_url else ""
    return ModelChoice(
        model=GeminiModel(settings, env=environ),
        announcement=f"Maya runs on Gemini ({settings.model}{where}).",
        is_offline=False,
    )
