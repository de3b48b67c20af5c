"""The soak: Maya keeps taking payments for minutes, in real time, on real processes.

``maya serve`` (offline: its own sandbox, whose signed webhooks settle the tabs) and
``maya mcp --http`` (its own sandbox; status checks settle) run side by side for three
minutes while a customer arrives at each every 20 s (the two interleaved). Every link
must be real, every payment settle, no request fail, and each server's memory (its
process tree's RSS, from /proc) grow less than 10 % between minute 1 and the end.

It takes about 3.5 minutes: the quick loop skips it with ``pytest -m "not soak"``.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from .driver import SoakFigures, soak_serve_and_mcp

pytestmark = [pytest.mark.anyio, pytest.mark.soak, pytest.mark.timeout(420)]

DURATION_S = 180.0
EVERY_S = 20.0
MAX_RSS_GROWTH = 1.10


def _check(figures: SoakFigures) -> None:
    assert figures.errors == []
    assert figures.customers >= DURATION_S // EVERY_S
    assert figures.links == figures.settled == figures.customers
    assert figures.rss_sampled > 0
    assert figures.rss_ratio < MAX_RSS_GROWTH, (
        f"{figures.name}: RSS {figures.rss_sampled:,} -> {figures.rss_end:,} bytes"
    )


async def test_serve_and_mcp_keep_taking_payments_for_three_minutes(tmp_path: Path) -> None:
    with anyio.fail_after(DURATION_S + 150):
        web, mcp = await soak_serve_and_mcp(tmp_path, duration_s=DURATION_S, every_s=EVERY_S)
    print(
        *(
            f"{f.name}: {f.customers} customers, {f.links} links, {f.settled} settled,"
            f" pay->settled p50 {f.percentile(0.5):.2f} s p99 {f.percentile(0.99):.2f} s,"
            f" RSS {f.rss_sampled / 2**20:.1f} -> {f.rss_end / 2**20:.1f} MiB"
            for f in (web, mcp)
        ),
        sep="\n",
    )
    _check(web)
    _check(mcp)
    serve_log = (tmp_path / "serve" / "serve.log").read_text()
    assert "Traceback" not in serve_log and " 500 " not in serve_log, serve_log[-3000:]
