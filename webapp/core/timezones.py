"""Times in the reader's time zone, always naming the zone. Stored times stay UTC; only what people read moves.

The zone of a request is the account's ``users.time_zone`` (copied into the session at log-in and whenever the
account is read), else the browser's zone from the ``tz`` cookie (set by ``static/js/timezone.js`` from
``Intl.DateTimeFormat().resolvedOptions().timeZone``), else UTC. Every time a page shows goes through
``local_time`` (the ``date`` filter) or ``local_day`` (the ``day`` filter); code that renders without a request
(a PDF, an e-mail) calls them with the zone name, e.g. ``local_time(d.created_at, user.time_zone, "ko")``.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from webapp.core.i18n import current_language, request_language

DEFAULT_ZONE = "UTC"
COOKIE = "tz"
SESSION_KEY = "time_zone"
_STATE_KEY = "drskin_time_zone"
MAX_ZONE_LENGTH = 64

# (date and time, calendar day, short day for chart axes) per language.
_FORMATS = {"en": ("%d %b %Y, %H:%M", "%d %b %Y", "%d %b %y"),
            "ko": ("%Y. %m. %d. %H:%M", "%Y. %m. %d.", "%y. %m. %d.")}


@functools.cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows (the ``tzdata`` package or the system's), sorted; the account page's
    choices and the only names accepted."""
    from zoneinfo import available_timezones

    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


def valid_zone(name: str | None) -> str | None:
    """``name`` when it is a known IANA zone (``Asia/Seoul``), else None. Only names from ``zone_names`` pass, so
    a cookie can never make ``ZoneInfo`` read an arbitrary path."""
    if not name or len(name) > MAX_ZONE_LENGTH:
        return None
    name = name.strip()
    return name if name in _zone_set() else None


@functools.cache
def _zone_set() -> frozenset[str]:
    return frozenset(zone_names())


@functools.cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def zone_label(moment: datetime, zone_name: str) -> str:
    """The zone as people read it at that moment: its abbreviation when it has one (``KST``, ``CET``/``CEST``,
    ``EST``/``EDT``, ``UTC``), else the IANA name in brackets (``(America/Sao_Paulo)``, whose abbreviation is just
    ``-03``)."""
    abbreviation = moment.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    return f"({zone_name})"


def to_zone(value: datetime, zone_name: str | None) -> datetime:
    """``value`` (aware, or naive meaning UTC) in ``zone_name`` (unknown or None: UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(_zone(valid_zone(zone_name) or DEFAULT_ZONE))


def local_time(value: datetime | None, zone_name: str | None, lang: str = "en") -> str:
    """A stored (UTC) time in the reader's zone and language, with the zone named:
    ``29 Nov 2026, 14:54 KST`` / ``2026. 11. 29. 14:54 KST``. An unknown zone shows UTC (and says so)."""
    if value is None:
        return ""
    zone = valid_zone(zone_name) or DEFAULT_ZONE
    moment = to_zone(value, zone)
    pattern = _FORMATS.get(lang, _FORMATS["en"])[0]
    return f"{moment.strftime(pattern)} {zone_label(moment, zone)}"


def local_day(value: date | datetime | None, zone_name: str | None, lang: str = "en", *, short: bool = False) -> str:
    """A calendar day (``29 Nov 2026`` / ``2026. 11. 29.``): a time is first moved into the reader's zone (14:54
    UTC on the 29th is the 30th in Seoul); a ``date`` is already a day (the re-check dates, computed in the zone)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_zone(value, zone_name).date()
    pattern = _FORMATS.get(lang, _FORMATS["en"])[2 if short else 1]
    return value.strftime(pattern)


def today(zone_name: str | None, now: datetime | None = None) -> date:
    """The calendar day it is now in the reader's zone."""
    return to_zone(now or datetime.now(UTC), zone_name).date()


# ------------------------------------------------------------------------------------------------ the request
def request_time_zone(request: Any) -> str:
    """The zone this request's times are shown in (see the module docstring); decided once per request."""
    state = request.scope.setdefault("state", {})
    cached = state.get(_STATE_KEY)
    if cached:
        return str(cached)
    zone = None
    try:
        zone = valid_zone(request.session.get(SESSION_KEY))
    except Exception:  # no session in scope (static files, errors before routing)
        zone = None
    zone = zone or valid_zone(request.cookies.get(COOKIE)) or DEFAULT_ZONE
    state[_STATE_KEY] = zone
    return zone


def remember_account_zone(request: Any, zone_name: str | None) -> None:
    """Keep the session's copy of the account's zone in step with the account (at log-in, when the account is
    read, when the person changes it); None: the account has none, the browser's zone applies."""
    zone = valid_zone(zone_name)
    try:
        if request.session.get(SESSION_KEY) != zone:
            if zone:
                request.session[SESSION_KEY] = zone
            else:
                request.session.pop(SESSION_KEY, None)
    except Exception:
        return
    request.scope.setdefault("state", {}).pop(_STATE_KEY, None)


def install_jinja(env: Any) -> None:
    """The ``date`` (time with zone) and ``day`` (calendar day) filters, in the request's zone and language, and
    ``time_zone`` (the request's zone name) for templates."""
    from jinja2 import pass_context

    def _zone_and_lang(context: Any) -> tuple[str, str]:
        request = context.get("request") if context is not None else None
        if request is None:
            return DEFAULT_ZONE, current_language()
        try:
            return request_time_zone(request), request_language(request)
        except Exception:
            return DEFAULT_ZONE, current_language()

    @pass_context
    def date_filter(context: Any, value: Any) -> str:
        zone, lang = _zone_and_lang(context)
        return local_time(value, zone, lang)

    @pass_context
    def day_filter(context: Any, value: Any) -> str:
        zone, lang = _zone_and_lang(context)
        return local_day(value, zone, lang)

    @pass_context
    def time_zone(context: Any) -> str:
        return _zone_and_lang(context)[0]

    env.filters["date"] = date_filter
    env.filters["day"] = day_filter
    env.globals["time_zone"] = time_zone
