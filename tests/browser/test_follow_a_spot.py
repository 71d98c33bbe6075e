"""Follow a spot as a person would (issue 19), in headless Chromium against the real analysis service: register
with the browser in Asia/Seoul → two photos of one spot a month apart (the clock set by moving the stored times
back: the first 70 days ago, the latest 40, so the 30-day re-check is due) → the home page and "My lesions" say the
spot is due → the compare view shows both photos and the measured change → a pin put on the body map on the
lesion page shows on "My lesions" → the PDF report, downloaded by clicking its link in English and then in Korean,
holds both dates in KST, the change between the visits and the disclaimer. Screenshots of each step at desktop
(1280) and phone (390×844) sizes: test-artifacts/screenshots/follow-*.png."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from tests.browser.conftest import SCREENSHOTS, sign_up, track_and_add_a_photo
from tests.webapp.conftest import database
from tests.webapp.images import lesion_photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}
SEOUL = ZoneInfo("Asia/Seoul")
NAME = "Mole on the back"
FORMATS = {"en": ("%d %b %Y, %H:%M KST", "%d %b %Y"), "ko": ("%Y. %m. %d. %H:%M KST", "%Y. %m. %d.")}


def _when(moment: datetime, lang: str, *, day: bool = False) -> str:
    """A stored UTC time as the site writes it for a reader in Seoul."""
    return moment.astimezone(SEOUL).strftime(FORMATS[lang][1 if day else 0])


async def _shots(page, step: str, selector: str | None = None) -> None:
    """The page (or one element of it) at both sizes; the desktop size stays set afterwards."""
    for size in ("phone", "desktop"):
        width, height = SIZES[size]
        await page.set_viewport_size({"width": width, "height": height})
        path = str(SCREENSHOTS / f"follow-{step}-{size}.png")
        if selector:
            await page.locator(selector).screenshot(path=path)
        else:
            await page.screenshot(path=path, full_page=True)


async def _no_sideways_scroll(page) -> None:
    await page.set_viewport_size({"width": 390, "height": 844})
    overflow = await page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways on a phone by {overflow} px"
    await page.set_viewport_size({"width": 1280, "height": 900})


async def _download_report(page, tmp_path: Path, lang: str) -> tuple[str, PdfReader]:
    async with page.expect_download() as info:
        await page.click("#report-link")
    download = await info.value
    assert download.suggested_filename.startswith("drskin-lesion-") and download.suggested_filename.endswith(".pdf")
    target = tmp_path / f"report-{lang}.pdf"
    await download.save_as(target)
    reader = PdfReader(io.BytesIO(target.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages), reader


async def _gap_below(page, selector: str) -> float:
    """Pixels between an element's bottom and the top of the element after it."""
    return await page.eval_on_selector(selector, "e => e.nextElementSibling.getBoundingClientRect().top"
                                                 " - e.getBoundingClientRect().bottom")


