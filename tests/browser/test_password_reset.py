"""Forgot your password, in headless Chromium against the site under uvicorn, with the mail received by a real SMTP
server (aiosmtpd) in this process: sign up → log out → another device logs in → "Forgot your password?" → the mail
arrives → its link sets a new password → the new one logs in, the old one fails, the other device is logged out →
the used link and an expired one are a clear 410 page. In English and in Korean. The site's log (uvicorn's, access
log included) holds neither a token nor the address. Screenshots: test-artifacts/screenshots/reset-*.png."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.browser.conftest import PASSWORD, SCREENSHOTS, sign_up
from tests.fixtures.site import running_site
from tests.fixtures.smtp import SmtpServer, reset_link
from tests.webapp.conftest import closed_port_url, database

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PASSWORD = "a new browser pass 2"
TEXTS = {
    "en": {"sent": "Check your mail", "gone": "This link no longer works",
           "wrong": "The email or password is not right", "changed": "Your password was changed"},
    "ko": {"sent": "메일을 확인해 주세요", "gone": "이 링크는 더 이상 쓸 수 없습니다",
           "wrong": "이메일 또는 비밀번호가", "changed": "비밀번호가 바뀌었고"},
}


@pytest.fixture
def mail_site(smtp_server: SmtpServer, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """The site (no analysis service needed here) sending its mail to ``smtp_server``: (url, database url, log)."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'site.db'}"
    env = {"DRSKIN_ENV": "test", "DATABASE_URL": database_url, "DRSKIN_SERVICE_URL": closed_port_url(),
           "DRSKIN_SECRET_KEY": "browser-test-" + "z" * 32, "DRSKIN_RATE_LIMIT_LOGIN": "100",
           "DRSKIN_RATE_LIMIT_REGISTER": "100", "DRSKIN_RATE_LIMIT_RESET": "100", **smtp_server.env}
    with running_site(env, tmp_path) as url:
        yield url, database_url, tmp_path / "uvicorn.log"


async def _log_in(page, url: str, email: str, password: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{url}/login")
    await page.fill("#email", email)
    await page.fill("#password", password)
    await page.click("#login-form button[type=submit]")


async def _ask_for_link(page, url: str, email: str, smtp_server: SmtpServer,  # type: ignore[no-untyped-def]
                        count: int) -> str:
    await page.goto(f"{url}/login")
    await page.click("#forgot-link")
    await page.fill("#email", email)
    await page.click("#forgot-form button[type=submit]")
    await page.wait_for_selector("#forgot-sent")
    messages = await asyncio.to_thread(smtp_server.wait_for, count)
    return reset_link(messages[count - 1])


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_forgot_password_by_mail(page, mail_site, smtp_server: SmtpServer, lang: str):
    from webapp.db.models import PasswordResetToken

    url, database_url, log_path = mail_site
    texts = TEXTS[lang]
    email = f"reset-{lang}@example.org"
    await sign_up(page, url, email, query=f"?lang={lang}")
    await page.click("nav form[action='/logout'] button")

    other = await page.context.browser.new_context()  # another device, logged in with the old password
    other_page = await other.new_page()
    await _log_in(other_page, url, email, PASSWORD)
    await other_page.wait_for_selector("nav form[action='/logout']")  # logged in (on "/", or "/?lang=ko")

    link = await _ask_for_link(page, url, email, smtp_server, 1)
    assert texts["sent"] in await page.inner_text("main")
    await page.screenshot(path=str(SCREENSHOTS / f"reset-sent-{lang}.png"), full_page=True)
    mail = smtp_server.messages[0]
    assert mail["Content-Language"] == lang and smtp_server.handler.recipients[0] == [email]

    response = await page.goto(link)
    assert response.status == 200 and page.url == f"{url}/password/reset"  # the token left the address bar
    assert response.headers["cache-control"] == "no-store"
    await page.fill("#password", NEW_PASSWORD)
    await page.fill("#password_confirm", NEW_PASSWORD)
    await page.click("#reset-form button[type=submit]")
    await page.wait_for_url(url + "/login")
    assert texts["changed"] in await page.inner_text("main")

    await _log_in(page, url, email, PASSWORD)  # the old password no longer works
    await page.wait_for_selector(".flash-error")
    assert texts["wrong"] in await page.inner_text("main")
    await _log_in(page, url, email, NEW_PASSWORD)
    await page.wait_for_selector("nav form[action='/logout']")

    await other_page.goto(f"{url}/account")  # the other device was logged out
    assert "/login" in other_page.url
    await other.close()

    reused = await page.goto(link)
    assert reused.status == 410 and texts["gone"] in await page.inner_text("main")
    await page.screenshot(path=str(SCREENSHOTS / f"reset-used-{lang}.png"), full_page=True)

    expired_link = await _ask_for_link(page, url, email, smtp_server, 2)
    async with database(database_url) as session:
        await session.execute(update(PasswordResetToken).values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
        await session.commit()
    expired = await page.goto(expired_link)
    assert expired.status == 410 and texts["gone"] in await page.inner_text("main")

    logged = log_path.read_text()
    assert "/password/reset/<redacted>" in logged  # the access log saw the requests, without their tokens
    for secret in (link.rsplit("/", 1)[1], expired_link.rsplit("/", 1)[1], email):
        assert secret not in logged
