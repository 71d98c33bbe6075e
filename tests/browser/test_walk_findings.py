"""What a new user's walk found (issue 30, item 5) that only a browser shows: a first visit from Seoul is not told
"Times are shown in UTC"; an SVG picked on the upload form is refused as not a photo (not rasterised and judged
"too dark"); a 20 MB JPEG of few pixels is re-encoded by the page before upload; at 390 px the urgency box of a
result keeps a gap to the card below. Against the site under uvicorn, no analysis service needed."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.webapp.conftest import fake_result, store_rows

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><rect width="400" height="300"/></svg>'


async def test_first_visit_from_seoul_and_the_upload_checks(plain_site, tmp_path: Path):
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    url, _database = plain_site
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for lang, expected in (("en", "from the next page on they are in Asia/Seoul"),
                                   ("ko", "다음 페이지부터는 Asia/Seoul")):
                context = await browser.new_context(timezone_id="Asia/Seoul", locale=lang)
                page = await context.new_page()
                await page.goto(f"{url}/?lang={lang}")
                note = await page.inner_text("#time-zone-note")
                assert expected in note, note
                await page.goto(f"{url}/about")
                assert "Asia/Seoul" in await page.inner_text("#time-zone-note")
                await context.close()

            context = await browser.new_context()
            page = await context.new_page()
            await page.goto(url + "/?lang=en")
            svg = tmp_path / "drawing.svg"
            svg.write_bytes(SVG)
            await page.set_input_files("#image", str(svg))
            await page.wait_for_selector("#preview-caption[role=alert]")
            assert "not a photo" in await page.inner_text("#preview-caption")
            assert await page.eval_on_selector("#image", "e => e.files.length") == 0

            big = tmp_path / "big.jpg"
            buffer = io.BytesIO()
            Image.new("RGB", (800, 600), (180, 120, 100)).save(buffer, "JPEG", quality=95)
            big.write_bytes(buffer.getvalue() + b"\0" * (20 * 1024 * 1024))  # 20 MB, though only 800 × 600
            await page.set_input_files("#image", str(big))
            await page.wait_for_function("() => document.getElementById('image').files[0].size < 4 * 1024 * 1024")
            assert "(shrunk for upload)" in await page.inner_text("#preview-caption")
            await context.close()
        finally:
            await browser.close()


async def test_urgency_box_keeps_off_the_card_below_on_a_phone(page, plain_site):
    url, database_url = plain_site
    rows = await store_rows(database_url, "phone@example.org", result=fake_result(concerning=0.7, level="high"))
    await page.goto(f"{url}/login")
    await page.fill("#email", "phone@example.org")
    await page.fill("#password", "correct horse 1")
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(url + "/")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(f"{url}/diagnoses/{rows.diagnosis_id}")
    gap = await page.evaluate("""() => {
        const head = document.querySelector('.result-head');
        const box = document.getElementById('triage').getBoundingClientRect();
        let next = head.nextElementSibling;
        while (next && next.getBoundingClientRect().height === 0) { next = next.nextElementSibling; }
        return next.getBoundingClientRect().top - box.bottom;
    }""")
    assert gap >= 12, f"the urgency box is {gap:.1f} px from what follows it at 390 px"
    await page.screenshot(path=str(SCREENSHOTS / "walk-result-high-phone.png"), full_page=True)
