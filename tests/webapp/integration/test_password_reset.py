"""Forgot your password: the mail really leaves through SMTP (a real aiosmtpd server in this process), the token is
single-use, hashed, short-lived and superseded, the answers say nothing about whether an address has an account,
and a reset ends the other sessions and lifts a log-in lock. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from tests.fixtures.smtp import SmtpServer, reset_link, text_of
from tests.webapp.conftest import csrf_from, database, post_form, register

EMAIL = "reset@example.org"
OLD = "correct horse 1"
NEW = "a brand new secret 2"


@pytest.fixture
async def mail_app(make_app, smtp_server: SmtpServer):
    return await make_app(**smtp_server.env, DRSKIN_LOGIN_MAX_FAILURES="3")


async def _ask(client, email: str):
    return await post_form(client, "/password/forgot", "/password/forgot", {"email": email})


async def _settle(app) -> None:
    """Until the site's mailer has handled every job. The test client runs the app on an event loop of its own
    thread, so this polls a counter instead of awaiting the mailer's queue."""
    deadline = time.monotonic() + 60
    while app.state.mailer.busy:
        assert time.monotonic() < deadline, "the mailer did not finish its jobs"
        await asyncio.sleep(0.02)


async def _reset(client, link: str, password: str, confirm: str | None = None):
    """Follow the mail's link (it moves the token into a cookie and on to the form), then send the form."""
    page = await client.get(urlsplit(link).path, follow_redirects=True)
    assert page.status_code == 200 and str(page.url).endswith("/password/reset"), page.text[:300]
    assert "reset/" not in str(page.url)  # the form's address holds no token
    return await client.post("/password/reset", data={"password": password, "password_confirm": confirm or password,
                                                       "_csrf_token": csrf_from(page.text)}, follow_redirects=False)


async def _login(client, password: str):
    return await post_form(client, "/login", "/login", {"email": EMAIL, "password": password})


async def test_reset_by_mail_sets_the_password_and_ends_other_sessions(mail_app, smtp_server, site_env, caplog):
    caplog.set_level(logging.DEBUG)
    # One client (one app lifespan, one mailer); the "other device" is a second session whose cookies are kept aside.
    async with AsyncTestClient(app=mail_app) as owner:
        await register(owner, EMAIL, OLD)
        owner.cookies.clear()
        assert (await _login(owner, OLD)).status_code == 302
        assert (await owner.get("/account")).status_code == 200
        other_device = dict(owner.cookies.items())
        owner.cookies.clear()

        login_page = (await owner.get("/login")).text
        assert 'href="/password/forgot"' in login_page
        sent = await _ask(owner, EMAIL)
        assert sent.status_code == 200 and "Check your mail" in sent.text
        await _settle(mail_app)
        (message,) = smtp_server.wait_for(1)
        assert smtp_server.handler.recipients == [[EMAIL]]
        assert message["Subject"] == "Reset your Dr. Skin password"
        assert message["From"].addresses[0].addr_spec == "no-reply@drskin.test"
        link = reset_link(message)
        token = link.rsplit("/", 1)[1]
        assert len(token) >= 43  # 32 random bytes, URL-safe base64: 256 bits

        # Stored hashed, never in clear; never in the site's logs, and neither is the address.
        async with database(site_env["DATABASE_URL"]) as session:
            from webapp.db.models import PasswordResetToken

            stored = (await session.scalars(select(PasswordResetToken.token_hash))).all()
        assert stored == [hashlib.sha256(token.encode()).hexdigest()]
        logged = "\n".join(record.getMessage() for record in caplog.records  # the site's own loggers
                           if record.name.split(".")[0] in {"webapp", "litestar", "uvicorn"})
        assert "mail to rcpt-" in logged and token not in logged and EMAIL not in logged

        done = await _reset(owner, link, NEW)
        assert done.status_code in (302, 303) and done.headers["location"] == "/login"

        assert (await _login(owner, OLD)).status_code == 400
        assert (await _login(owner, NEW)).status_code == 302
        # The session opened before the reset is over.
        owner.cookies.clear()
        owner.cookies.update(other_device)
        ended = await owner.get("/account", follow_redirects=False)
        assert ended.status_code in (302, 303, 401) and "/login" in ended.headers.get("location", "/login")

        # Used once: the same link is a clear 410 page, for the page and for the form.
        reused = await owner.get(urlsplit(link).path)
        assert reused.status_code == 410 and "This link no longer works" in reused.text
        again = await owner.post("/password/reset", data={"password": "x" * 12, "password_confirm": "x" * 12,
                                                          "_csrf_token": csrf_from(
                                                              (await owner.get("/password/forgot")).text)})
        assert again.status_code == 410


async def test_answers_are_the_same_for_known_and_unknown_addresses(mail_app, smtp_server):
    async with AsyncTestClient(app=mail_app) as client:
        await register(client, EMAIL, OLD)
        known = await _ask(client, EMAIL)
        unknown = await _ask(client, "nobody-here@example.org")
        await _settle(mail_app)
        refused = await _ask(client, "not an address")
        assert refused.status_code == 400 and "valid email address" in refused.text
    strip = re.compile(r'name="_csrf_token" value="[^"]+"')
    assert known.status_code == unknown.status_code == 200
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    assert sorted(k for k in known.headers if k.lower() != "set-cookie") == \
        sorted(k for k in unknown.headers if k.lower() != "set-cookie")
    assert len(smtp_server.messages) == 1  # only the address with an account got mail


