"""Time zones and wall-clock times: which zone names exist, and a planned local time as UTC and back."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..models import Meeting
from . import wallclock


@cache
def known_timezones() -> frozenset[str]:
    """The IANA zone names tzdata knows; anything else (a directory, a data file, a typo) is refused."""
    return frozenset(available_timezones())


def zone(name: str) -> ZoneInfo:
    if name not in known_timezones():
        raise DomainError("unknown_timezone", _l("Unknown timezone."), field="timezone")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise DomainError("unknown_timezone", _l("Unknown timezone."), field="timezone") from None


def local_to_utc(local: datetime, tz_name: str) -> datetime:
    """A wall-clock time in `tz_name` as an aware UTC datetime."""
    return local.replace(tzinfo=zone(tz_name)).astimezone(ZoneInfo("UTC"))


def require_real_wall_clock(locals_: list[datetime], tz_name: str) -> None:
    """Refuse a start time that daylight saving skips or repeats on any of these dates (`wallclock`)."""
    if (message := wallclock.refusal(locals_, zone(tz_name), tz_name)) is not None:
        raise DomainError("not_on_the_clock", message, field="local_start")


def local_start_of(meeting: Meeting) -> datetime:
    """The meeting's start on the wall clock of the zone it was planned in (naive)."""
    return meeting.starts_at.astimezone(zone(meeting.timezone)).replace(tzinfo=None)
