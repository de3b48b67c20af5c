"""The guard that keeps tests from ever reaching a real model: with
``MAYA_FORBID_REAL_MODEL=1`` a Gemini model whose base URL is not this machine refuses to
be built.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["FORBID_REAL_MODEL_ENV", "RealModelForbiddenError", "check_real_model_allowed"]

FORBID_REAL_MODEL_ENV = "MAYA_FORBID_REAL_MODEL"
"""Set to ``1`` (or ``true``/``yes``) to forbid calls to a model that is not local."""

_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_TRUE = frozenset({"1", "true", "yes", "on"})


class RealModelForbiddenError(RuntimeError):
    """A real model was about to be called while ``MAYA_FORBID_REAL_MODEL`` is set."""


def check_real_model_allowed(base_url: str | None, env: Mapping[str, str] | None = None) -> None:
    """Refuse a non-local model endpoint when the guard is on.

    Args:
        base_url: where the model client will send requests (None: the provider's own).
        env: the environment to read (default: ``os.environ``).

    Raises:
        RealModelForbiddenError: the guard is on and ``base_url`` is not 127.0.0.1,
            localhost or ::1.
    """
    environ = os.environ if env is None else env
    if environ.get(FORBID_REAL_MODEL_ENV, "").strip().lower() not in _TRUE:
        return
    host = urlsplit(base_url).hostname if base_url else None
    if host not in _LOCAL_HOSTS:
        raise RealModelForbiddenError(
            f"{FORBID_REAL_MODEL_ENV} is set: real model calls are forbidden here; "
            "use the offline or scripted model, or a base URL on 127.0.0.1"
        )
