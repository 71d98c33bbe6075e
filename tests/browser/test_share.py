"""Share a spot with a doctor, in headless Chromium against the site under uvicorn: the owner makes a 7-day link on
the spot's page → a fresh browser context (no cookies) opens it: the spot's page and its PDF show, with
no-referrer / no-store / noindex; the owner's other spot, history and account stay out of reach → the owner sees
the opening and revokes the link → it answers 410. Photos and results are arranged in the database (this walk is
about the link, not the analysis). Screenshots at 1280 and 390 px: test-artifacts/screenshots/share-*.png."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import update

from tests.browser.conftest import SCREENSHOTS
from tests.webapp.conftest import database, store_rows

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EMAIL = "share-owner@example.org"
PASSWORD = "correct horse 1"  # store_rows' account


async def test_share_a_spot_for_seven_days_then_revoke(page, plain_site, tmp_path: Path):
    from webapp.db.models import Lesion

    url, database_url = plain_site
    first = await store_rows(database_url, EMAIL)
    await store_rows(database_url, EMAIL, lesion_id=first.lesion_id)
    other = await store_rows(database_url, EMAIL)
    async with database(database_url) as session:
        await session.execute(update(Lesion).where(Lesion.id == first.lesion_id).values(name="Mole on the back"))
        await session.execute(update(Lesion).where(Lesion.id == other.lesion_id).values(name="Secret other spot"))
        await session.commit()

    await page.goto(f"{url}/login")
    await page.fill("#email", EMAIL)
    await page.fill("#password", PASSWORD)
    await page.click("#login-form button[type=submit]")
    await page.wait_for_url(url + "/")
    await page.goto(f"{url}/lesions/{first.lesion_id}")
    await page.select_option("#share-days", "7")
    await page.click("#share-button")
    await page.wait_for_selector("#share-url")
    link = await page.input_value("#share-url")
    assert link.startswith(f"{url}/shared/")
    await page.screenshot(path=str(SCREENSHOTS / "share-created-desktop.png"), full_page=True)

    doctor = await page.context.browser.new_context(viewport={"width": 390, "height": 844}, accept_downloads=True)
    assert await doctor.cookies() == []
    seen = await doctor.new_page()
    response = await seen.goto(link)
    assert response.status == 200
    headers = response.headers
    assert headers["referrer-policy"] == "no-referrer" and headers["cache-control"] == "no-store"
    assert "noindex" in headers["x-robots-tag"]
    assert await seen.inner_text("#shared-title") == "Mole on the back"
    text = await seen.inner_text("body")
    assert "Secret other spot" not in text and EMAIL not in text
    images = await seen.eval_on_selector_all("#timeline-photos img", "els => els.map(e => e.naturalWidth)")
    assert len(images) == 2 and all(width > 0 for width in images)  # the photos load through the link
    overflow = await seen.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the shared page scrolls sideways on a phone by {overflow} px"
    await seen.screenshot(path=str(SCREENSHOTS / "share-page-phone.png"), full_page=True)
    async with seen.expect_download() as info:
        await seen.click("#shared-report-link")
    target = tmp_path / "shared.pdf"
    await (await info.value).save_as(target)
    pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(target.read_bytes())).pages)
    assert "Mole on the back" in pdf_text and "Secret other spot" not in pdf_text

    for private in (f"/lesions/{other.lesion_id}", "/history", "/account", "/lesions",
                    f"/photos/{other.photo_id}", f"/diagnoses/{other.diagnosis_id}"):
        answer = await seen.goto(url + private)
        assert "/login" in seen.url or answer.status == 404, private
        assert "Secret other spot" not in await seen.inner_text("body")

    await page.goto(f"{url}/lesions/{first.lesion_id}")
    assert "Opened 1 time" in await page.inner_text("#share-links")
    await page.click("#share-links .revoke-button")
    await page.wait_for_selector("#share-none")

    gone = await seen.goto(link)
    assert gone.status == 410 and gone.headers["referrer-policy"] == "no-referrer"
    assert "revoked" in await seen.inner_text("main")
    await seen.screenshot(path=str(SCREENSHOTS / "share-revoked-phone.png"), full_page=True)
    await doctor.close()
