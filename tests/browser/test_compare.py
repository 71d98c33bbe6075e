"""Compare two photos of a spot in headless Chromium, on a phone (390×844) and a desktop (1280×900): both photos
large (side by side on the desktop, stacked on the phone) with the change between them, the overlay slider moved by
keyboard, times in the browser's time zone (Asia/Seoul, sent at sign-up) with the zone named; screenshots of each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from tests.browser.conftest import SCREENSHOTS, sign_up, track_and_add_a_photo
from tests.webapp.conftest import database
from tests.webapp.images import lesion_photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"phone": (390, 844), "desktop": (1280, 900)}


async def _clip(page) -> str:
    return await page.eval_on_selector("#compare-top", "e => getComputedStyle(e).clipPath")


async def test_compare_two_photos_of_a_spot_on_phone_and_desktop(page, site_url, tmp_path: Path):
    # The browser says it is in Seoul; the sign-up form carries that to the account (static/js/timezone.js).
    context = await page.context.browser.new_context(timezone_id="Asia/Seoul", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    first_photo, second_photo = tmp_path / "first.jpg", tmp_path / "second.jpg"
    first_photo.write_bytes(lesion_photo(1000, 750, seed=3))
    second_photo.write_bytes(lesion_photo(700, 900, scale=1.3, seed=3))  # portrait, another size: still overlays

    await sign_up(page, site_url, "compare@example.org")
    await page.set_input_files("#image", str(first_photo))
    await page.click("#analyse")
    await page.wait_for_url("**/diagnoses/*")
    lesion_url = await track_and_add_a_photo(page, "mole on the back", "back", second_photo)

    from webapp.db.models import Diagnosis

    async with database(f"sqlite+aiosqlite:///{tmp_path / 'site.db'}") as session:  # the first photo: a month ago
        first_id = await session.scalar(select(Diagnosis.id).order_by(Diagnosis.created_at).limit(1))
        await session.execute(update(Diagnosis).where(Diagnosis.id == first_id)
                              .values(created_at=datetime.now(UTC) - timedelta(days=30)))
        await session.commit()

    for size, (width, height) in SIZES.items():
        await page.set_viewport_size({"width": width, "height": height})
        await page.goto(lesion_url)
        await page.wait_for_selector("#compare-overlay:not([hidden])")
        for which in ("earlier", "later"):
            assert await page.eval_on_selector(f"#compare-{which} img", "i => i.complete && i.naturalWidth > 0")
        assert "30 days apart" in await page.text_content("#compare")
        assert await page.locator("#compare-changes tbody tr").count() == 4
        for key in ("area", "border", "colour", "concerning"):
            change = (await page.text_content(f"#change-{key} td:last-child") or "").strip()
            assert change and change[0] in "+-—0", (key, change)
        assert "KST" in await page.text_content("#compare-earlier figcaption")
        assert "Asia/Seoul" in await page.text_content("#time-zone-note")

        earlier = await page.eval_on_selector("#compare-frame-earlier", "e => e.getBoundingClientRect().toJSON()")
        later = await page.eval_on_selector("#compare-frame-later", "e => e.getBoundingClientRect().toJSON()")
        if size == "phone":  # stacked, each nearly the screen's width
            assert later["top"] >= earlier["bottom"] and earlier["width"] >= 300, (earlier, later)
        else:  # side by side, each large
            assert abs(later["top"] - earlier["top"]) < 2 and later["left"] > earlier["right"], (earlier, later)
            assert earlier["width"] >= 400
        stage = await page.eval_on_selector("#compare-stage", "e => e.getBoundingClientRect().width")
        assert stage >= (300 if size == "phone" else 600)

        slider = page.locator("#compare-slider")
        await slider.focus()
        await page.keyboard.press("Home")
        assert await slider.input_value() == "0" and "100%" in await _clip(page)  # only the later photo
        await page.keyboard.press("End")
        assert await slider.input_value() == "100" and await _clip(page) in ("inset(0px)", "inset(0px 0% 0px 0px)")
        for _ in range(5):
            await page.keyboard.press("ArrowLeft")
        assert await slider.input_value() == "95" and "5%" in await _clip(page)
        assert "95 %" in (await slider.get_attribute("aria-valuetext") or "")
        await page.keyboard.press("Home")
        for _ in range(40):
            await page.keyboard.press("ArrowRight")
        await page.locator("#compare").screenshot(path=str(SCREENSHOTS / f"compare-{size}.png"))
        await page.screenshot(path=str(SCREENSHOTS / f"compare-{size}-page.png"), full_page=True)

    assert not [e for e in errors if "Content Security Policy" in e], errors
    await context.close()