async def test_newer_link_expiry_and_password_change_end_a_link(mail_app, smtp_server, site_env):
    from webapp.db.models import PasswordResetToken

    async with AsyncTestClient(app=mail_app) as client:
        await register(client, EMAIL, OLD)
        await _ask(client, EMAIL)
        await _ask(client, EMAIL)
        await _settle(mail_app)
        first, second = (reset_link(m) for m in smtp_server.wait_for(2))
        assert (await client.get(urlsplit(first).path)).status_code == 410  # superseded by the newer one
        assert (await client.get(urlsplit(second).path, follow_redirects=True)).status_code == 200

        async with database(site_env["DATABASE_URL"]) as session:
            await session.execute(update(PasswordResetToken).values(
                expires_at=datetime.now(UTC) - timedelta(seconds=1)))
            await session.commit()
        assert (await client.get(urlsplit(second).path)).status_code == 410  # expired

        await _ask(client, EMAIL)
        await _settle(mail_app)
        third = reset_link(smtp_server.wait_for(3)[2])
        changed = await post_form(client, "/account", "/account/password", {
            "current_password": OLD, "new_password": NEW, "new_password_confirm": NEW})
        assert changed.status_code in (302, 303)
        assert (await client.get("/account")).status_code == 200  # the session that changed it stays
        assert (await client.get(urlsplit(third).path)).status_code == 410  # the password changed since


async def test_lifetime_is_within_15_to_60_minutes_and_rules_match_sign_up(mail_app, smtp_server, site_env):
    from webapp.db.models import PasswordResetToken

    async with AsyncTestClient(app=mail_app) as client:
        await register(client, EMAIL, OLD)
        before = datetime.now(UTC)
        await _ask(client, EMAIL)
        await _settle(mail_app)
        link = reset_link(smtp_server.wait_for(1)[0])
        async with database(site_env["DATABASE_URL"]) as session:
            expires = await session.scalar(select(PasswordResetToken.expires_at))
        assert timedelta(minutes=15) <= expires - before <= timedelta(minutes=61)
        assert "30 minutes" in text_of(smtp_server.messages[0])

        short = await _reset(client, link, "short")
        assert short.status_code == 400 and "at least 8 characters" in short.text
        differ = await _reset(client, link, NEW, NEW + "x")
        assert differ.status_code == 400 and "two passwords differ" in differ.text
        assert (await _reset(client, link, NEW)).status_code in (302, 303)  # still usable after the refusals


async def test_reset_lifts_a_lock_someone_else_caused(mail_app, smtp_server):
    async with AsyncTestClient(app=mail_app) as owner:
        await register(owner, EMAIL, OLD)
        owner.cookies.clear()
        for _ in range(3):  # someone else, who knows only the address
            assert (await _login(owner, "wrong password")).status_code == 400
        locked = await _login(owner, OLD)
        assert locked.status_code == 429 and 'href="/password/forgot"' in locked.text
        await _ask(owner, EMAIL)
        await _settle(mail_app)
        assert (await _reset(owner, reset_link(smtp_server.wait_for(1)[0]), NEW)).status_code in (302, 303)
        assert (await _login(owner, NEW)).status_code == 302


async def test_per_address_allowance(make_app, smtp_server):
    app = await make_app(**smtp_server.env, DRSKIN_RESET_PER_ADDRESS_HOUR="2")
    async with AsyncTestClient(app=app) as client:
        await register(client, EMAIL, OLD)
        for _ in range(4):
            assert (await _ask(client, EMAIL)).status_code == 200
        await _settle(app)
    assert len(smtp_server.messages) == 2


async def test_korean_mail_for_a_korean_account(mail_app, smtp_server):
    async with AsyncTestClient(app=mail_app) as client:
        await client.get("/?lang=ko")
        await register(client, EMAIL, OLD)
        page = await client.get("/password/forgot")
        assert "비밀번호" in page.text
        await _ask(client, EMAIL)
        await _settle(mail_app)
    (message,) = smtp_server.wait_for(1)
    assert message["Content-Language"] == "ko" and "비밀번호" in str(message["Subject"])
    assert "비밀번호" in text_of(message)


async def test_development_mail_is_readable_at_dev_mail_and_absent_elsewhere(make_app, client):
    assert (await client.get("/dev/mail")).status_code == 404  # DRSKIN_ENV=test: no such page
    app = await make_app(DRSKIN_ENV="development", DRSKIN_SMTP_HOST="")
    async with AsyncTestClient(app=app) as dev:
        await register(dev, EMAIL, OLD)
        assert "No mail yet." in (await dev.get("/dev/mail")).text
        await _ask(dev, EMAIL)
        await _settle(app)
        inbox = await dev.get("/dev/mail")
        assert inbox.status_code == 200 and "Reset your Dr. Skin password" in inbox.text
        assert "/password/reset/" in inbox.text and inbox.headers["cache-control"] == "no-store"
