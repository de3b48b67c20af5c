"""Replay: a model that answers with recorded steps, and a clock that never waits.

``ScriptedModel`` fails when asked for more steps than recorded or leaves some unused;
``FakeClock`` moves only when ``sleep`` (or a test) moves it. Tests use both via ``maya.testing``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import anyio.lowlevel
from google.genai import types

from maya.agent.models.base import Contents, Reply, Tools

__all__ = [
    "FakeClock",
    "ModelRequest",
    "ScriptExhaustedError",
    "ScriptIncompleteError",
    "ScriptedModel",
    "Step",
]

Step = (
    types.GenerateContentResponse
    | BaseException
    | Callable[[Sequence[types.Content]], types.GenerateContentResponse]
)
"""One recorded model step: a response, an exception to raise, or a response builder."""


class ScriptExhaustedError(AssertionError):
    """The agent asked the scripted model for more responses than were recorded."""


class ScriptIncompleteError(AssertionError):
    """Recorded steps were left unused when the script was expected to be done."""


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """What the agent sent on one call, kept for assertions.

    Attributes:
        system_instruction: the system instruction.
        contents: the conversation as sent.
        tools: the tool declarations.
    """

    system_instruction: str
    contents: tuple[types.Content, ...]
    tools: tuple[types.Tool, ...]


class ScriptedModel:
    """Replays ``steps`` in order, one per ``generate`` call."""

    def __init__(self, steps: Iterable[Step] = (), *, name: str = "scripted") -> None:
        """Create a script.

        Args:
            steps: the recorded steps, in the order the agent will need them.
            name: the model's name in traces.
        """
        self.name = name
        self._steps: list[Step] = list(steps)
        self._next = 0
        self.requests: list[ModelRequest] = []

    def extend(self, steps: Iterable[Step]) -> None:
        """Append more steps (a replayed conversation adds each turn's steps)."""
        self._steps.extend(steps)

    @property
    def used(self) -> int:
        """How many steps have been consumed."""
        return self._next

    @property
    def remaining(self) -> int:
        """How many recorded steps are still unused."""
        return len(self._steps) - self._next

    async def generate(self, *, system_instruction: str, contents: Contents, tools: Tools) -> Reply:
        """Return (or raise) the next recorded step.

        Raises:
            ScriptExhaustedError: no step is left.
            BaseException: a step that is an exception is raised as recorded.
        """
        self.requests.append(
            ModelRequest(
                system_instruction=system_instruction,
                # The loop never edits a content once sent, so keeping references is safe.
                contents=tuple(contents),
                tools=tuple(tools),
            )
        )
        if self._next >= len(self._steps):
            raise ScriptExhaustedError(
                f"the scripted model ran out: call {self._next + 1} was asked for but only "
                f"{len(self._steps)} step(s) were recorded"
            )
        step = self._steps[self._next]
        self._next += 1
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, types.GenerateContentResponse):
            return step.model_copy(deep=True)
        return step(contents)

    def assert_complete(self) -> None:
        """Check that every recorded step was used.

        Raises:
            ScriptIncompleteError: naming how many steps were left.
        """
        if self.remaining:
            raise ScriptIncompleteError(
                f"{self.remaining} of {len(self._steps)} scripted model step(s) were never used"
            )


class FakeClock:
    """A monotonic clock that moves only when ``sleep`` (or a test) moves it.

    Pass the instance as ``clock=`` and its ``sleep`` as ``sleep=``.

    Attributes:
        now: the current reading, in seconds.
        sleeps: every duration ``sleep`` was asked for, in order.
    """

    def __init__(self, start: float = 1000.0) -> None:
        """Start the clock at ``start`` seconds."""
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        """The current reading."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward without sleeping."""
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        """Record the wait, move time forward, and yield to other tasks once."""
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()
