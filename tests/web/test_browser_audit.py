"""What the outside audit of the page found, each checked in Debian's chromium.

Two windows of one browser after "New tab" (with and without a channel between them),
reflow at 320 and 375 px, the network cut and restored, an error reply with Retry-After,
slow-network double clicks on Pay and a tip, focus when Send and Pay hold themselves, the
message box in view on a phone, one announcement per change. Screenshots at desktop,
375 and 320 px go to ``test-artifacts/web/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from maya.payments import open_payment_side
from maya.web import WebSettings

from .test_browser import bar, open_page, send, shot

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Page, Route

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

NO_NETWORK = "No connection to Maya: check your network and try again."


async def window(context: BrowserContext, base_url: str) -> Page:
    """One more window of the same browser (the same cookie jar)."""
    page = await context.new_page()
    await page.goto(base_url + "/")
    await page.locator("#announce").wait_for(state="attached")
    return page


def errors_of(page: Page) -> list[str]:
    """Uncaught errors (and unhandled rejections) on ``page`` from now on."""
    found: list[str] = []
    page.on("pageerror", lambda error: found.append(str(error)))
    # (The browser's own "Failed to load resource" lines for a request that failed are
    # not the page's errors; an uncaught "Failed to fetch" would be.)
    page.on(
        "console",
        lambda message: (
            found.append(message.text)
            if message.type == "error" and not message.text.startswith("Failed to load resource")
            else None
        ),
    )
    return found


async def test_a_new_tab_in_one_window_moves_every_other_window() -> None:
    from playwright.async_api import expect

    async with bar() as (base_url, browser):
        context = await browser.new_context(viewport={"width": 1100, "height": 680})
        first = await window(context, base_url)
        second = await window(context, base_url)
        await send(first, "a beer")
        await expect(first.locator("#tab")).to_have_text("$5.00")
        await expect(second.locator("#tab")).to_have_text("$5.00")  # one cookie, one tab
        await first.get_by_role("button", name="New tab").click()
        await expect(first.locator("#tab")).to_have_text("$0.00")
        # The other window follows at once: its old tab's versions no longer apply.
        await expect(second.locator("#tab")).to_have_text("$0.00")
        await expect(second.locator("#balance")).to_have_text("$1,000.00")
        await expect(second.locator("#log li.note")).to_have_text(
            "This window now shows the tab opened in another window."
        )
        await send(second, "two beers")
        reply = second.locator("#log li.maya").last
        await expect(reply).to_contain_text("$10.00")
        for page in (first, second):
            await expect(page.locator("#tab")).to_have_text("$10.00")
            await expect(page.locator("#total")).to_have_text("$10.00")
        await shot(second, "20-second-window-follows-new-tab")


async def test_a_window_that_missed_the_new_tab_follows_when_its_stream_reconnects() -> None:
    from playwright.async_api import expect

    # No channel between the windows here (an old browser, a frozen window): the stream's
    # reconnect brings the new session's tab, whose version is lower than the old one's.
    settings = WebSettings(stream_max_s=0.5, heartbeat_s=0.2)
    async with bar(settings=settings) as (base_url, browser):
        context = await browser.new_context()
        first = await window(context, base_url)
        await send(first, "three beers")
        await send(first, "a water")
        await expect(first.locator("#tab")).to_have_text("$16.00")
        await first.get_by_role("button", name="10%").click()
        await expect(first.locator("#total")).to_have_text("$17.60")
        deaf = await context.new_page()
        await deaf.add_init_script("delete window.BroadcastChannel")
        await deaf.goto(base_url + "/")
        await expect(deaf.locator("#total")).to_have_text("$17.60")
        await first.get_by_role("button", name="New tab").click()
        await expect(first.locator("#tab")).to_have_text("$0.00")
        with anyio.fail_after(20):
            await expect(deaf.locator("#tab")).to_have_text("$0.00", timeout=15_000)
        await expect(deaf.locator("#total")).to_have_text("$0.00")
        await expect(deaf.locator("#log li.note")).to_have_count(1)
        await send(deaf, "a gin")
        await expect(deaf.locator("#tab")).to_have_text("$8.00")
        await expect(first.locator("#tab")).to_have_text("$8.00")


async def test_pay_in_the_other_window_charges_what_its_overlay_shows(tmp_path: Path) -> None:
    from playwright.async_api import expect

    async with (
        open_payment_side("unavailable", workdir=tmp_path) as payments,
        bar(payments=payments) as (base_url, browser),
    ):
        context = await browser.new_context()
        first = await window(context, base_url)
        second = await window(context, base_url)
        await send(first, "a beer")
        await first.get_by_role("button", name="New tab").click()
        await send(second, "two beers")
        await expect(second.locator("#total")).to_have_text("$10.00")
        await second.get_by_role("button", name="Pay").click()
        await expect(second.locator("#payment-state")).to_have_text("Payment link open ($10.00)")
        await expect(first.locator("#payment-state")).to_have_text("Payment link open ($10.00)")


@pytest.mark.parametrize("width", [320, 375])
async def test_the_page_reflows_without_horizontal_scroll(width: int) -> None:
    from playwright.async_api import expect

    async with bar() as (base_url, browser):
        context = await browser.new_context(viewport={"width": width, "height": 640})
        page = await window(context, base_url)

        async def no_sideways_scroll() -> None:
            sizes = await page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert sizes[0] <= sizes[1] == width, sizes

        await no_sideways_scroll()
        await send(page, "two martinis")
        await send(page, "an IPA please, and tell me about Supercalifragilisticexpialidocious")
        await page.get_by_role("button", name="15%").click()
        await expect(page.locator("#tip")).to_have_text("$4.80")
        await no_sideways_scroll()
        # Every control still fits on the screen.
        for name in ("New tab", "10%", "15%", "20%", "Pay", "Send"):
            box = await page.get_by_role("button", name=name).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, name
        await page.evaluate("window.scrollTo(0, 0)")
        await shot(page, f"21-{width}px-top")
        await page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        await shot(page, f"22-{width}px-chat")


async def test_a_cut_network_is_said_politely_and_every_control_works_again(
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    async with (
        open_payment_side("unavailable", workdir=tmp_path) as payments,
        bar(payments=payments) as (base_url, browser),
    ):
        context = await browser.new_context(viewport={"width": 1100, "height": 680})
        page = await window(context, base_url)
        errors = errors_of(page)
        await send(page, "a beer")
        await expect(page.locator("#tab")).to_have_text("$5.00")
        notice = page.get_by_role("status").filter(has_text=NO_NETWORK)
        await context.set_offline(True)
        fifteen = page.get_by_role("button", name="15%")
        await fifteen.click()
        await expect(notice).to_be_visible()
        await expect(fifteen).to_have_attribute("aria-pressed", "false")
        await expect(fifteen).to_have_attribute("aria-disabled", "false")
        await shot(page, "23-network-cut")
        for name in ("Pay", "New tab"):
            await page.locator("#notice").evaluate("n => { n.textContent = '' }")
            await page.get_by_role("button", name=name).click()
            await expect(notice).to_be_visible()
            await expect(page.get_by_role("button", name=name)).to_be_enabled()
            await expect(page.get_by_role("button", name=name)).to_have_attribute(
                "aria-disabled", "false"
            )
        box = page.get_by_role("textbox", name="Message")
        await box.fill("another beer")
        await box.press("Enter")
        await expect(page.locator("#log li.problem")).to_have_text(NO_NETWORK)
        await expect(page.get_by_role("button", name="Send")).to_have_attribute(
            "aria-disabled", "false"
        )
        await expect(page.locator("#tab")).to_have_text("$5.00")  # nothing changed
        # The network comes back: the same controls simply work.
        await context.set_offline(False)
        await fifteen.click()
        await expect(page.locator("#tip")).to_have_text("$0.75")
        await expect(page.locator("#notice")).to_have_text("")
        await send(page, "another beer")
        await expect(page.locator("#tab")).to_have_text("$10.00")  # the stream is back too
        await expect(page.locator("#tip")).to_have_text("$1.50")
        assert errors == [], errors


async def test_an_error_reply_shows_its_message_and_when_to_come_back() -> None:
    from playwright.async_api import expect

    reply = {"error": "store_unavailable", "message": "The tab store is not answering."}

    async def unavailable(route: Route) -> None:
        await route.fulfill(
            status=503,
            headers={"Retry-After": "7"},
            content_type="application/json",
            body=json.dumps(reply),
        )

    async with bar() as (base_url, browser):
        page = await open_page(browser, base_url)
        errors = errors_of(page)
        await send(page, "a beer")
        await page.route("**/api/tip", unavailable)
        await page.get_by_role("button", name="20%").click()
        await expect(page.locator("#notice")).to_have_text(
            "The tab store is not answering. Please try again in 7 seconds."
        )
        await page.route("**/api/chat", unavailable)
        await send_and_wait_for_problem(page, "a gin")
        await expect(page.locator("#log li.problem")).to_have_text(
            "The tab store is not answering. Please try again in 7 seconds."
        )
        await page.unroute("**/api/tip")
        await page.get_by_role("button", name="20%").click()
        await expect(page.locator("#tip")).to_have_text("$1.00")
        await expect(page.locator("#notice")).to_have_text("")
        # A non-JSON failure still says something useful.
        await page.route("**/api/tip", lambda route: route.fulfill(status=502, body="Bad gateway"))
        await page.get_by_role("button", name="10%").click()
        await expect(page.locator("#notice")).to_have_text(
            "Maya's side of the bar is having trouble. Please try again."
        )
        assert errors == [], errors


async def send_and_wait_for_problem(page: Page, message: str) -> None:
    box = page.get_by_role("textbox", name="Message")
    await box.fill(message)
    await box.press("Enter")
    await page.locator("#log li.problem").last.wait_for()


def delayed(seconds: float, seen: list[str], *, after_server: bool) -> Any:
    """A route handler for a slow network: the request (``after_server=False``) or the
    answer (``True``: the server has already acted) takes ``seconds`` longer."""

    async def handle(route: Route) -> None:
        seen.append(route.request.url)
        if after_server:
            response = await route.fetch()
            await anyio.sleep(seconds)
            await route.fulfill(response=response)
        else:
            await anyio.sleep(seconds)
            await route.continue_()

    return handle


async def test_pay_stays_held_until_its_link_arrives(tmp_path: Path) -> None:
    from playwright.async_api import expect

    async with (
        open_payment_side("unavailable", workdir=tmp_path) as payments,
        bar(payments=payments) as (base_url, browser),
    ):
        page = await open_page(browser, base_url)
        await send(page, "two beers")
        answers = await page.locator("#log li.maya").count()
        seen: list[str] = []
        await page.route("**/api/pay", delayed(2.0, seen, after_server=True))
        pay = page.get_by_role("button", name="Pay")
        await pay.dblclick()
        # The link is made (its tab event has arrived) but its answer is still on the way:
        # Pay stays held and shows it, and a third click does nothing.
        await expect(page.locator("#payment-state")).to_have_text("Payment link open ($10.00)")
        await expect(pay).to_have_attribute("aria-disabled", "true")
        await expect(pay).to_have_attribute("aria-busy", "true")
        await shot(page, "24-pay-in-flight")
        await pay.click(force=True)  # (force: Playwright itself waits out aria-disabled)
        await expect(pay).not_to_have_attribute("aria-busy", "true", timeout=10_000)
        await expect(page.locator("#log li.maya")).to_have_count(answers + 1)
        assert len(seen) == 1, seen


async def test_a_tip_double_click_on_a_slow_network_sets_the_tip_once() -> None:
    from playwright.async_api import expect

    async with bar() as (base_url, browser):
        page = await open_page(browser, base_url)
        await send(page, "two beers")
        seen: list[str] = []
        await page.route("**/api/tip", delayed(1.0, seen, after_server=False))
        ten = page.get_by_role("button", name="10%")
        await ten.dblclick()
        await expect(ten).to_have_attribute("aria-busy", "true")  # pending, and says so
        for other in ("15%", "20%"):
            await expect(page.get_by_role("button", name=other)).to_have_attribute(
                "aria-disabled", "true"
            )
        await expect(ten).to_have_attribute("aria-pressed", "true", timeout=10_000)
        await expect(page.locator("#tip")).to_have_text("$1.00")
        await expect(ten).not_to_have_attribute("aria-busy", "true")
        assert len(seen) == 1, seen


async def test_focus_stays_on_a_sensible_control_when_send_and_pay_hold_themselves(
    tmp_path: Path,
) -> None:
    from playwright.async_api import expect

    async with (
        open_payment_side("unavailable", workdir=tmp_path) as payments,
        bar(payments=payments) as (base_url, browser),
    ):
        page = await open_page(browser, base_url)
        box = page.get_by_role("textbox", name="Message")
        await box.fill("a beer")
        await page.get_by_role("button", name="Send").click()  # by mouse
        # Send holds itself while Maya answers; the customer can type on at once.
        await expect(box).to_be_focused()
        await page.locator("#log li.maya:not([aria-busy])").last.wait_for()
        await expect(page.locator("#tab")).to_have_text("$5.00")
        # Pay from the keyboard: focus stays on Pay while the link is made, and after.
        pay = page.get_by_role("button", name="Pay")
        seen: list[str] = []
        await page.route("**/api/pay", delayed(0.5, seen, after_server=False))
        await pay.focus()
        await page.keyboard.press("Enter")
        await expect(pay).to_have_attribute("aria-busy", "true")
        await expect(pay).to_be_focused()
        await expect(pay).not_to_have_attribute("aria-busy", "true", timeout=10_000)
        await expect(pay).to_be_focused()
        assert await page.evaluate("document.activeElement.id") == "pay"


async def test_on_a_phone_the_message_box_stays_in_view_after_each_reply() -> None:
    async with bar() as (base_url, browser):
        context = await browser.new_context(
            viewport={"width": 375, "height": 667}, is_mobile=True, has_touch=True
        )
        page = await window(context, base_url)
        for message in ("a beer", "two martinis", "a gin", "an IPA", "a water"):
            await send(page, message)
            rect = await page.get_by_role("textbox", name="Message").evaluate(
                "b => { const r = b.getBoundingClientRect();"
                " return [r.top, r.bottom, window.innerHeight]; }"
            )
            assert rect[0] >= 0 and rect[1] <= rect[2], (message, rect)
            # And the reply itself is on screen, just above it.
            reply = await page.locator("#log li.maya").last.evaluate(
                "e => e.getBoundingClientRect().bottom"
            )
            assert reply <= rect[0], (message, reply, rect)
        await shot(page, "25-375px-after-replies")


async def test_each_change_is_announced_once() -> None:
    from playwright.async_api import expect

    async with bar() as (base_url, browser):
        page = await open_page(browser, base_url)
        await send(page, "two beers")
        await expect(page.locator("#tab")).to_have_text("$10.00")
        # Only the one summary sentence speaks for the overlay: no figure is live itself.
        live = await page.evaluate(
            "[...document.querySelectorAll('[aria-live],[role=status],[role=log]')]"
            ".map(e => e.id || e.className)"
        )
        assert sorted(live) == ["activity", "announce", "log", "notice"], live
        await page.evaluate(
            "window.__said = [];"
            "new MutationObserver(() => window.__said.push("
            "document.getElementById('announce').textContent))"
            ".observe(document.getElementById('announce'),"
            " {childList: true, characterData: true, subtree: true})"
        )
        await page.get_by_role("button", name="15%").click()
        await expect(page.locator("#total")).to_have_text("$11.50")
        # Both the tip's answer and its tab event have shown it; then one more change.
        await send(page, "a water")
        await expect(page.locator("#total")).to_have_text("$12.65")
        said = await page.evaluate("window.__said")
        assert said == [
            "Tab $10.00, tip $1.50 (15%), total due $11.50, balance $990.00.",
            "Tab $11.00, tip $1.65 (15%), total due $12.65, balance $989.00.",
        ], said


async def test_the_overlay_comes_back_after_the_server_restarts() -> None:
    from playwright.async_api import expect

    from maya.web.app import WebSettings

    from .conftest import make_app, serving
    from .test_browser import chromium

    # The restarted server signs with the same secret, as `maya serve` does (its secret
    # is kept beside the store), so the browser's cookie still names its session.
    settings = WebSettings(cookie_secret=b"r" * 32)
    async with chromium() as browser:
        async with serving(make_app(settings=settings)) as base_url:
            page = await open_page(browser, base_url)
            errors = errors_of(page)
            await send(page, "three beers")
            await expect(page.locator("#tab")).to_have_text("$15.00")
        # The server is gone: after the stream's reconnects fail, the page says so.
        await expect(page.locator("#notice")).to_have_text(
            "The tab is not updating: reconnecting to Maya...", timeout=10_000
        )
        port = int(base_url.rsplit(":", 1)[1])
        # Back on the same port over a fresh memory store: the same cookie, the same
        # session, its versions started again; the overlay shows the tab as it is now.
        async with serving(make_app(settings=settings), port=port):
            await expect(page.locator("#tab")).to_have_text("$0.00", timeout=15_000)
            await expect(page.locator("#notice")).to_have_text("")
            await send(page, "a beer")
            await expect(page.locator("#tab")).to_have_text("$5.00")
        assert errors == [], errors


async def test_an_event_stream_refused_with_an_error_is_retried() -> None:
    from playwright.async_api import expect

    async def refused(route: Route) -> None:
        await route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps({"error": "store_unavailable", "message": "Try again soon."}),
        )

    async with bar() as (base_url, browser):
        context = await browser.new_context()
        await context.route("**/api/tab/events", refused)
        page = await context.new_page()
        errors = errors_of(page)
        await page.goto(base_url + "/")
        # An EventSource gives up for good on an error reply; the page does not.
        await expect(page.locator("#notice")).to_have_text(
            "The tab is not updating: reconnecting to Maya..."
        )
        await context.unroute("**/api/tab/events")
        await expect(page.locator("#notice")).to_have_text("", timeout=10_000)
        await send(page, "a gin")
        await expect(page.locator("#tab")).to_have_text("$8.00")
        assert errors == [], errors
