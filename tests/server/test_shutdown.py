"""``maya serve`` stops cleanly with pages open: SIGTERM or SIGINT ends every open event
stream, and the process exits 0 within 2 s with no traceback (real processes, 1 and 3
workers, the offline sandbox started by serve itself)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import anyio
import httpx
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from maya.web.security import COOKIE_NAME

from .test_serve import clean_env, read_line, url_in

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

STOP_WITHIN_S = 2.0


async def open_stream(http: httpx.AsyncClient, opened: list[bool], ended: list[bool]) -> None:
    """Hold a page's tab stream open until the server ends it."""
    seen = False
    async with http.stream("GET", "/api/tab/events") as response:
        assert response.status_code == 200
        async for chunk in response.aiter_bytes():
            if b"event: tab" in chunk and not seen:
                seen = True
                opened.append(True)
    ended.append(True)


@pytest.mark.parametrize(
    ("workers", "signum"),
    [(1, signal.SIGTERM), (1, signal.SIGINT), (3, signal.SIGTERM), (3, signal.SIGINT)],
)
async def test_a_signal_ends_open_streams_and_exits_0_within_2_s(
    tmp_path: Path, workers: int, signum: signal.Signals
) -> None:
    store = f"sqlite:///{tmp_path / 'tabs.sqlite3'}"
    log = (tmp_path / "serve.log").open("wb")
    command = [sys.executable, "-m", "maya.cli", "serve", "--port", "0", "--store", store]
    process = await anyio.open_process(
        [*command, "--workers", str(workers)],
        env=clean_env(tmp_path),
        cwd=tmp_path,  # no mcp.json: the offline sandbox
        stdout=subprocess.PIPE,
        stderr=log,
        start_new_session=True,  # its own process group: a failed test leaves no worker behind
    )
    try:
        assert process.stdout is not None
        stdout = BufferedByteReceiveStream(process.stdout)
        with anyio.fail_after(60):
            base = url_in(await read_line(stdout, "listening on"), "listening on ")
        opened: list[bool] = []
        ended: list[bool] = []
        pages = 4
        async with httpx.AsyncClient(base_url=base, timeout=30) as first:
            token = (await first.get("/")).cookies[COOKIE_NAME]
        clients = [httpx.AsyncClient(base_url=base, timeout=30) for _ in range(pages)]
        try:
            async with anyio.create_task_group() as group:
                for client in clients:
                    client.cookies.set(COOKIE_NAME, token)
                    group.start_soon(open_stream, client, opened, ended)
                with anyio.fail_after(30):  # every page has its tab: its stream is open
                    while len(opened) < pages:  # noqa: ASYNC110 - counted by the streams
                        await anyio.sleep(0.05)
                process.send_signal(signum)
                started = time.monotonic()
                with anyio.fail_after(10):
                    await process.wait()
                took = time.monotonic() - started
        finally:
            for client in clients:
                await client.aclose()
        rest = b""
        with contextlib.suppress(anyio.EndOfStream, anyio.ClosedResourceError):
            while True:
                rest += await stdout.receive(65536)
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
        with anyio.fail_after(15):
            await process.aclose()
        log.close()
    output = (tmp_path / "serve.log").read_text() + rest.decode()
    assert process.returncode == 0, output
    assert took < STOP_WITHIN_S, f"took {took:.2f} s\n{output}"
    assert ended == [True] * pages
    assert "Traceback" not in output and "graceful shutdown exceeded" not in output, output
