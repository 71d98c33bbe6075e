"""Registration, log-in, sessions, CSRF, passwords, rate limits and account deletion (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from litestar.testing import AsyncTestClient

from tests.webapp.conftest import count_rows, csrf_from, post_form, register, store_rows


async def test_register_logs_in_and_sets_hardened_cookie(client):
    response = await register(client, "Ann@Example.org")
    cookie = response.headers.get("set-cookie", "")
    assert "session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # DRSKIN_SECURE_COOKIES defaults to false locally
    page = await client.get("/account")
    assert page.status_code == 200 and "ann@example.org" in page.text


async def test_secure_cookies_when_configured(make_app):
    app = await make_app(DRSKIN_SECURE_COOKIES="true")
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        response = await register(client, "sec@example.org")
        assert "Secure" in response.headers["set-cookie"]


async def test_register_rejects_bad_input_with_messages(client):
    bad = await post_form(client, "/register", "/register",
                          {"email": "not-an-email", "password": "short", "password_confirm": "short"})
    assert bad.status_code == 400
    assert "valid email" in bad.text and "at least 8" in bad.text
    await register(client, "dup@example.org")
    await client.post("/logout", data={"_csrf_token": ""})  # without a token: refused, still logged in
    client.cookies.clear()
    again = await post_form(client, "/register", "/register",
                            {"email": "DUP@example.org", "password": "another pass",
                             "password_confirm": "another pass"})
    assert again.status_code == 400 and "already exists" in again.text


async def test_forms_without_csrf_token_are_refused(client):
    await client.get("/register")
    response = await client.post("/register", data={"email": "x@example.org", "password": "12345678",
                                                    "password_confirm": "12345678"})
    assert response.status_code == 403
    assert "expired" in response.text


async def test_login_logout_and_safe_next(client):
    await register(client, "bob@example.org")
    await post_form(client, "/account", "/logout", {})
    assert (await client.get("/account", follow_redirects=False)).status_code in (302, 303)
    wrong = await post_form(client, "/login", "/login", {"email": "bob@example.org", "password": "nope nope"})
    assert wrong.status_code == 400 and "not right" in wrong.text
    ok = await post_form(client, "/login?next=/history", "/login",
                         {"email": "BOB@example.org", "password": "correct horse 1", "next": "/history"})
    assert ok.status_code in (302, 303) and ok.headers["location"] == "/history"
    await post_form(client, "/", "/logout", {})
    evil = await post_form(client, "/login", "/login", {"email": "bob@example.org", "password": "correct horse 1",
                                                        "next": "//evil.example/"})
    assert evil.headers["location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example/", "/\n/evil.example/", "/\r/evil.example/",
                                    "/\\evil.example", "https://evil.example/", "/ /evil.example", "javascript:x"])
async def test_login_never_redirects_off_site(client, target):
    """Found by a probe: with the lang cookie differing from the account's language, next="/\t/evil.example/"
    answered Location: //evil.example/?lang=en (the tab is dropped when the URL is rebuilt)."""
    await register(client, "redirect@example.org")  # the account's language: English
    await post_form(client, "/", "/logout", {})
    client.cookies.set("lang", "ko")
    response = await post_form(client, "/login", "/login", {"email": "redirect@example.org",
                                                             "password": "correct horse 1", "next": target})
    location = response.headers["location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location, location


async def test_login_rotates_the_session_id(client):
    await client.get("/login")
    await post_form(client, "/login", "/login", {"email": "nobody@example.org", "password": "x"})  # flash-free
    await register(client, "rot@example.org")
    first = client.cookies.get("session")
    await post_form(client, "/", "/logout", {})
    await post_form(client, "/login", "/login", {"email": "rot@example.org", "password": "correct horse 1"})
    assert client.cookies.get("session") not in (None, "null", first)


async def test_change_password(client):
    await register(client, "pw@example.org")
    bad = await post_form(client, "/account", "/account/password",
                          {"current_password": "wrong", "new_password": "new password 2",
                           "new_password_confirm": "new password 2"})
    assert bad.status_code == 400 and "current password is not right" in bad.text
    ok = await post_form(client, "/account", "/account/password",
                         {"current_password": "correct horse 1", "new_password": "new password 2",
                          "new_password_confirm": "new password 2"})
    assert ok.status_code in (302, 303)
    await post_form(client, "/", "/logout", {})
    again = await post_form(client, "/login", "/login", {"email": "pw@example.org", "password": "new password 2"})
    assert again.status_code in (302, 303)


async def test_the_account_language_is_saved_and_follows_the_user_to_another_device(client):
    await client.get("/?lang=ko")  # signs up in Korean: that becomes the account's language
    await register(client, "lang@example.org")
    page = await client.get("/account?lang=en")  # this device switches to English; the account keeps Korean
    assert '<option value="ko" lang="ko" selected>' in page.text
    refused = await post_form(client, "/account", "/account/language", {"language": "fr"})
    assert refused.status_code == 400 and "English or Korean" in refused.text
    saved = await post_form(client, "/account", "/account/language", {"language": "en"})
    assert saved.status_code in (302, 303) and saved.headers["location"] == "/account?lang=en"
    saved = await post_form(client, "/account", "/account/language", {"language": "ko"})
    assert saved.headers["location"] == "/account?lang=ko"
    page = await client.get(saved.headers["location"])
    assert '<html lang="ko">' in page.text and "언어를 저장했습니다" in page.text
    exported = await client.get("/account/export")
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        assert json.loads(archive.read("account.json"))["language"] == "ko"

    await post_form(client, "/account", "/logout", {})
    client.cookies.clear()  # another device: no cookies, an English browser
    client.headers["accept-language"] = "en-GB,en;q=0.9"
    login = await post_form(client, "/login?next=/history%3Fpage%3D2", "/login",
                            {"email": "lang@example.org", "password": "correct horse 1", "next": "/history?page=2"})
    assert login.headers["location"] == "/history?page=2&lang=ko"
    page = await client.get(login.headers["location"])
    assert '<html lang="ko">' in page.text and client.cookies.get("lang") == "ko"
    await post_form(client, "/", "/logout", {})
    login = await post_form(client, "/login", "/login", {"email": "lang@example.org", "password": "correct horse 1"})
    assert login.headers["location"] == "/"  # already in the account's language: nothing to switch


async def test_the_optional_birth_year_and_sex_are_saved_cleared_and_exported(client):
    from datetime import UTC, datetime

    await register(client, "about@example.org")
    page = await client.get("/account")
    assert 'id="about-form"' in page.text and "optional" in page.text
    for year, sex, words in (("18", "", "four digits"), (str(datetime.now(UTC).year + 1), "", "four digits"),
                             ("1980", "robot", "female or male")):
        refused = await post_form(client, "/account", "/account/about", {"birth_year": year, "sex": sex})
        assert refused.status_code == 400 and words in refused.text
    saved = await post_form(client, "/account", "/account/about", {"birth_year": "1961", "sex": "female"})
    assert saved.status_code in (302, 303)
    page = await client.get("/account")
    assert 'value="1961"' in page.text and '<option value="female" selected>' in page.text
    exported = await client.get("/account/export")
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:
        account = json.loads(archive.read("account.json"))
    assert (account["birth_year"], account["sex"]) == (1961, "female")
    cleared = await post_form(client, "/account", "/account/about", {"birth_year": "", "sex": ""})
    assert cleared.status_code in (302, 303)
    page = await client.get("/account")
    assert 'value="1961"' not in page.text and "selected>" not in page.text.split('id="sex"')[1].split("</select>")[0]


async def test_delete_account_removes_everything(client, db_url):
    await register(client, "gone@example.org")
    await store_rows(db_url, "gone@example.org")
    await store_rows(db_url, "stays@example.org")
    refused = await post_form(client, "/account", "/account/delete", {"password": "correct horse 1", "confirm": "no"})
    assert refused.status_code == 400 and "Type DELETE" in refused.text
    done = await post_form(client, "/account", "/account/delete",
                           {"password": "correct horse 1", "confirm": "DELETE"})
    assert done.status_code in (302, 303)
    assert await count_rows(db_url) == {"users": 1, "photos": 2, "lesions": 1, "diagnoses": 1}
    assert (await client.get("/account", follow_redirects=False)).status_code in (302, 303)


async def test_login_is_rate_limited(make_app):
    app = await make_app(DRSKIN_RATE_LIMIT_LOGIN="3")
    async with AsyncTestClient(app=app) as client:
        statuses = [(await post_form(client, "/login", "/login", {"email": "a@b.cd", "password": "x"})).status_code
                    for _ in range(4)]
        assert statuses[:3] == [400, 400, 400]
        assert statuses[3] == 429
        page = await client.post("/login", data={}, follow_redirects=False)
        assert "Too many attempts" in page.text
        assert (await client.get("/login")).status_code == 200  # only POSTs count


async def test_rate_limits_count_each_kind_separately(make_app):
    app = await make_app(DRSKIN_RATE_LIMIT_LOGIN="2", DRSKIN_RATE_LIMIT_REGISTER="5")
    async with AsyncTestClient(app=app) as client:
        for _ in range(3):
            last = await post_form(client, "/login", "/login", {"email": "a@b.cd", "password": "x"})
        assert last.status_code == 429
        # Exhausting the login limit must not block signing up from the same address.
        signup = await post_form(client, "/register", "/register",
                                 {"email": "new@b.cd", "password": "correct horse 1",
                                  "password_confirm": "correct horse 1"})
        assert signup.status_code in (302, 303)


async def test_security_headers_on_every_response(client):
    for path in ("/", "/static/css/site.css", "/health/live", "/does-not-exist"):
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]


