"""Recurring series: a rule (weekly or monthly), checked and expanded into plain meetings.

Occurrences are materialised as `Meeting` rows when a series is planned, so every other part of the
app (chat, attendance, calendars) deals with plain meetings. How far ahead:
- with `until`: every occurrence up to that date, which may lie at most MAX_SERIES_DAYS after the start;
- with `count`: that many occurrences (at most MAX_COUNT); `until` is then stored as the last one's date;
- with neither: HORIZON_WEEKS of occurrences; the series keeps `until = None` (open-ended) and
  `materialised_until` (the last local date planned), and the horizon job (`horizon.py`) keeps adding
  occurrences so that there are always HORIZON_WEEKS ahead. The bound keeps one form post from writing
  thousands of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from dateutil import rrule
from flask_babel import lazy_gettext as _l

from ..audit import AuditAction, record_by
from ..errors import DomainError
from ..extensions import db
from ..models import Group, Meeting, MeetingSeries, User, utcnow
from .meetings import check_duration
from .zones import require_real_wall_clock, zone

WEEKLY = "weekly"
MONTHLY = "monthly"
FREQUENCIES = (WEEKLY, MONTHLY)
WEEKS_OF_MONTH = (1, 2, 3, 4, -1)  # -1 = the last such weekday of the month
MAX_INTERVAL = 12
MAX_COUNT = 52
MAX_SERIES_DAYS = 366
HORIZON_WEEKS = 26


def _check_rule(frequency: str, interval: int, weekday: int, week_of_month: int | None) -> None:
    if frequency not in FREQUENCIES:
        raise DomainError("unknown_frequency", _l("Choose weekly or monthly."), field="frequency")
    if not 1 <= interval <= MAX_INTERVAL:
        raise DomainError(
            "interval_out_of_range",
            _l("Repeat every 1 to %(max)d weeks or months.", max=MAX_INTERVAL),
            field="interval",
        )
    if not 0 <= weekday <= 6:
        raise DomainError("unknown_weekday", _l("Choose a day of the week."), field="weekday")
    if frequency == MONTHLY and week_of_month not in WEEKS_OF_MONTH:
        raise DomainError(
            "unknown_week_of_month", _l("Choose the first, second, third, fourth or last week."), field="week_of_month"
        )


def _check_end(starts_on: date, until: date | None, count: int | None) -> None:
    if until is not None and count is not None:
        raise DomainError("until_and_count", _l("Give an end date or a number of meetings, not both."), field="count")
    if until is not None and until < starts_on:
        raise DomainError("until_before_start", _l("The end date lies before the start."), field="until")
    if until is not None and (until - starts_on).days > MAX_SERIES_DAYS:
        raise DomainError("series_too_long", _l("A series can be planned at most one year ahead."), field="until")
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise DomainError(
            "count_out_of_range", _l("A series has between 1 and %(max)d meetings.", max=MAX_COUNT), field="count"
        )


def _rule_kwargs(frequency: str, weekday: int, week_of_month: int | None) -> dict[str, Any]:
    if frequency == WEEKLY:
        return {"freq": rrule.WEEKLY, "byweekday": rrule.weekdays[weekday]}
    return {"freq": rrule.MONTHLY, "byweekday": rrule.weekdays[weekday](week_of_month)}


def occurrence_times(
    frequency: str,
    interval: int,
    weekday: int,
    week_of_month: int | None,
    local_start: time,
    starts_on: date,
    until: date | None = None,
    count: int | None = None,
    horizon: date | None = None,
) -> list[datetime]:
    """The series' occurrences as naive local wall-clock times, computed by dateutil's rrule.

    Without `until` or `count` they run to `horizon` (by default HORIZON_WEEKS after `starts_on`).

    The rule starts at the first matching day on or after `starts_on`, so "every 2 weeks" counts from
    the first meeting rather than from the week `starts_on` falls in.
    """
    rule = _rule_kwargs(frequency, weekday, week_of_month)
    begin = datetime.combine(starts_on, local_start)
    first = rrule.rrule(dtstart=begin, count=1, **rule)[0]
    if count is None:
        default_end = horizon if horizon is not None else starts_on + timedelta(weeks=HORIZON_WEEKS)
        last_day = until if until is not None else default_end
        return list(rrule.rrule(dtstart=first, interval=interval, until=datetime.combine(last_day, time.max), **rule))
    return list(rrule.rrule(dtstart=first, interval=interval, count=count, **rule))


def meetings_at(series: MeetingSeries, starts: Iterable[datetime]) -> list[Meeting]:
    """The series' meetings at these start times (UTC), with its title, duration and zone: at its creation and
    when the horizon job plans further (`horizon.py`)."""
    return [
        Meeting(
            group_id=series.group_id,
            series_id=series.id,
            title=series.title,
            starts_at=start,
            duration_minutes=series.duration_minutes,
            timezone=series.timezone,
        )
        for start in starts
    ]


def create_series(
    group: Group,
    *,
    title: str,
    frequency: str,
    interval: int,
    weekday: int | None,
    week_of_month: int | None,
    local_start: time,
    duration_minutes: int,
    tz_name: str,
    starts_on: date,
    until: date | None = None,
    count: int | None = None,
    actor: User | None = None,
) -> MeetingSeries:
    """Plan a recurring meeting and materialise its occurrences (see the horizon notes above).

    A start time that does not exist on one of its dates (02:30 on a spring-forward day in Amsterdam), or
    exists twice (on the day the clocks go back), is refused with those dates (`wallclock`). Without a
    `weekday` the series is on the weekday of `starts_on`.
    """
    tz = zone(tz_name)
    if weekday is None:
        weekday = starts_on.weekday()
    _check_rule(frequency, interval, weekday, week_of_month)
    check_duration(duration_minutes)
    _check_end(starts_on, until, count)
    locals_ = occurrence_times(frequency, interval, weekday, week_of_month, local_start, starts_on, until, count)
    if not locals_:
        raise DomainError("series_empty", _l("No meeting falls between the start and the end date."), field="until")
    if (locals_[-1].date() - starts_on).days > MAX_SERIES_DAYS:
        raise DomainError("series_too_long", _l("A series can be planned at most one year ahead."), field="count")
    require_real_wall_clock(locals_, tz_name)
    starts = [local.replace(tzinfo=tz).astimezone(UTC) for local in locals_]
    if starts_on < utcnow().astimezone(tz).date() or starts[0] < utcnow():
        raise DomainError("starts_in_past", _l("The start lies in the past."), field="starts_on")
    series = MeetingSeries(
        group=group,
        title=title.strip(),
        frequency=frequency,
        interval=interval,
        weekday=weekday,
        week_of_month=week_of_month if frequency == MONTHLY else None,
        local_start=local_start,
        duration_minutes=duration_minutes,
        timezone=tz_name,
        starts_on=starts_on,
        until=until if count is None else locals_[-1].date(),
        materialised_until=starts_on + timedelta(weeks=HORIZON_WEEKS) if until is None and count is None else None,
    )
    db.session.add(series)
    db.session.flush()  # its id, for its meetings
    db.session.add_all(meetings_at(series, starts))
    db.session.flush()
    record_by(actor, AuditAction.CREATE_SERIES, "series", series.id, group_id=group.id)
    return series
