"""The account's time zone (users.time_zone, migration 0006) and the lesion page's compare view, through HTTP on a
real database."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import select, update

from tests.webapp.conftest import database, fake_result, post_form, register, store_rows
from webapp.db.migrate import downgrade, upgrade


async def _user(db_url: str, email: str):
    from webapp.db.models import User

    async with database(db_url) as session:
        return await session.scalar(select(User).where(User.email == email))


async def test_migration_0006_adds_and_drops_the_time_zone(db_url):
    await asyncio.to_thread(upgrade, db_url, "0005")
    from sqlalchemy.ext.asyncio import create_async_engine

    from webapp.core.settings import normalise_database_url

    async def columns() -> set[str]:
        engine = create_async_engine(normalise_database_url(db_url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(lambda c: {col["name"] for col in sa.inspect(c).get_columns("users")})
        finally:
            await engine.dispose()

    assert "time_zone" not in await columns()
    await asyncio.to_thread(upgrade, db_url, "0006")
    assert "time_zone" in await columns()
    await asyncio.to_thread(downgrade, db_url, "0005")
    assert "time_zone" not in await columns()


async def test_the_browser_zone_is_kept_shown_named_editable_and_exported(client, db_url):
    response = await post_form(client, "/register", "/register", {
        "email": "seoul@example.org", "password": "correct horse 1", "password_confirm": "correct horse 1",
        "time_zone": "Asia/Seoul"})
    assert response.status_code in (302, 303)
    assert (await _user(db_url, "seoul@example.org")).time_zone == "Asia/Seoul"
    rows = await store_rows(db_url, "seoul@example.org")
    from webapp.db.models import Diagnosis

    async with database(db_url) as session:  # 21:54 UTC is 06:54 the next morning in Seoul
        await session.execute(update(Diagnosis).where(Diagnosis.id == rows.diagnosis_id)
                              .values(created_at=datetime(2026, 11, 28, 21, 54, tzinfo=UTC)))
        await session.commit()
    for page in ("/history", f"/diagnoses/{rows.diagnosis_id}", f"/lesions/{rows.lesion_id}"):
        text = (await client.get(page)).text
        assert "29 Nov 2026, 06:54 KST" in text, page
        assert "21:54" not in text, page
    assert "Times are shown in Asia/Seoul" in (await client.get("/")).text

    refused = await post_form(client, "/account", "/account/time-zone", {"time_zone": "Mars/Olympus"})
    assert refused.status_code == 400 and "not a time zone we know" in refused.text
    assert (await _user(db_url, "seoul@example.org")).time_zone == "Asia/Seoul"
    saved = await post_form(client, "/account", "/account/time-zone", {"time_zone": "Europe/Berlin"})
    assert saved.status_code in (302, 303)
    assert (await _user(db_url, "seoul@example.org")).time_zone == "Europe/Berlin"
    account = (await client.get("/account")).text
    assert '<option value="Europe/Berlin" selected>' in account
    assert "28 Nov 2026, 22:54 CET" in (await client.get("/history")).text

    korean = (await client.get("/history?lang=ko")).text
    assert "2026. 11. 28. 22:54 CET" in korean

    archive = zipfile.ZipFile(io.BytesIO((await client.get("/account/export")).content))
    assert json.loads(archive.read("account.json"))["time_zone"] == "Europe/Berlin"


async def test_anonymous_visitors_see_utc_or_their_browser_zone_and_login_fills_an_empty_zone(client, db_url):
    assert "Times are shown in UTC." in (await client.get("/about")).text
    client.cookies.set("tz", "America/New_York")
    assert "Times are shown in America/New_York." in (await client.get("/about")).text
    client.cookies.set("tz", "../../etc/passwd")
    assert "Times are shown in UTC." in (await client.get("/about")).text

    await store_rows(db_url, "old@example.org")  # an account from before time zones
    assert (await _user(db_url, "old@example.org")).time_zone is None
    client.cookies.clear()
    response = await post_form(client, "/login", "/login", {"email": "old@example.org",
                                                           "password": "correct horse 1",
                                                           "time_zone": "Asia/Seoul"})
    assert response.status_code in (302, 303)
    assert (await _user(db_url, "old@example.org")).time_zone == "Asia/Seoul"


def _with_outline(area: float, concerning: float, border: float, width: int, height: int) -> dict:
    result = fake_result(area=area, concerning=concerning, level="medium" if concerning > 0.3 else "low")
    segmentation = result["segmentation"]
    segmentation["measurements"]["border_irregularity"] = border
    segmentation.update(width=width, height=height,
                        outline=[[width * 0.3, height * 0.3], [width * 0.7, height * 0.3], [width * 0.5, height * 0.7]])
    return result


def _compare_section(html: str) -> str:
    start = html.index('<section class="card compare" id="compare"')
    return html[start:html.index("</section>", start)]


async def test_compare_two_photos_with_outlines_and_the_change(client, db_url):
    await register(client, "compare@example.org")
    old = await store_rows(db_url, "compare@example.org")  # from before outlines: no outline stored
    middle = await store_rows(db_url, "compare@example.org", lesion_id=old.lesion_id,
                              result=_with_outline(0.25, 0.1, 1.3, 320, 240))
    latest = await store_rows(db_url, "compare@example.org", lesion_id=old.lesion_id,
                              result=_with_outline(0.30, 0.45, 1.6, 320, 240))
    from webapp.db.models import Diagnosis

    async with database(db_url) as session:
        for row, days in ((old, 60), (middle, 30), (latest, 0)):
            await session.execute(update(Diagnosis).where(Diagnosis.id == row.diagnosis_id)
                                  .values(created_at=datetime.now(UTC) - timedelta(days=days)))
        await session.commit()
    page = f"/lesions/{old.lesion_id}"

    text = (await client.get(page)).text  # default: the first and the latest photo
    assert 'id="compare"' in text and 'id="compare-slider"' in text and 'type="range"' in text
    assert f"/photos/{old.photo_id}" in text and f"/photos/{latest.photo_id}" in text
    assert "No outline stored for this photo." in text  # the old one: shown without an outline, no error
    assert _compare_section(text).count('class="outline-layer"') == 2  # the latest's: side by side, in the overlay
    assert "60 days apart" in text
    assert 'id="change-area"' in text and "+50 %" in text  # 20 % → 30 % of the photo
    assert 'id="change-concerning"' in text and "+35 points" in text
    assert 'src="/static/js/compare.js"' in text

    chosen = (await client.get(page, params={"a": str(latest.diagnosis_id), "b": str(middle.diagnosis_id)})).text
    assert "30 days apart" in chosen and "+20 %" in chosen and "+0.30" in chosen  # border 1.30 → 1.60
    assert "No outline stored for this photo." not in chosen
    assert _compare_section(chosen).count('class="outline-layer"') == 4  # both, side by side and in the overlay

    stranger = await store_rows(db_url, "someone-else@example.org")
    refused = await client.get(page, params={"a": str(stranger.diagnosis_id), "b": str(latest.diagnosis_id)})
    assert refused.status_code == 400 and "not one of this spot" in refused.text
    assert f"/photos/{stranger.photo_id}" not in refused.text
    same = await client.get(page, params={"a": str(latest.diagnosis_id), "b": str(latest.diagnosis_id)})
    assert same.status_code == 400 and "two different photos" in same.text
    assert (await client.get(page, params={"a": "x" * 65})).status_code == 400


async def test_community_posts_and_comments_use_the_same_time_format(client, db_url):
    from webapp.db.models import CommunityComment, CommunityPost

    rows = await store_rows(db_url, "poster@example.org")
    at = datetime(2026, 11, 28, 21, 54, tzinfo=UTC)
    async with database(db_url) as session:
        post = CommunityPost(user_id=rows.user_id, title="A spot", title_search="a spot", body="Hello", created_at=at)
        session.add(post)
        await session.flush()
        session.add(CommunityComment(post_id=post.id, user_id=rows.user_id, body="Reply", created_at=at))
        await session.commit()
    client.cookies.set("tz", "Asia/Seoul")
    detail = (await client.get(f"/community/posts/{post.id}")).text
    assert detail.count("29 Nov 2026, 06:54 KST") == 2  # the post and the comment
    assert "2026-11-28 21:54" not in detail
    assert "29 Nov 2026, 06:54 KST" in (await client.get("/community")).text
    assert "2026. 11. 29. 06:54 KST" in (await client.get("/community?lang=ko")).text