async def test_wrong_passwords_lock_the_account_not_just_the_address(make_app):
    """Guessing one account's password from many addresses is stopped by a per-account count of wrong passwords;
    the page says how long to wait and the response carries Retry-After. A right password clears the count."""
    app = await make_app(DRSKIN_LOGIN_MAX_FAILURES="3", DRSKIN_LOGIN_LOCK_MINUTES="5")
    async with AsyncTestClient(app=app) as client:
        await register(client, "locked@example.org")
        await register(client, "other@example.org")
        await post_form(client, "/", "/logout", {})

        async def login(email, password):
            return await post_form(client, "/login", "/login", {"email": email, "password": password})

        for _ in range(2):
            assert (await login("locked@example.org", "wrong wrong")).status_code == 400
        assert (await login("locked@example.org", "correct horse 1")).status_code in (302, 303)  # clears the count
        await post_form(client, "/", "/logout", {})
        for _ in range(3):
            assert (await login("LOCKED@example.org", "wrong wrong")).status_code == 400
        locked = await login("locked@example.org", "correct horse 1")  # the right password waits too
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 5 * 60 + 1
        assert "Too many wrong passwords for this account" in locked.text and "5 minutes" in locked.text
        assert (await login("other@example.org", "correct horse 1")).status_code in (302, 303)  # others are not


