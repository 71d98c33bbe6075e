"""Health checks, upload limits and service failures (a closed port is a real "service down")."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.webapp.conftest import count_rows, post_form, register


async def test_live_never_needs_the_database(make_app):
    app = await make_app(with_schema=False, DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/health/live")
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        ready = await client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["down"] == ["database"] and ready.json()["checks"]["service"] == "down"


async def test_the_site_stays_ready_with_the_service_down_and_says_so(client):
    """Bug 5 of issue 28: a dead service took every site pod out of its Service (readiness 503), so a person got
    the ingress's error instead of the site's own "analysis unavailable" page. Ready = the site's database."""
    response = await client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"] == {"database": "ok", "service": "down"} and body["degraded"] == ["service"]
    assert "down" not in body and body["status"] == "ok"
    home = await client.get("/")
    assert home.status_code == 200 and 'id="service-unavailable"' in home.text
    assert "photos cannot be analysed" in home.text
    korean = await client.get("/?lang=ko")
    assert "사진을 분석할 수 없습니다" in korean.text


async def test_service_down_shows_advice_and_saves_nothing(client, db_url, photo):
    await register(client, "down@example.org")
    response = await post_form(client, "/", "/diagnose", {}, files={"image": ("p.jpg", photo, "image/jpeg")})
    assert response.status_code == 503
    assert "unavailable" in response.text and "try again in a minute" in response.text
    counts = await count_rows(db_url)
    assert counts["photos"] == 0 and counts["diagnoses"] == 0


async def test_not_an_image_is_the_users_fault(client):
    response = await post_form(client, "/", "/diagnose", {},
                               files={"image": ("notes.txt", b"hello, I am text", "text/plain")})
    assert response.status_code == 400
    assert "not an image" in response.text


async def test_missing_file_says_what_to_do(client):
    response = await post_form(client, "/", "/diagnose", {}, files={"image": ("", b"", "application/octet-stream")})
    assert response.status_code == 400 and "empty" in response.text


async def test_too_large_upload_gets_the_413_page(make_app):
    app = await make_app(DRSKIN_MAX_UPLOAD_MB="0.5")
    async with AsyncTestClient(app=app) as client:
        big = b"\xff\xd8" + b"0" * 800_000
        response = await post_form(client, "/", "/diagnose", {}, files={"image": ("big.jpg", big, "image/jpeg")})
        assert response.status_code == 413
        assert "too large" in response.text.lower()
        huge = b"\xff\xd8" + b"0" * 2_000_000  # beyond the request body limit itself
        response = await post_form(client, "/", "/diagnose", {}, files={"image": ("big.jpg", huge, "image/jpeg")})
        assert response.status_code == 413


async def test_unknown_page_is_a_friendly_404(client):
    response = await client.get("/nothing-here")
    assert response.status_code == 404 and "Page not found" in response.text


async def test_a_null_character_in_an_address_is_not_found_not_a_server_error(client):
    """Bug 7 of issue 28: ``GET /static/x%00`` answered 500 with a logged traceback ("embedded null byte")."""
    for path in ("/static/x%00", "/static/css/x%00.css", "/lesions%00"):
        response = await client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "Page not found" in response.text
