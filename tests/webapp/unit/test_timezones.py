"""Times in the reader's zone (webapp.core.timezones): the zone is always named, daylight saving moves the clock and
its name, an unknown zone falls back to UTC and says so."""

from __future__ import annotations

from datetime import UTC, date, datetime

from webapp.core.timezones import local_day, local_time, today, valid_zone, zone_label, zone_names


def test_seoul_is_nine_hours_ahead_and_named():
    moment = datetime(2026, 11, 29, 5, 54, tzinfo=UTC)
    assert local_time(moment, "Asia/Seoul", "en") == "29 Nov 2026, 14:54 KST"
    assert local_time(moment, "Asia/Seoul", "ko") == "2026. 11. 29. 14:54 KST"
    assert local_time(moment, "UTC", "en") == "29 Nov 2026, 05:54 UTC"


def test_daylight_saving_moves_the_clock_and_the_name():
    winter, summer = datetime(2026, 1, 15, 12, 0, tzinfo=UTC), datetime(2026, 7, 15, 12, 0, tzinfo=UTC)
    assert local_time(winter, "Europe/Berlin", "en") == "15 Jan 2026, 13:00 CET"
    assert local_time(summer, "Europe/Berlin", "en") == "15 Jul 2026, 14:00 CEST"
    assert local_time(winter, "America/New_York", "en") == "15 Jan 2026, 07:00 EST"
    assert local_time(summer, "America/New_York", "en") == "15 Jul 2026, 08:00 EDT"
    # the night the clocks go back in New York (1 Nov 2026): 01:30 happens twice, once EDT, once EST
    assert local_time(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "America/New_York", "en").endswith("01:30 EDT")
    assert local_time(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "America/New_York", "en").endswith("01:30 EST")


def test_a_zone_without_letters_is_named_by_its_iana_name():
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert local_time(moment, "America/Sao_Paulo", "en") == "01 Jul 2026, 09:00 (America/Sao_Paulo)"
    assert zone_label(moment.astimezone(), "UTC")  # never empty


def test_an_invalid_zone_is_refused_and_shows_utc():
    for bad in ("Mars/Olympus", "../../etc/passwd", "", None, "x" * 500, "localtime", "Asia/Seoul\x00"):
        assert valid_zone(bad) is None
    assert valid_zone("Asia/Seoul") == "Asia/Seoul" and "Asia/Seoul" in zone_names()
    moment = datetime(2026, 11, 29, 5, 54, tzinfo=UTC)
    assert local_time(moment, "Mars/Olympus", "en") == "29 Nov 2026, 05:54 UTC"
    assert local_time(None, "Asia/Seoul") == ""


def test_naive_times_are_utc_and_days_follow_the_zone():
    late = datetime(2026, 11, 29, 20, 0)  # naive = UTC; already the 30th in Seoul
    assert local_time(late, "Asia/Seoul", "en") == "30 Nov 2026, 05:00 KST"
    assert local_day(late, "Asia/Seoul", "en") == "30 Nov 2026"
    assert local_day(late, "UTC", "ko") == "2026. 11. 29."
    assert local_day(date(2026, 12, 1), "Asia/Seoul", "en") == "01 Dec 2026"  # a date is already a day
    assert local_day(late, "Asia/Seoul", "en", short=True) == "30 Nov 26"
    assert today("Asia/Seoul", now=late.replace(tzinfo=UTC)) == date(2026, 11, 30)
