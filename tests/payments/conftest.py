"""Fixtures for payments tests: a fake clock, the sandbox in memory and as a process."""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest
from anyio.abc import Process

from maya.payments import StripeMCPClient, StripeMode
from maya.sandbox import MEMORY, CallCounts, Dialect, FaultConfig, SandboxStore, build_mcp_server
from maya.testing import FakeClock

CHECKOUT_BASE = "http://127.0.0.1:9"
"""In-memory sandboxes are never browsed; links just need an absolute URL."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store() -> Iterator[SandboxStore]:
    with SandboxStore(MEMORY) as sandbox_store:
        yield sandbox_store


MakeClient = Callable[..., StripeMCPClient]


@pytest.fixture
def calls() -> CallCounts:
    """The requests every in-memory sandbox of the test answered, counted by the servers."""
    return CallCounts()


@pytest.fixture
def make_client(store: SandboxStore, clock: FakeClock, calls: CallCounts) -> MakeClient:
    """Build an in-memory client over ``store``: ``make_client(dialect=..., faults=...)``."""

    def make(
        *,
        dialect: Dialect = "generic",
        faults: str | None = None,
        mode: StripeMode = "test",
        **options: Any,
    ) -> StripeMCPClient:
        server = build_mcp_server(
            store,
            dialect=dialect,
            faults=FaultConfig.parse(faults) if faults else None,
            checkout_base_url=CHECKOUT_BASE,
            crash=lambda: None,
            counts=calls,
        )
        options.setdefault("clock", clock)
        options.setdefault("sleep", clock.sleep)
        return StripeMCPClient.in_memory(
            server,
            mode=mode,
            allow_live=mode == "live",
            **options,
        )

    return make


@pytest.fixture
def payments_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="maya.payments")
    return caplog


# -- the sandbox as a real process ---------------------------------------------------


def sandbox_children(db: Path) -> list[int]:
    """PIDs of this process's sandbox children serving ``db`` (from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"maya.sandbox" in cmdline and str(db).encode() in cmdline:
            pids.append(int(entry.name))
    return pids


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


async def _read(path: Path) -> str:
    return await anyio.Path(path).read_text()


class HttpSandbox:
    """``python -m maya.sandbox --http`` on the port it binds (port 0 the first time, then
    the port it announced, so a restart is at the same address)."""

    _ANNOUNCED = re.compile(r"MCP at http://127\.0\.0\.1:(\d+)/mcp")

    def __init__(self, db: Path, *, extra: tuple[str, ...] = ()) -> None:
        self.db = db
        self.port = 0
        self.extra = extra
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/mcp"

    async def start(self) -> None:
        announcements = self.db.with_name(f"{self.db.name}.stderr-{self.port}")
        with announcements.open("wb") as stderr:
            self.process = await anyio.open_process(
                [
                    sys.executable,
                    "-m",
                    "maya.sandbox",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--db",
                    str(self.db),
                    *self.extra,
                ],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        with anyio.fail_after(20):
            while not (
                found := self._ANNOUNCED.search(await anyio.Path(announcements).read_text())
            ):
                assert self.process.returncode is None, "the sandbox exited while starting"
                await anyio.sleep(0.05)
        self.port = int(found.group(1))

    async def kill(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            with anyio.fail_after(10):
                await self.process.wait()


@pytest.fixture
async def http_sandbox(tmp_path: Path) -> AsyncIterator[HttpSandbox]:
    sandbox = HttpSandbox(tmp_path / "http.sqlite3")
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.kill()
