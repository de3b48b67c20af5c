"""Fault injection: make the sandbox slow, silent, dead or wrong on purpose.

A spec string (``--faults SPEC`` or ``MAYA_SANDBOX_FAULTS``; the flag's keys win) of
comma-separated ``key=value`` pairs, e.g. ``latency=0.2,hang_after=3``: see ``FaultConfig``.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any, Literal, TypeVar

import anyio
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from maya.sandbox.calls import CallCounts

__all__ = [
    "CRASH_EXIT_CODE",
    "FAULTS_ENV",
    "FaultConfig",
    "FaultInjector",
    "FaultSpecError",
    "MalformedMode",
]

FAULTS_ENV = "MAYA_SANDBOX_FAULTS"
"""The environment variable holding a fault spec."""

CRASH_EXIT_CODE = 70
"""Exit status of an injected crash (``EX_SOFTWARE``), so tests can tell it from others."""

MalformedMode = Literal["none", "text", "fields"]
"""How a malformed answer is broken: not at all, non-JSON text, or JSON missing fields."""

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class FaultSpecError(ValueError):
    """A fault spec that cannot be parsed; the message names the bad key or value."""


class FaultConfig(BaseModel):
    """Which faults the sandbox injects. The default injects none.

    Keys (calls are ``tools/call`` requests that the ``only`` filter selects, numbered from 1):

    ``latency=SECONDS``
        Sleep this long before answering every call.
    ``hang_after=N``
        Calls after the N-th never answer (``hang_after=0``: every call hangs). Nothing is done.
    ``hang_on=N``
        Only the N-th call never answers. Nothing is done.
    ``act_then_hang_after=N`` / ``act_then_hang_on=N``
        Like the hangs above, but the call does its work first (creates the link, ...) and
        then never answers: the ambiguous failure that idempotency keys exist for.
    ``crash_after=N``
        The process exits (status 70) on receiving call N+1, without answering it.
    ``act_then_crash_on=N``
        Call N does its work (creates the link, ...) and then the process exits without
        answering: the lost reply after Stripe acted.
    ``act_then_error_on=N``
        Call N does its work and then answers with the dialect's failure (a 502-style
        ``api_error`` after the upstream acted).
    ``rate_limit_on=N``
        Call N is refused as rate limited (Stripe's 429: ``code: rate_limit``), doing nothing.
    ``refuse=1``
        Every call is refused as not permitted (a restricted key without that permission),
        doing nothing; with ``only``, e.g. ``refuse=1,only=PostPaymentLinksPaymentLink``.
    ``error_rate=P``
        Each call fails with probability P (0..1) without doing anything. The generic dialect
        answers with ``isError`` and a Stripe ``api_error`` body; the named dialect with its
        plain-text failure (``"Failed to create payment link"``) and no ``isError``.
    ``seed=S``
        Seed for ``error_rate``'s coin flips, for repeatable runs.
    ``malformed=text|fields`` (``1`` means ``text``)
        The call does its work, then answers with non-JSON text (``text``) or with JSON
        missing its identifying fields: ``id``, ``url``, ``status``, ``payment_status``,
        ``data`` (``fields``).
    ``text_failures=1``
        Every named-dialect call fails with its plain-text failure and no ``isError``,
        without doing anything (the named server's quirk, every time).
    ``only=NAME+NAME``
        Apply faults only to these tools or generic operations
        (``only=PostPaymentLinks+create_payment_link``); other calls run normally and are
        not counted.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    latency: float = Field(default=0.0, ge=0.0, description="Seconds added before each answer.")
    hang_after: int | None = Field(default=None, ge=0, description="Calls after N never answer.")
    hang_on: int | None = Field(default=None, ge=1, description="Call N never answers.")
    act_then_hang_after: int | None = Field(
        default=None, ge=0, description="Calls after N act, then never answer."
    )
    act_then_hang_on: int | None = Field(
        default=None, ge=1, description="Call N acts, then never answers."
    )
    crash_after: int | None = Field(
        default=None, ge=0, description="The process exits on call N+1."
    )
    act_then_crash_on: int | None = Field(
        default=None, ge=1, description="Call N acts, then the process exits."
    )
    act_then_error_on: int | None = Field(
        default=None, ge=1, description="Call N acts, then answers with a failure."
    )
    rate_limit_on: int | None = Field(
        default=None, ge=1, description="Call N is refused as rate limited."
    )
    refuse: bool = Field(default=False, description="Calls are refused as not permitted.")
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Chance a call fails.")
    seed: int | None = Field(default=None, description="Seed for error_rate.")
    malformed: MalformedMode = Field(default="none", description="How answers are broken.")
    text_failures: bool = Field(default=False, description="Named calls fail as plain text.")
    only: frozenset[str] = Field(
        default=frozenset(), description="Tools/operations faults apply to; empty means all."
    )

    @field_validator("malformed", mode="before")
    @classmethod
    def _malformed_flag(cls, value: Any) -> Any:
        # ``malformed=1`` reads naturally in a spec; it means the most common breakage.
        if isinstance(value, str) and value.lower() in _TRUE:
            return "text"
        if isinstance(value, str) and value.lower() in _FALSE:
            return "none"
        return value

    @property
    def active(self) -> bool:
        """Whether any fault is configured."""
        return self != FaultConfig()

    def applies_to(self, names: Collection[str]) -> bool:
        """Whether a call known by any of ``names`` (tool, operation) is subject to faults."""
        return not self.only or any(name in self.only for name in names)

    @classmethod
    def parse(cls, spec: str) -> FaultConfig:
        """Parse a spec such as ``"latency=0.2,hang_after=3"``; later keys win.

        Raises:
            FaultSpecError: an item is not ``key=value``, the key is unknown, or the
                value is out of range.
        """
        values: dict[str, Any] = {}
        for item in spec.split(","):
            item = item.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key = key.strip().replace("-", "_")
            if not sep or not key:
                raise FaultSpecError(f"fault spec item {item!r} is not key=value")
            value = value.strip()
            if key == "only":
                values[key] = frozenset(part for part in value.split("+") if part)
            else:
                values[key] = value
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'spec'}: {err['msg']}"
                for err in exc.errors()
            )
            raise FaultSpecError(f"bad fault spec {spec!r}: {problems}") from exc

    @classmethod
    def from_sources(
        cls, flag: str | None = None, environ: Mapping[str, str] | None = None
    ) -> FaultConfig:
        """Combine ``MAYA_SANDBOX_FAULTS`` from ``environ`` with a ``--faults`` value.

        Raises:
            FaultSpecError: either spec is malformed.
        """
        env = (os.environ if environ is None else environ).get(FAULTS_ENV, "")
        return cls.parse(",".join(part for part in (env, flag or "") if part))


