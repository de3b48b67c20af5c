"""The outside audit in CI: Lighthouse (desktop and mobile) and axe-core against a real
``maya serve`` in Debian's chromium.

Lighthouse: accessibility, best practices and SEO 1.00, performance 0.95 or better. axe: no
violation on the page as loaded and after a conversation (two orders, a tip, a payment
link), at desktop size and at 375 px. Skipped, with the reason, where the auditors are not
installed (``scripts/install-page-audit``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from . import audit
from .test_browser import chromium, maya_serve, send, shot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

if (why := audit.missing()) is not None:
    pytest.skip(why, allow_module_level=True)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("preset", ["desktop", "mobile"])
async def test_lighthouse_scores_the_page_full_marks(tmp_path: Path, preset: audit.Preset) -> None:
    store = f"sqlite:///{tmp_path / 'tabs.sqlite3'}"
    async with maya_serve(tmp_path, store, workers=1) as (base_url, _):
        report = await audit.lighthouse(base_url + "/", preset)
    scores = audit.scores(report)
    failed = audit.failed_audits(report)
    for category in ("accessibility", "best-practices", "seo"):
        assert scores[category] == 1.0, (preset, scores, failed)
    assert scores["performance"] >= 0.95, (preset, scores, failed)


@pytest.mark.timeout(240)
async def test_axe_finds_nothing_before_or_after_a_conversation(tmp_path: Path) -> None:
    from playwright.async_api import expect

    store = f"sqlite:///{tmp_path / 'tabs.sqlite3'}"
    async with maya_serve(tmp_path, store, workers=1) as (base_url, _), chromium() as browser:
        for width, height in ((1100, 680), (375, 667)):
            context = await browser.new_context(
                viewport={"width": width, "height": height}, bypass_csp=True
            )
            page = await context.new_page()
            await page.goto(base_url + "/")
            await expect(page.locator("#balance")).to_have_text("$1,000.00")
            assert await audit.axe_violations(page) == [], ("as loaded", width)
            await send(page, "two martinis")
            await send(page, "a beer")
            await expect(page.locator("#tab")).to_have_text("$31.00")
            fifteen = page.get_by_role("button", name="15%")
            await fifteen.click()
            await expect(fifteen).to_have_attribute("aria-pressed", "true")
            # While the changed figures are highlighted, too.
            assert await page.locator("#overlay .changed").count() > 0
            assert await audit.axe_violations(page, settle=False) == [], ("highlight", width)
            await page.get_by_role("button", name="Pay").click()
            await expect(
                page.get_by_role("link", name="Open the payment page ($35.65)")
            ).to_be_visible()
            await expect(page.locator("#payment-state")).to_have_text("Payment link open ($35.65)")
            assert await audit.axe_violations(page) == [], ("after a conversation", width)
            await shot(page, f"30-audited-{width}px")
            await context.close()
