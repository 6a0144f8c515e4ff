"""A few tests in a real browser (Playwright driving Debian's chromium), over the many plain
HTTP tests beside them: sign in, live news, a reply, a status change, scoping, CSRF, XSS,
the CSV, and screenshots at desktop and phone width (under ``tests/dashboard/screenshots/``,
which git ignores)."""

from __future__ import annotations

import asyncio
import csv
import io
import shutil
from pathlib import Path

import pytest

from hub.testing import make_hub, running_hub
from hub.testing.memory import MemoryOutbox

from .helpers import PASSWORD, add_users, two_businesses

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright for Python is not installed (pip install playwright)"
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium on PATH: `apt-get install -y chromium` (playwright install cannot download here)",
)
SHOTS = Path(__file__).resolve().parent / "screenshots"
XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
async def browser():
    async with playwright_api.async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def page_for(browser, running, email: str, width: int = 1280, height: int = 900):
    context = await browser.new_context(viewport={"width": width, "height": height})
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    await page.goto(f"{running.url}/login")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{running.url}/")
    return page


async def test_the_dashboard_in_a_browser(browser, hub_dir):
    outbox = MemoryOutbox()
    hub = make_hub(two_businesses(hub_dir), outbox=outbox)
    async with running_hub(hub) as running:
        await add_users()
        try:
            page = await page_for(browser, running, "owner@acme.example")
            expect = playwright_api.expect
            await expect(page.locator("h1")).to_have_text("Inbox")
            await page.wait_for_selector("body[data-live='1']")

            # A missed call appears without reloading.
            await running.post_call(caller="+15125550123")
            row = page.locator("tr[data-lead]", has_text="+15125550123")
            await expect(row).to_be_visible(timeout=10_000)
            await running.post_call(caller="+15125550142")
            await running.text_in(XSS, caller="+15125550123")
            await expect(row.locator(".message")).to_contain_text("Thanks", timeout=10_000)

            # Open it, reply, and the text reaches the sender's outbox.
            await row.locator("a").click()
            await expect(page.locator(".thread")).to_contain_text(XSS)  # shown as written
            await page.fill("#reply-text", "We can come at 3pm")
            await page.click(".reply button")
            await expect(page.locator(".flash")).to_contain_text("Reply queued")
            await running.wait_for(
                lambda: any(t.body == "We can come at 3pm" for t in outbox.texts)
            )
            await expect(page.locator(".thread")).to_contain_text(
                "We can come at 3pm", timeout=10_000
            )

            # Edits are saved and shown.
            await page.fill("input[name=name]", "Sam Lee")
            await page.fill("input[name=service]", "drain cleaning")
            await page.fill("input[name=zip]", "78704")
            await page.fill("input[name=urgency]", "urgent")
            await page.click(".fields button")
            await expect(page.locator(".timeline")).to_contain_text("name: — → Sam Lee")

            # A status change reaches the sink.
            await page.click("button[value=booked]")
            await expect(page.locator("h1 .badge")).to_have_text("booked")
            await running.wait_for(
                lambda: any(e.kind == "lead.status_changed" for e in outbox.events)
            )
            assert page.dialogs == []  # the customer's <img onerror> ran nothing

            SHOTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(SHOTS / "lead-desktop.png"), full_page=True)
            lead_url = page.url

            # The CSV holds what the filtered inbox shows.
            await running.post_call(caller="+15125550199")
            await page.goto(f"{running.url}/?status=booked")
            shown = await page.locator("tr[data-lead] td.caller a").all_inner_texts()
            async with page.expect_download() as download_info:
                await page.click("a.button:has-text('CSV')")
            download = await download_info.value
            saved = Path(await download.path())
            rows = list(csv.DictReader(io.StringIO(await asyncio.to_thread(saved.read_text))))
            assert [row["caller"].lstrip("'") for row in rows] == shown == ["+15125550123"]

            await page.goto(f"{running.url}/")
            await expect(page.locator("tr[data-lead]")).to_have_count(3)
            await page.screenshot(path=str(SHOTS / "inbox-desktop.png"), full_page=True)
            await page.goto(f"{running.url}/analytics")
            await expect(page.locator("figure.chart svg")).to_have_count(2)
            await page.screenshot(path=str(SHOTS / "analytics-desktop.png"), full_page=True)
            phone = await page_for(browser, running, "owner@acme.example", width=390, height=844)
            await phone.screenshot(path=str(SHOTS / "inbox-phone.png"), full_page=True)
            await phone.goto(lead_url)
            await phone.screenshot(path=str(SHOTS / "lead-phone.png"), full_page=True)
            width = await phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, "the lead page scrolls sideways on a phone"

            # Staff of another business get 404; a form without its token gets 403.
            other = await page_for(browser, running, "staff@bravo.example")
            response = await other.goto(lead_url)
            assert response is not None and response.status == 404
            await other.goto(f"{running.url}/")
            async with other.expect_response(lambda r: r.url.endswith("/logout")) as info:
                await other.evaluate(
                    """() => { const f = document.querySelector('form.signout');
                               f.querySelector('[name=csrf_token]').remove(); f.submit(); }"""
                )
            refused = await info.value
            assert refused.status == 403
            assert "did not come from this site" in await refused.text()
        finally:
            # Before the server stops: an open /events stream would keep it waiting.
            for context in list(browser.contexts):
                await context.close()
