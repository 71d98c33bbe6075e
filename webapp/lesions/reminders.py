"""Re-check reminders: when each tracked spot is due for a new photo, and the same as an iCalendar file.

A spot is due ``recheck_days`` after its latest photo (a spot without a photo is due at once: it needs a first
one). Dates are calendar days in the person's time zone (``webapp.core.timezones``; UTC when unknown). The
calendar (RFC 5545, written with the ``icalendar`` package) has one all-day event per spot on its due date (today
when overdue), repeating every ``recheck_days`` days, with a morning alarm; re-importing it replaces the events
(stable UIDs).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from webapp.core.timezones import to_zone

DEFAULT_DAYS = 30
MIN_DAYS, MAX_DAYS = 7, 365


@dataclass(frozen=True)
class Recheck:
    lesion_id: uuid.UUID
    name: str
    interval_days: int
    last_photo_on: date | None
    due_on: date
    today: date

    @property
    def is_due(self) -> bool:
        return self.due_on <= self.today

    @property
    def days_left(self) -> int:
        """Days until due (0 or negative when due or overdue)."""
        return (self.due_on - self.today).days


def recheck(lesion_id: uuid.UUID, name: str, interval_days: int, last_photo_at: datetime | None,
            created_at: datetime, now: datetime | None = None, zone: str | None = None) -> Recheck:
    """When the spot is due: ``interval_days`` after its latest photo, or on the day it was added without one;
    days as the calendar reads in ``zone`` (an IANA name; None: UTC)."""
    today = to_zone(now or datetime.now(UTC), zone).date()
    last = to_zone(last_photo_at, zone).date() if last_photo_at else None
    due = last + timedelta(days=interval_days) if last else to_zone(created_at, zone).date()
    return Recheck(lesion_id, name, interval_days, last, due, today)


def parse_interval(text: str) -> int | None:
    """Whole days between ``MIN_DAYS`` and ``MAX_DAYS``, or None."""
    text = text.strip()
    if not text.isdigit():
        return None
    days = int(text)
    return days if MIN_DAYS <= days <= MAX_DAYS else None


def calendar(rechecks: list[Recheck], *, summary: str, description: str, site_url: str,
             alarm_text: str) -> bytes:
    """An iCalendar file with one repeating all-day event per spot. ``summary`` and ``description`` are
    translated templates with ``%(name)s`` (and ``%(days)d`` for the description); ``site_url`` links each event
    to its lesion page."""
    from icalendar import Alarm, Calendar, Event

    cal = Calendar()
    cal.add("prodid", "-//Dr. Skin//re-check reminders//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", "Dr. Skin")
    stamp = datetime.now(UTC).replace(microsecond=0)
    for item in rechecks:
        event = Event()
        start = max(item.due_on, item.today)
        event.add("uid", f"recheck-{item.lesion_id}@drskin")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + timedelta(days=1))
        event.add("rrule", {"freq": "daily", "interval": item.interval_days})
        event.add("summary", summary % {"name": item.name})
        link = f"{site_url.rstrip('/')}/lesions/{item.lesion_id}"
        event.add("description", description % {"name": item.name, "days": item.interval_days} + "\n" + link)
        event.add("url", link)
        event.add("transp", "TRANSPARENT")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", alarm_text % {"name": item.name})
        alarm.add("trigger", timedelta(hours=9))  # 09:00 on the day
        event.add_component(alarm)
        cal.add_component(event)
    return bytes(cal.to_ical())
