"""Re-check reminders through HTTP: due spots on the home page and the lesion list, the interval form, the .ics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar
from sqlalchemy import update

from tests.webapp.conftest import database, post_form, register, store_rows


async def _age(db_url: str, diagnosis_id, days: int) -> None:
    from webapp.db.models import Diagnosis

    async with database(db_url) as session:
        await session.execute(update(Diagnosis).where(Diagnosis.id == diagnosis_id)
                              .values(created_at=datetime.now(UTC) - timedelta(days=days)))
        await session.commit()


async def test_a_spot_photographed_40_days_ago_is_due_until_the_interval_is_longer(client, db_url):
    await register(client, "recheck@example.org")
    rows = await store_rows(db_url, "recheck@example.org")  # the lesion "arranged" with one photo
    await _age(db_url, rows.diagnosis_id, 40)

    home = (await client.get("/")).text
    assert 'id="rechecks-due"' in home and "1 spot is due for a re-check" in home and "arranged" in home
    listing = (await client.get("/lesions")).text
    assert "Re-check due" in listing and 'id="ics-link"' in listing
    page = f"/lesions/{rows.lesion_id}"
    detail = (await client.get(page)).text
    assert 'id="recheck-due"' in detail and 'value="30"' in detail

    refused = await post_form(client, page, f"{page}/recheck", {"recheck_days": "3"})
    assert refused.status_code in (302, 303)
    assert "7 to 365 days" in (await client.get(page)).text
    saved = await post_form(client, page, f"{page}/recheck", {"recheck_days": "60"})
    assert saved.status_code in (302, 303)
    detail = (await client.get(page)).text
    assert 'id="recheck-next"' in detail and "(in 20 days)" in detail and 'value="60"' in detail
    assert 'id="rechecks-due"' not in (await client.get("/")).text
    assert "Re-check due" not in (await client.get("/lesions")).text

    ics = await client.get("/lesions/reminders.ics")
    assert ics.status_code == 200 and ics.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "attachment" in ics.headers["content-disposition"]
    events = Calendar.from_ical(ics.content).walk("VEVENT")
    assert len(events) == 1 and "arranged" in str(events[0]["summary"])
    assert events[0]["rrule"]["INTERVAL"] == [60]
    assert f"/lesions/{rows.lesion_id}" in str(events[0]["url"])


async def test_reminders_are_private(client, db_url):
    other = await store_rows(db_url, "owner-of-spot@example.org")
    await register(client, "stranger@example.org")
    ics = await client.get("/lesions/reminders.ics")
    assert ics.status_code == 200 and Calendar.from_ical(ics.content).walk("VEVENT") == []
    page = f"/lesions/{other.lesion_id}"
    response = await post_form(client, "/lesions", f"{page}/recheck", {"recheck_days": "60"})
    assert response.status_code == 404
    client.cookies.clear()
    anonymous = await client.get("/lesions/reminders.ics", follow_redirects=False)
    assert anonymous.status_code in (302, 303, 401)
