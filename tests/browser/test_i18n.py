"""Korean in a real browser: the switcher on every page, the choice remembered, a Korean diagnosis, and a
browser that asks for Korean (Accept-Language) getting it from the first page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.webapp.images import lesion_photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HANGUL = re.compile(r"[\uac00-\ud7a3]")


async def _shot(page, name: str) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def _lang(page) -> str:
    return str(await page.get_attribute("html", "lang"))


async def test_switch_to_korean_and_stay_there(page, site_url, tmp_path: Path):
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    photo = tmp_path / "spot.jpg"
    photo.write_bytes(lesion_photo(2400, 1800, seed=5))

    await page.goto(site_url + "/")
    assert await _lang(page) == "en"
    assert await page.text_content("h1") == "Check a skin spot"

    await page.click(".lang-switch a[hreflang=ko]")  # “한국어”
    await page.wait_for_url("**/?lang=ko")
    assert await _lang(page) == "ko"
    assert await page.text_content("h1") == "피부 병변 검사하기"
    assert "진단이 아니며" in (await page.text_content("footer") or "")
    await _shot(page, "i18n-01-home-ko")

    # Another page, reached by a plain link without ?lang=: still Korean (the cookie).
    await page.click("text=회원가입")
    await page.wait_for_url(site_url + "/register")
    assert await _lang(page) == "ko" and await page.text_content("h1") == "계정 만들기"
    await page.fill("#email", "korean@example.org")
    await page.fill("#password", "browser pass 1")
    await page.fill("#password_confirm", "browser pass 1")
    await page.click("#register-form button[type=submit]")
    await page.wait_for_url(site_url + "/")
    assert "Dr. Skin에 오신 것을 환영합니다." in (await page.text_content(".flash") or "")

    # A diagnosis in Korean: the page's JS texts too (the preview caption), then the result page.
    await page.set_input_files("#image", str(photo))
    await page.wait_for_selector("#preview:not([hidden])")
    assert "업로드용으로 축소됨" in (await page.text_content("#preview-caption") or "")
    await page.click("#analyse")
    await page.wait_for_url("**/diagnoses/*")
    await page.wait_for_selector("#triage")
    assert await _lang(page) == "ko"
    assert await page.text_content(".triage-caption") == "긴급도"
    assert "진단이 아닙니다." in (await page.text_content("#disclaimer") or "")
    names = await page.locator("#probabilities th").all_text_contents()
    assert len(names) == 7 and all(HANGUL.search(name) for name in names), names
    await _shot(page, "i18n-02-result-ko")

    await page.click("text=검사 기록")
    await page.wait_for_selector("#history .history-item")
    assert await page.text_content("h1") == "내 검사 결과"
    await _shot(page, "i18n-03-history-ko")

    # And back to English, remembered as well.
    await page.click(".lang-switch a[hreflang=en]")
    await page.wait_for_url("**/history?lang=en")
    assert await page.text_content("h1") == "My diagnoses"
    await page.click("text=My lesions")
    await page.wait_for_url(site_url + "/lesions")
    assert await _lang(page) == "en" and await page.text_content("h1") == "My lesions"
    assert not errors, errors


async def test_a_korean_browser_gets_korean_first(page, site_url):
    browser = page.context.browser
    context = await browser.new_context(locale="ko-KR", viewport={"width": 420, "height": 900})
    try:
        korean = await context.new_page()
        await korean.goto(site_url + "/login")
        assert await _lang(korean) == "ko"
        assert await korean.text_content("h1") == "로그인"
        assert await korean.get_attribute("#login-form button[type=submit]", "class") is not None
        await _shot(korean, "i18n-04-login-ko-mobile")
        assert await korean.is_visible("#nav-menu-button")  # a phone: the links, language too, are behind Menu
        await korean.click("#nav-menu-button")
        await korean.click(".lang-switch a[hreflang=en]")
        await korean.wait_for_url("**/login?lang=en")
        assert await korean.text_content("h1") == "Log in"
        await korean.goto(site_url + "/register")
        assert await _lang(korean) == "en"
    finally:
        await context.close()
