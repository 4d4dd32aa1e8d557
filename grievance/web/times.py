"""Times on staff pages, in the reader's time zone and written the CLDR way ("7 Dec 2026, 16:20"),
in the page's language ("7 Dis 2026, 16:20" in Malay).

The database and every export keep UTC; a page converts for the person reading it: their own
zone if they chose one (``/account``), else the line's ``GRIEVANCE_TIME_ZONE``. The zone's
offset follows each time ("+0545"), and the ``<time datetime>`` around it stays in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel import Locale
from babel.dates import format_skeleton
from flask import current_app, g
from flask_babel import get_locale
from flask_login import current_user

# English pages write dates as en_GB does: the day first and a 24-hour clock.
ENGLISH = "en_GB"


def page_locale() -> str:
    """The CLDR locale dates are written in: the page's language (web/i18n.py), with
    British English for English."""
    language = str(get_locale() or "en")
    return ENGLISH if language == "en" else language


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows, sorted, for the choice on ``/account``."""
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


def reader_zone() -> ZoneInfo:
    """The zone of the person reading this page (once per request)."""
    if "time_zone" not in g:
        chosen = getattr(current_user, "time_zone", None) if current_user else None
        default = current_app.extensions["grievance"].settings.time_zone
        try:
            g.time_zone = ZoneInfo(chosen or default)
        except (KeyError, ValueError):
            g.time_zone = ZoneInfo(default)
    zone: ZoneInfo = g.time_zone
    return zone


def when(moment: datetime | None, seconds: bool = False) -> str:
    """``2026-12-07T10:35Z`` → "7 Dec 2026, 16:20 +0545" for a reader in Kathmandu."""
    if moment is None:
        return ""
    local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(reader_zone())
    locale = page_locale()
    # CLDR's date and time of day, joined as the locale's medium date-time pattern joins them
    # ("{1}, {0}" in en_GB): always a 24-hour clock, which reads the same to every team.
    joined = str(Locale.parse(locale).datetime_formats["medium"])
    text = joined.replace("{1}", format_skeleton("yMMMd", local, locale=locale)).replace(
        "{0}", format_skeleton("Hms" if seconds else "Hm", local, locale=locale)
    )
    return f"{text} {local.strftime('%z') if local.utcoffset() else 'UTC'}"


def day(moment: datetime | date | None) -> str:
    """The day, as the reader's calendar has it: "7 Dec 2026"."""
    if moment is None:
        return ""
    if isinstance(moment, datetime):
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(reader_zone())
    return format_skeleton("yMMMd", moment, locale=page_locale())


FILTERS = {"when": when, "day": day}
