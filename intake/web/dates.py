"""Days and moments as staff read them: in the request's language (Babel) and, for a moment, in
the office's time zone; each wrapped in a ``<time>`` element that the stylesheet never breaks, so
a date is never split across two lines ("2026-12-" / "05").
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from markupsafe import Markup, escape

from intake import i18n


def day_text(value: date) -> str:
    """A day written the short way of the current language (``Dec 5, 2026``, ``5 déc. 2026``)."""
    return format_date(value, format="medium", locale=i18n.current_locale())


def day(value: date | str | None) -> Markup:
    """A day (or its ISO 8601 text) as a ``<time>`` element, or a dash for none."""
    if value is None:
        return Markup("—")
    if isinstance(value, str):
        value = date.fromisoformat(value)
    return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), day_text(value))


def moment(value: datetime, zone: str) -> Markup:
    """A moment in the office's time zone, to the second, as a ``<time class="moment">``: its
    day and its time of day each kept whole, a line may break only between them
    (``Dec 5, 2026, 4:35:10 AM``; ``5 déc. 2026, 04 h 35 min 10 s``)."""
    local = value.astimezone(ZoneInfo(zone))
    locale = i18n.current_locale()
    return Markup(
        '<time class="moment" datetime="{}"><span class="whole">{},</span> '
        '<span class="whole">{}</span></time>'
    ).format(
        local.isoformat(timespec="seconds"),
        format_date(local, format="medium", locale=locale),
        format_time(local, format="medium", locale=locale),
    )


def time_of_day(value: datetime, zone: str) -> Markup:
    """The time of day of a moment, in the office's time zone, as a ``<time>`` element."""
    local = value.astimezone(ZoneInfo(zone))
    shown = format_time(local, format="short", locale=i18n.current_locale())
    return Markup('<time datetime="{}">{}</time>').format(
        local.isoformat(timespec="minutes"), escape(shown)
    )


def month_text(key: str) -> str:
    """A month given as ``2026-01``, written out (``January 2026``, ``janvier 2026``); any other
    text as it is."""
    try:
        first = date.fromisoformat(f"{key}-01")
    except ValueError:
        return key
    return format_date(first, format="LLLL y", locale=i18n.current_locale())
