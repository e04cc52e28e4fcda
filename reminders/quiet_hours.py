"""Quiet hours: check-ins go out only inside the sending window of the person's local day.

The time zone is the one staff set on the person, else the one their number belongs to
(phonenumbers). A number whose area spans several zones must be inside the window in all of
them, so nobody is texted at night because we guessed the wrong side of a zone line.
Everything is computed with zoneinfo, so daylight-saving changes need no special cases.
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezone

UTC = dt.UTC


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


@lru_cache(maxsize=65536)
def zones_for_number(phone: str) -> tuple[str, ...]:
    """IANA zone names for an E.164 number; () when the library does not know."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ()
    names = phone_timezone.time_zones_for_number(number)
    return tuple(n for n in names if n != "Etc/Unknown" and _zone(n) is not None)


def person_zones(timezone_name: str, phone: str, default: str) -> tuple[ZoneInfo, ...]:
    names: tuple[str, ...] = ()
    if timezone_name and _zone(timezone_name) is not None:
        names = (timezone_name,)
    if not names:
        names = zones_for_number(phone) or (default,)
    return tuple(z for n in names if (z := _zone(n)) is not None) or (ZoneInfo("UTC"),)


def inside(moment: dt.datetime, zone: ZoneInfo, start: dt.time, end: dt.time) -> bool:
    local = moment.astimezone(zone).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # a window across midnight, e.g. 22:00-06:00


def _window_starts(moment: dt.datetime, zone: ZoneInfo, start: dt.time) -> list[dt.datetime]:
    today = moment.astimezone(zone).date()
    starts = []
    for days in range(-1, 3):
        local = dt.datetime.combine(today + dt.timedelta(days=days), start, tzinfo=zone)
        starts.append(local.astimezone(UTC))
    return starts


def next_send_time(
    moment: dt.datetime, zones: tuple[ZoneInfo, ...], start: dt.time, end: dt.time
) -> dt.datetime:
    """`moment` when it is inside the window in every zone, else the next time that is."""
    candidates = sorted({moment, *(s for z in zones for s in _window_starts(moment, z, start))})
    for candidate in candidates:
        if candidate >= moment and all(inside(candidate, z, start, end) for z in zones):
            return candidate
    # Zones too far apart to share a window: the first zone's window.
    for candidate in candidates:
        if candidate >= moment and inside(candidate, zones[0], start, end):
            return candidate
    return moment  # unreachable for a non-empty window