def _exit_process() -> None:
    # os._exit, not sys.exit: a crash must not run cleanup or answer anything.
    sys.stderr.write("maya sandbox: injected crash\n")
    sys.stderr.flush()
    os._exit(CRASH_EXIT_CODE)


class FaultInjector:
    """Applies a ``FaultConfig`` to calls, counting them per server.

    Args:
        config: The faults to inject.
        crash: Called instead of answering when ``crash_after`` is reached; by default
            it ends the process. In-process tests pass a recorder.
    """

    def __init__(
        self,
        config: FaultConfig,
        *,
        crash: Callable[[], None] = _exit_process,
        counts: CallCounts | None = None,
    ) -> None:
        self.config = config
        self.calls = 0
        self.counts = counts if counts is not None else CallCounts()
        self._crash = crash
        self._random = random.Random(config.seed)

    async def run(
        self,
        names: Sequence[str],
        act: Callable[[], Awaitable[T]],
        *,
        fail: Callable[[], T],
        malform: Callable[[T, MalformedMode], T],
        text_dialect: bool = False,
        rate_limited: Callable[[], T] | None = None,
        refused: Callable[[], T] | None = None,
    ) -> T:
        """Run one call's work under the configured faults.

        Args:
            names: The call's tool name and, for the operation tools, its operation.
            act: Does the call's work and builds the normal answer.
            fail: Builds the dialect's failure answer (the work is skipped).
            malform: Breaks a normal answer in the given way.
            text_dialect: The call belongs to the named dialect, where
                ``text_failures`` applies.
            rate_limited: Builds the dialect's rate-limit answer (default: ``fail``).
            refused: Builds the dialect's permission refusal (default: ``fail``).

        Returns:
            The answer to send, unless the call hangs forever or the process crashes.
        """
        tool, *operation = names
        self.counts.record(tool, operation[0] if operation else None)
        config = self.config
        if not config.active or not config.applies_to(names):
            return await act()
        self.calls += 1
        number = self.calls
        if config.crash_after is not None and number > config.crash_after:
            self._crash()
            raise RuntimeError("injected crash")
        if config.latency:
            await anyio.sleep(config.latency)
        if _selected(number, config.hang_after, config.hang_on):
            await anyio.sleep_forever()
        if config.refuse:
            return (refused or fail)()
        if config.rate_limit_on == number:
            return (rate_limited or fail)()
        if (config.text_failures and text_dialect) or (
            config.error_rate and self._random.random() < config.error_rate
        ):
            return fail()
        answer = await act()
        if _selected(number, config.act_then_hang_after, config.act_then_hang_on):
            await anyio.sleep_forever()
        if config.act_then_crash_on == number:
            self._crash()
            raise RuntimeError("injected crash")
        if config.act_then_error_on == number:
            return fail()
        if config.malformed != "none":
            return malform(answer, config.malformed)
        return answer


def _selected(number: int, after: int | None, on: int | None) -> bool:
    return (after is not None and number > after) or (on is not None and number == on)
