"""Gemini through the real ``google.genai`` client.

One ``generate`` is one HTTP request bounded by ``timeout_s`` (the loop retries, not the
SDK); the API key is never in a repr, a log or a trace.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from maya.agent.models.base import Contents, OnText, Reply, Tools
from maya.agent.models.guard import check_real_model_allowed
from maya.agent.streaming import merge_chunks
from maya.redact import REDACTED

__all__ = [
    "DEFAULT_GEMINI_MODEL",
    "GeminiModel",
    "GeminiSettings",
    "gemini_api_key",
]

DEFAULT_GEMINI_MODEL = "gemini-2.5-flash"
"""The model used when ``MAYA_GEMINI_MODEL`` is not set."""


def gemini_api_key(env: Mapping[str, str] | None = None) -> str | None:
    """The Gemini key from ``GEMINI_API_KEY`` or ``GOOGLE_API_KEY`` (None when unset)."""
    environ = os.environ if env is None else env
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY"):
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class GeminiSettings:
    """How to reach Gemini.

    Attributes:
        api_key: the key (never shown in a repr).
        model: the model name.
        base_url: another endpoint (a local test server); None for Google's.
        api_version: the API version path segment; None for the SDK's default.
        timeout_s: the timeout of one request (the turn's budget may end it sooner).
    """

    api_key: str = field(repr=False)
    model: str = DEFAULT_GEMINI_MODEL
    base_url: str | None = None
    api_version: str | None = None
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GeminiSettings | None:
        """Settings from the environment, or None when no key is set.

        Reads ``GEMINI_API_KEY``/``GOOGLE_API_KEY``, ``MAYA_GEMINI_MODEL``,
        ``MAYA_GEMINI_BASE_URL`` and ``MAYA_GEMINI_TIMEOUT_S``.
        """
        environ = os.environ if env is None else env
        key = gemini_api_key(environ)
        if key is None:
            return None
        timeout = environ.get("MAYA_GEMINI_TIMEOUT_S", "").strip()
        return cls(
            api_key=key,
            model=environ.get("MAYA_GEMINI_MODEL", "").strip() or DEFAULT_GEMINI_MODEL,
            base_url=environ.get("MAYA_GEMINI_BASE_URL", "").strip() or None,
            timeout_s=float(timeout) if timeout else 30.0,
        )


def _without(value: Any, secret: str) -> Any:
    if isinstance(value, str):
        return value.replace(secret, REDACTED)
    if isinstance(value, dict):
        return {k: _without(v, secret) for k, v in value.items()}
    if isinstance(value, list):
        return [_without(v, secret) for v in value]
    return value


def _scrub(exc: genai_errors.APIError, secret: str) -> None:
    """Take the key out of an API error before anyone logs or shows it."""
    if not secret:
        return
    exc.message = _without(exc.message, secret)
    exc.details = _without(exc.details, secret)
    exc.args = tuple(_without(arg, secret) for arg in exc.args)


class GeminiModel:
    """The real Gemini model behind the ``Model`` seam."""

    def __init__(self, settings: GeminiSettings, *, env: Mapping[str, str] | None = None) -> None:
        """Build the client.

        Args:
            settings: endpoint, model, timeouts and retries.
            env: the environment the real-model guard reads (default: ``os.environ``).

        Raises:
            RealModelForbiddenError: ``MAYA_FORBID_REAL_MODEL`` is set and the endpoint
                is not local.
        """
        check_real_model_allowed(settings.base_url, env)
        self.settings = settings
        self.name = settings.model
        # One attempt: the loop retries, within the turn's budget (see the module doc).
        retry = types.HttpRetryOptions(attempts=1)
        http_options = types.HttpOptions(
            base_url=settings.base_url,
            api_version=settings.api_version,
            timeout=int(settings.timeout_s * 1000),
            retry_options=retry,
        )
        self._client = genai.Client(api_key=settings.api_key, http_options=http_options)

    def __repr__(self) -> str:
        return f"GeminiModel(model={self.name!r}, base_url={self.settings.base_url!r})"

    async def generate(self, *, system_instruction: str, contents: Contents, tools: Tools) -> Reply:
        """One ``generateContent`` call, automatic function calling off.

        Raises:
            google.genai.errors.APIError: the API refused or failed (with the key taken
                out of its message and details).
            TimeoutError: no answer within ``settings.timeout_s``.
        """
        config = _config(system_instruction, tools)
        try:
            with anyio.fail_after(self.settings.timeout_s):
                return await self._client.aio.models.generate_content(
                    model=self.settings.model, contents=list(contents), config=config
                )
        except genai_errors.APIError as exc:
            _scrub(exc, self.settings.api_key)
            raise

    async def generate_streaming(
        self, *, system_instruction: str, contents: Contents, tools: Tools, on_text: OnText
    ) -> Reply:
        """One ``streamGenerateContent`` call: text handed over chunk by chunk.

        The whole stream is bounded by ``settings.timeout_s``; the chunks are merged
        into the response ``generate`` would have given (``merge_chunks``).

        Raises:
            google.genai.errors.APIError: the API refused or failed (key taken out).
            TimeoutError: the stream did not end within ``settings.timeout_s``.
        """
        config = _config(system_instruction, tools)
        chunks: list[types.GenerateContentResponse] = []
        try:
            with anyio.fail_after(self.settings.timeout_s):
                stream = await self._client.aio.models.generate_content_stream(
                    model=self.settings.model, contents=list(contents), config=config
                )
                async for chunk in stream:
                    chunks.append(chunk)
                    for candidate in (chunk.candidates or [])[:1]:
                        for part in (candidate.content.parts if candidate.content else None) or []:
                            if part.text and not part.thought:
                                await on_text(part.text)
        except genai_errors.APIError as exc:
            _scrub(exc, self.settings.api_key)
            raise
        return merge_chunks(chunks)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aio.aclose()
        self._client.close()


def _config(system_instruction: str, tools: Sequence[types.Tool]) -> types.GenerateContentConfig:
    """One call's configuration: the instruction, the tools, automatic calling off."""
    return types.GenerateContentConfig(
        system_instruction=system_instruction,
        tools=list(tools),
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