@pytest.mark.slow
def test_a_spoofed_forwarded_for_does_not_escape_the_login_limit(tmp_path):
    """Found by a probe: uvicorn trusted X-Forwarded-For from 127.0.0.1, so a local client choosing a new address
    for every try was never limited. The site now trusts no proxy unless FORWARDED_ALLOW_IPS names it."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    from tests.webapp.conftest import csrf_from

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'site.db'}",
           "DRSKIN_RATE_LIMIT_LOGIN": "5", "DRSKIN_SECRET_KEY": "spoof-test-" + "x" * 32, "DRSKIN_ENV": "test"}
    env.pop("FORWARDED_ALLOW_IPS", None)
    site = subprocess.Popen([sys.executable, "-m", "webapp", "run", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=10) as client:
            for _ in range(120):
                try:
                    if client.get("/health/live").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
            token = csrf_from(client.get("/login").text)
            statuses = []
            for i in range(8):
                response = client.post("/login", data={"email": "x@example.org", "password": "wrong wrong",
                                                       "_csrf_token": token},
                                       headers={"X-Forwarded-For": f"10.0.{i}.1"})
                statuses.append(response.status_code)
            assert statuses[:5] == [400] * 5 and statuses[5:] == [429] * 3, statuses
            assert int(response.headers["retry-after"]) > 0
    finally:
        site.terminate()
        site.wait(timeout=30)


async def test_anonymous_page_views_store_no_session(client, db_url):
    """Found by a probe: 30 cookie-less GET / added 30 session rows (14 days each), a cheap way to fill the
    database. A session is stored only when there is something to keep."""
    from sqlalchemy import func, select

    from tests.webapp.conftest import database
    from webapp.db.models import KeyValueItem

    async def sessions() -> int:
        async with database(db_url) as session:
            return int(await session.scalar(select(func.count()).select_from(KeyValueItem).where(
                KeyValueItem.namespace == "sessions")) or 0)

    for path in ("/", "/about", "/diseases", "/login", "/register") * 6:
        client.cookies.clear()
        response = await client.get(path)
        assert response.status_code == 200
        assert "session=" not in response.headers.get("set-cookie", "")
    assert await sessions() == 0
    await register(client, "kept@example.org")  # a log-in has something to keep
    assert await sessions() == 1
    assert (await client.get("/history")).status_code == 200  # and the session works
    await post_form(client, "/", "/logout", {})
    assert await sessions() == 0


async def test_forms_from_another_site_are_refused(client):
    await register(client, "origin@example.org")
    token = csrf_from((await client.get("/account")).text)
    for headers in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/page"}, {"Origin": "null"}):
        response = await client.post("/logout", data={"_csrf_token": token}, headers=headers, follow_redirects=False)
        assert response.status_code == 403, headers
    same = await client.post("/logout", data={"_csrf_token": token}, follow_redirects=False,
                             headers={"Origin": "http://testserver.local", "Referer": "http://testserver.local/"})
    assert same.status_code in (302, 303)


async def test_a_csrf_pair_from_another_session_is_refused(make_app):
    """Found by a probe: one user's session with another user's CSRF cookie and token was accepted."""
    # Two app instances on one database (as two replicas would be): each test client runs its own lifespan.
    alice_app, mallory_app = await make_app(), await make_app()
    async with AsyncTestClient(app=alice_app) as alice, AsyncTestClient(app=mallory_app) as mallory:
        await register(alice, "alice@example.org")
        await register(mallory, "mallory@example.org")
        mallory_cookie = mallory.cookies.get("csrftoken")
        mallory_token = csrf_from((await mallory.get("/account")).text)
        assert mallory_cookie and mallory_cookie != alice.cookies.get("csrftoken")
        alice.cookies.set("csrftoken", mallory_cookie)
        planted = await alice.post("/logout", data={"_csrf_token": mallory_token}, follow_redirects=False)
        assert planted.status_code == 403
        own = await post_form(mallory, "/account", "/logout", {})  # Mallory's own pair still works in her session
        assert own.status_code in (302, 303)


async def test_hsts_is_sent_when_the_site_is_served_over_tls(make_app):
    app = await make_app(DRSKIN_SECURE_COOKIES="true")
    async with AsyncTestClient(app=app, base_url="https://testserver.local") as client:
        response = await client.get("/")
        assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    plain = await make_app(DRSKIN_SECURE_COOKIES="false")
    async with AsyncTestClient(app=plain) as client:
        assert "strict-transport-security" not in (await client.get("/")).headers
