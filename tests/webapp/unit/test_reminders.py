"""Re-check dates and the iCalendar file (webapp.lesions.reminders)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar

from webapp.lesions.reminders import calendar, parse_interval, recheck

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def test_a_spot_is_due_its_interval_after_the_latest_photo_or_at_once_without_one() -> None:
    lesion = uuid.uuid4()
    created = NOW - timedelta(days=90)
    recent = recheck(lesion, "back", 30, NOW - timedelta(days=10), created, NOW)
    assert not recent.is_due and recent.due_on == date(2026, 12, 19) and recent.days_left == 20
    old = recheck(lesion, "back", 30, NOW - timedelta(days=31), created, NOW)
    assert old.is_due and old.days_left == -1
    exactly = recheck(lesion, "back", 30, NOW - timedelta(days=30), created, NOW)
    assert exactly.is_due and exactly.days_left == 0
    never = recheck(lesion, "back", 30, None, created, NOW)
    assert never.is_due and never.last_photo_on is None
    assert [parse_interval(t) for t in ("30", "7", "365", "6", "366", "x", "", "-5")] == [
        30, 7, 365, None, None, None, None, None]


def test_the_calendar_has_one_repeating_event_per_spot_with_its_link() -> None:
    due = recheck(uuid.UUID(int=1), "left shoulder", 30, NOW - timedelta(days=40), NOW - timedelta(days=99), NOW)
    later = recheck(uuid.UUID(int=2), "스팟", 60, NOW - timedelta(days=5), NOW - timedelta(days=99), NOW)
    body = calendar([due, later], summary="Photograph %(name)s", description="Every %(days)d days: %(name)s",
                    site_url="https://drskin.example/", alarm_text="Now: %(name)s")
    assert b"\r\n" in body and body.startswith(b"BEGIN:VCALENDAR")
    events = Calendar.from_ical(body).walk("VEVENT")
    assert len(events) == 2
    first, second = events
    # overdue: the event starts today; not yet due: on its due date
    assert first.decoded("dtstart") == NOW.date() and second.decoded("dtstart") == date(2027, 1, 23)
    assert str(first["summary"]) == "Photograph left shoulder" and str(second["summary"]) == "Photograph 스팟"
    assert first["rrule"]["INTERVAL"] == [30] and second["rrule"]["INTERVAL"] == [60]
    assert f"https://drskin.example/lesions/{uuid.UUID(int=1)}" in str(first["description"])
    assert str(first["uid"]) == f"recheck-{uuid.UUID(int=1)}@drskin"
    assert first.walk("VALARM") and "left shoulder" in str(first.walk("VALARM")[0]["description"])