def _center(box: dict) -> tuple[float, float]:
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def test_follow_a_spot_for_a_month_in_english_and_korean(page, site_url, tmp_path: Path):
    from webapp.core.i18n import translations
    from webapp.db.models import Diagnosis, Lesion

    ko = translations("ko")
    url = site_url
    context = await page.context.browser.new_context(timezone_id="Asia/Seoul", viewport={"width": 1280, "height": 900},
                                                     accept_downloads=True)
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    first_photo, second_photo = tmp_path / "first.jpg", tmp_path / "second.jpg"
    first_photo.write_bytes(lesion_photo(1000, 750, seed=5))
    second_photo.write_bytes(lesion_photo(1000, 750, scale=1.3, seed=5))  # a month later, the spot is larger

    # 1. register (the form carries the browser's zone to the account), two photos of one spot
    await sign_up(page, url, "follow@example.org", query="?lang=en")
    await page.set_input_files("#image", str(first_photo))
    await page.click("#analyse")
    await page.wait_for_url("**/diagnoses/*")
    lesion_url = await track_and_add_a_photo(page, NAME, "back", second_photo)
    assert "2 photos" in (await page.text_content("main") or "")
    assert not await page.is_visible("#recheck-due")  # just photographed: not due

    # 2. the clock: the first photo 70 days ago at 21:54 UTC (06:54 the next morning in Seoul), the latest 30 days
    # and 2 hours after it; the spot was added with the first photo
    first_at = (datetime.now(UTC) - timedelta(days=70)).replace(hour=21, minute=54, second=0, microsecond=0)
    latest_at = first_at + timedelta(days=30, hours=2)
    async with database(f"sqlite+aiosqlite:///{tmp_path / 'site.db'}") as session:
        first_id, latest_id = (await session.scalars(select(Diagnosis.id).order_by(Diagnosis.created_at))).all()
        for diagnosis_id, when in ((first_id, first_at), (latest_id, latest_at)):
            await session.execute(update(Diagnosis).where(Diagnosis.id == diagnosis_id).values(created_at=when))
        await session.execute(update(Lesion).values(created_at=first_at))
        await session.commit()
        first, latest = (await session.get(Diagnosis, first_id), await session.get(Diagnosis, latest_id))
        assert first is not None and latest is not None
        areas = (first.area_fraction, latest.area_fraction)
        rise = latest.concerning_probability - first.concerning_probability
    growth = None if not areas[0] or areas[1] is None else (areas[1] - areas[0]) / areas[0]
    area_change = "—" if growth is None else f"{growth:+.0%}".replace("%", " %")
    points = round(rise * 100)
    rise_shown = {"en": "%(change)s points", "ko": ko.gettext("%(change)s points")}
    rise_text = {lang: text % {"change": "0" if points == 0 else f"{points:+d}"} for lang, text in rise_shown.items()}
    # The change rule (docs/site.md): the area grew by more than a fifth, or the concerning probability rose by more
    # than 15 points. The second photo shows the spot 1.3 times larger, so it must be flagged by its area.
    must_flag = (growth is not None and growth > 0.20) or rise > 0.15
    assert growth is not None and growth > 0.20, areas

    # 3. the home page and My lesions say the spot is due for a re-check
    await page.goto(url + "/")
    due = page.locator("#rechecks-due")
    assert "1 spot is due for a re-check" in (await due.locator("h2").text_content() or "")
    assert await due.locator(f"a[href='{lesion_url.removeprefix(url)}']").text_content() == NAME
    assert f"latest photo {_when(latest_at, 'en', day=True)}" in (await due.text_content() or "")
    assert await _gap_below(page, "#rechecks-due") >= 8  # the card does not touch the upload card under it
    await _shots(page, "1-home-due")
    await _no_sideways_scroll(page)
    await page.goto(url + "/lesions")
    item = page.locator("#lesion-list li", has_text=NAME)
    assert await item.locator(".recheck-due").text_content() == "Re-check due"
    await _shots(page, "2-lesions-due")
    await page.goto(url + "/?lang=ko")
    heading = ko.ngettext("%(num)d spot is due for a re-check", "%(num)d spots are due for a re-check", 1) % {"num": 1}
    assert heading != "1 spot is due for a re-check" and await page.text_content("#rechecks-due h2") == heading
    assert _when(latest_at, "ko", day=True) in (await page.text_content("#rechecks-due") or "")
    await _shots(page, "3-home-due-ko")
    await page.goto(url + "/lesions")
    assert await page.locator("#lesion-list li", has_text=NAME).locator(".recheck-due").text_content() \
        == ko.gettext("Re-check due")
    await page.goto(lesion_url + "?lang=en")
    assert _when(latest_at, "en", day=True) in (await page.text_content("#recheck-due") or "")

    # 4. the compare view: both photos, 30 days apart, with the measured change
    await page.wait_for_selector("#compare-overlay:not([hidden])")
    for which, moment in (("earlier", first_at), ("later", latest_at)):
        assert await page.eval_on_selector(f"#compare-{which} img", "i => i.complete && i.naturalWidth > 0")
        assert await page.text_content(f"#compare-{which} figcaption strong") == _when(moment, "en")
    assert "(30 days apart)" in (await page.text_content("#compare") or "")
    shown_area = (await page.text_content("#change-area td:last-child") or "").strip()
    assert shown_area.startswith(area_change), (shown_area, area_change)
    shown_rise = (await page.text_content("#change-concerning td:last-child") or "").strip()
    assert shown_rise.startswith(rise_text["en"]), (shown_rise, rise)
    flagged = await page.is_visible("#evolution-flag")
    assert flagged == must_flag and flagged != await page.is_visible("#evolution-ok")
    assert await _gap_below(page, "#compare") >= 8  # nor the compare card the "Over time" card
    await _shots(page, "4-compare", "#compare")

    # 5. the pin: a click on the left of the back on the lesion page's map, saved, then on My lesions
    back = page.locator("#where .bodymap-view[data-view=back] .bodymap-part[data-site=back]").first
    box = await back.bounding_box()
    assert box and box["width"] > 10
    await back.click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.35})
    assert await page.input_value("#where input[name=map_side]") == "back"
    assert float(await page.input_value("#where input[name=map_x]")) > 0
    await _shots(page, "5-where", "#where")
    await page.click("#site-form button[type=submit]")
    await page.wait_for_url(lesion_url)
    assert "Saved: Back." in (await page.text_content("main") or "")
    await page.goto(url + "/lesions")
    pin = page.locator("#lesion-map .bodymap-pin")
    assert await pin.count() == 1 and await pin.get_attribute("aria-label") == f"1. {NAME} (Back)"
    region = await page.locator("#lesion-map .bodymap-view[data-view=back] a[href='/lesions?region=back']"
                                ).bounding_box()
    spot = await pin.locator("circle").bounding_box()
    assert region and spot
    (x, y), (rx, ry) = _center(spot), _center(region)
    assert region["x"] <= x < rx and region["y"] <= y < ry, (spot, region)  # up and to the left, where clicked
    await _shots(page, "6-lesions-pin")

    # 6. the report for the doctor, in English then in Korean, each by clicking the link on the lesion page
    await page.goto(lesion_url)
    text, reader = await _download_report(page, tmp_path, "en")
    assert "Report for your doctor" in text and NAME in text
    assert f"Photo 1 of 2: {_when(first_at, 'en')}" in text and f"Photo 2 of 2: {_when(latest_at, 'en')}" in text
    assert "Change between visits" in text and "Change, first to latest" in text
    assert area_change in text and rise_text["en"] in text
    verdict = ("This spot changed: worth showing a doctor." if flagged
               else "No change worth flagging between the first and the latest photo.")
    assert verdict in text
    for page_text in (p.extract_text() for p in reader.pages):
        assert "Dr. Skin is not a diagnosis." in page_text

    await page.goto(lesion_url + "?lang=ko")
    assert await page.text_content("#report-link") == ko.gettext("Report for your doctor (PDF)")
    await _shots(page, "7-lesion-ko")
    await _no_sideways_scroll(page)
    text, reader = await _download_report(page, tmp_path, "ko")
    assert ko.gettext("Report for your doctor") in text and "Report for your doctor" not in text
    for number, moment in ((1, first_at), (2, latest_at)):
        heading = ko.gettext("Photo %(num)d of %(total)d: %(date)s") % {"num": number, "total": 2,
                                                                       "date": _when(moment, "ko")}
        assert heading in text, heading
    assert ko.gettext("Change between visits") in text and area_change in text and rise_text["ko"] in text
    assert ko.gettext(verdict) in text
    for page_text in (p.extract_text() for p in reader.pages):
        assert "Dr. Skin의 결과는 진단이 아닙니다." in page_text

    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e], errors
    await context.close()
