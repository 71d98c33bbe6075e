"""A person's whole journey through the site in headless Chromium, with screenshots of the main pages."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOTS, track_and_add_a_photo
from tests.webapp.images import lesion_photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def _shot(page, name: str) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def test_register_diagnose_track_export_delete(page, site_url, tmp_path: Path):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    first_photo, second_photo = tmp_path / "first.jpg", tmp_path / "second.jpg"
    first_photo.write_bytes(lesion_photo(2400, 1800, seed=3))  # the page's JS shrinks it to ≤ 1600 px
    second_photo.write_bytes(lesion_photo(1000, 750, scale=0.45, seed=4))

    await page.goto(site_url + "/")
    await _shot(page, "01-home-anonymous")

    await page.click("text=Sign up")
    await page.fill("#email", "browser@example.org")
    await page.fill("#password", "browser pass 1")
    await page.fill("#password_confirm", "browser pass 1")
    await page.click("#register-form button[type=submit]")
    await page.wait_for_url(site_url + "/")
    assert "Your account is ready" in await page.content()

    await page.click("text=Log out")
    await page.click("text=Log in")
    await page.fill("#email", "browser@example.org")
    await page.fill("#password", "browser pass 1")
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(site_url + "/")

    await page.set_input_files("#image", str(first_photo))
    await page.wait_for_selector("#preview:not([hidden])")
    assert "shrunk" in (await page.text_content("#preview-caption") or "")
    await page.click("#analyse")
    await page.wait_for_url("**/diagnoses/*")
    await page.wait_for_selector("#outline-img")
    assert await page.eval_on_selector("#outline-img", "img => img.complete && img.naturalWidth > 0")
    # the outline is drawn over the photo, inside it
    box = await page.eval_on_selector("#outlined-photo svg polygon:last-child", "p => p.getBBox().width")
    assert box > 0
    assert await page.locator("#probabilities tr").count() == 7
    assert "Not a diagnosis" in await page.text_content("#disclaimer")
    await _shot(page, "02-result")
    result_url = page.url

    await page.click("text=History")
    await page.wait_for_selector("#history .history-item")
    await _shot(page, "03-history")
    await page.click("#history .history-link")
    assert page.url == result_url

    await track_and_add_a_photo(page, "mole on the back", "back", second_photo)
    assert await page.locator("#timeline-photos figure").count() == 2
    assert await page.locator("#timeline-plot svg polyline").count() >= 1
    await _shot(page, "04-lesion-timeline")

    await page.click("text=Account")
    async with page.expect_download() as download_info:
        await page.click("#export-link")
    download = await download_info.value
    archive_path = tmp_path / "export.zip"
    await download.save_as(str(archive_path))
    with zipfile.ZipFile(archive_path) as archive:
        assert "diagnoses.json" in archive.namelist()
        assert sum(name.startswith("images/") for name in archive.namelist()) == 2  # two photos, no overlay copies
    await _shot(page, "05-account")

    await page.fill("#delete-password", "browser pass 1")
    await page.fill("#confirm", "DELETE")
    await page.click("#delete-account-form button[type=submit]")
    await page.wait_for_url(site_url + "/")
    assert "were deleted" in await page.content()
    response = await page.goto(result_url)
    assert "/login" in page.url and response is not None
    assert not [e for e in errors if "Content Security Policy" in e], errors


async def test_anonymous_diagnosis_without_javascript(site_url, tmp_path: Path):
    """The plain file input works with JavaScript off; the anonymous result is rendered from the POST."""
    from playwright.async_api import async_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    photo = tmp_path / "photo.jpg"
    photo.write_bytes(lesion_photo(800, 600, seed=5))
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = await browser.new_context(java_script_enabled=False, viewport={"width": 420, "height": 900})
        page = await context.new_page()
        await page.goto(site_url + "/")
        await page.set_input_files("#image", str(photo))
        await page.click("#analyse")
        await page.wait_for_selector("#not-stored")
        assert await page.locator("#photo-img").get_attribute("src") or ""
        await _shot(page, "06-result-anonymous-mobile-nojs")
        await browser.close()
