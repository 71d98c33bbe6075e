"""Layout on a phone (390×844) and a desktop (1280×800) in headless Chromium: the navigation folds into a menu on
the phone, probabilities stay on one line, the disease index has no stray bullets; screenshots of each."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.webapp.images import lesion_photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"phone": (390, 844), "desktop": (1280, 800)}


@pytest.mark.parametrize("size", SIZES)
async def test_navigation_probabilities_and_lists_fit_the_screen(page, site_url, tmp_path: Path, size: str):
    width, height = SIZES[size]
    await page.set_viewport_size({"width": width, "height": height})
    await page.goto(site_url + "/")
    nav_height = await page.eval_on_selector(".site-header", "e => e.getBoundingClientRect().height")
    menu_shown = await page.is_visible("#nav-menu-button")
    links_shown = await page.is_visible("#nav-links a[href='/diseases']")
    if size == "phone":
        # one row (brand + Menu) until the menu is opened; then every link is there
        assert menu_shown and not links_shown and nav_height < 80, nav_height
        await page.click("#nav-menu-button")
        assert await page.is_visible("#nav-links a[href='/diseases']")
        assert await page.is_visible("#nav-links a[href='/login']")
        await page.screenshot(path=str(SCREENSHOTS / f"layout-{size}-menu.png"))
    else:
        assert not menu_shown and links_shown and nav_height < 80, nav_height
    await page.screenshot(path=str(SCREENSHOTS / f"layout-{size}-home.png"), full_page=True)

    photo = tmp_path / "spot.jpg"
    photo.write_bytes(lesion_photo(1000, 750, seed=5))
    await page.goto(site_url + "/")
    await page.set_input_files("#image", str(photo))
    await page.click("#analyse")
    await page.wait_for_selector("#probabilities")
    # the lines the percentage's text is laid out on (a row may be taller when the disease name wraps)
    cells = await page.eval_on_selector_all(
        "#probabilities td.num",
        "cells => cells.map(c => { const r = document.createRange(); r.selectNodeContents(c);"
        " const tops = new Set([...r.getClientRects()].map(b => Math.round(b.top)));"
        " return [c.textContent.trim(), tops.size]; })")
    assert len(cells) == 7
    for text, lines in cells:
        assert text.endswith("%") and lines == 1, (text, lines)
        assert text not in ("100.0 %", "0.0 %", "100 %", "0 %")
    await page.screenshot(path=str(SCREENSHOTS / f"layout-{size}-result.png"), full_page=True)

    await page.goto(site_url + "/diseases")
    styles = await page.eval_on_selector_all(".disease-list",
                                             "lists => lists.map(l => getComputedStyle(l).listStyleType)")
    assert styles and set(styles) == {"none"}
    await page.screenshot(path=str(SCREENSHOTS / f"layout-{size}-diseases.png"), full_page=True)
