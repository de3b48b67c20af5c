"""The soak: Maya keeps taking payments for minutes, in real time, on real processes.

``maya serve`` (offline: its own sandbox, whose signed webhooks settle the tabs) and
``maya mcp --http`` (its own sandbox; status checks settle) run side by side for three
minutes while a customer arrives at each every 20 s (the two interleaved). Every link
must be real, every payment settle, no request fail, and each server's memory (its
process tree's RSS, from /proc) grow less than 10 % between minute 1 and the end.

It takes about 3.5 minutes: the quick loop skips it with ``pytest -m "not soak"``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import anyio
import pytest

from .driver import (
    SoakFigures,
    mcp_customer,
    run_soak,
    serving_mcp,
    serving_web,
    web_customer,
)

pytestmark = [pytest.mark.anyio, pytest.mark.soak, pytest.mark.timeout(420)]

DURATION_S = 180.0
EVERY_S = 20.0
MAX_RSS_GROWTH = 1.10


def _check(figures: SoakFigures) -> None:
    assert figures.errors == []
    assert figures.customers >= DURATION_S // EVERY_S
    assert figures.links == figures.settled == figures.customers
    assert figures.rss_minute_1 > 0
    assert figures.rss_ratio < MAX_RSS_GROWTH, (
        f"{figures.name}: RSS {figures.rss_minute_1:,} -> {figures.rss_end:,} bytes"
    )


async def test_serve_and_mcp_keep_taking_payments_for_three_minutes(tmp_path: Path) -> None:
    web = SoakFigures("serve")
    mcp = SoakFigures("mcp")
    with anyio.fail_after(DURATION_S + 150):
        async with (
            serving_web(tmp_path / "serve") as (serve_process, base),
            serving_mcp(tmp_path / "mcp") as (mcp_process, url),
            anyio.create_task_group() as group,
        ):
            group.start_soon(
                functools.partial(
                    run_soak,
                    functools.partial(web_customer, base, web),
                    web,
                    serve_process.pid,
                    duration_s=DURATION_S,
                    every_s=EVERY_S,
                )
            )
            group.start_soon(
                functools.partial(
                    run_soak,
                    functools.partial(mcp_customer, url, mcp),
                    mcp,
                    mcp_process.pid,
                    duration_s=DURATION_S,
                    every_s=EVERY_S,
                    offset_s=EVERY_S / 2,
                )
            )
    print(
        *(
            f"{f.name}: {f.customers} customers, {f.links} links, {f.settled} settled,"
            f" pay->settled p50 {f.percentile(0.5):.2f} s p99 {f.percentile(0.99):.2f} s,"
            f" RSS {f.rss_minute_1 / 2**20:.1f} -> {f.rss_end / 2**20:.1f} MiB"
            for f in (web, mcp)
        ),
        sep="\n",
    )
    _check(web)
    _check(mcp)
    serve_log = (tmp_path / "serve" / "serve.log").read_text()
    assert "Traceback" not in serve_log and " 500 " not in serve_log, serve_log[-3000:]
