"""The outside auditors, run as a CI job would: Lighthouse's CLI and axe-core in chromium.

Both come from npm into ``.cache/page-audit/`` (``scripts/install-page-audit``, which
``scripts/test`` runs); Chromium is Debian's. ``missing()`` says what is not there.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio

if TYPE_CHECKING:
    from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
AUDIT = ROOT / ".cache" / "page-audit" / "node_modules"
LIGHTHOUSE = AUDIT / "lighthouse" / "cli" / "index.js"
AXE = AUDIT / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("MAYA_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = (
    "--headless --no-sandbox --disable-gpu --disable-background-networking "
    "--disable-component-update --disable-sync --no-first-run"
)
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
Preset = Literal["desktop", "mobile"]


def missing() -> str | None:
    """Why the audit cannot run here, or None."""
    if shutil.which("node") is None:
        return "no node on PATH (apt-get install nodejs npm)"
    for path in (LIGHTHOUSE, AXE):
        if not path.exists():
            return f"{path.relative_to(ROOT)} is missing: run scripts/install-page-audit"
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM}"
    return None


async def lighthouse(url: str, preset: Preset, *, timeout_s: float = 150.0) -> dict[str, Any]:
    """Lighthouse's whole JSON report on ``url`` (mobile: its default, throttled preset)."""
    args = [
        shutil.which("node") or "node",
        str(LIGHTHOUSE),
        url,
        "--quiet",
        f"--chrome-flags={CHROMIUM_FLAGS}",
        "--output=json",
        "--output-path=stdout",
        f"--only-categories={','.join(CATEGORIES)}",
    ]
    if preset == "desktop":
        args.append("--preset=desktop")
    with anyio.fail_after(timeout_s):
        done = await anyio.run_process(
            args, env={**os.environ, "CHROME_PATH": CHROMIUM}, check=False
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"lighthouse exited {done.returncode}: {done.stderr.decode(errors='replace')[-2000:]}"
        )
    report: dict[str, Any] = json.loads(done.stdout)
    if report.get("runtimeError"):
        raise RuntimeError(f"lighthouse: {report['runtimeError']}")
    return report


def scores(report: dict[str, Any]) -> dict[str, float]:
    """Each category's score, 0..1."""
    return {name: float(c["score"]) for name, c in report["categories"].items()}


def failed_audits(report: dict[str, Any]) -> list[str]:
    """The audits under 1 that count towards a score: what to fix, in a failure message."""
    found = []
    for category in report["categories"].values():
        for ref in category["auditRefs"]:
            audit = report["audits"][ref["id"]]
            if ref.get("weight") and audit["score"] is not None and audit["score"] < 1:
                found.append(f"{category['id']}/{audit['id']}={audit['score']}")
    return found


async def axe_violations(page: Page, *, settle: bool = True) -> list[dict[str, Any]]:
    """axe-core's violations on ``page`` (its context must bypass the CSP: the page allows
    only its own script); ``settle``: once the figures' change highlight has ended."""
    if settle:
        await page.evaluate(
            "() => Promise.all(document.getAnimations()"
            ".filter(a => a.effect.getTiming().iterations !== Infinity).map(a => a.finished))"
        )
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in result["violations"]
    ]
