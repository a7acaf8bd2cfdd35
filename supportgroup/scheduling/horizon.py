"""The rolling horizon of open-ended series: there are always HORIZON_WEEKS of meetings ahead.

A series planned without an end materialises HORIZON_WEEKS of occurrences (`series.py`) and remembers the
last local date it planned (`MeetingSeries.materialised_until`). `extend_open_series` plans the occurrences
from there up to HORIZON_WEEKS after today (in the series' zone) as plain meetings. It runs hourly in every
serving process (`start_horizon_job`) and from `flask extend-series` (cron).

Idempotent, in one process or several at once, and serialised with edits and cancels of the series: each
series is claimed by a compare-and-set (an UPDATE whose WHERE names `materialised_until` as read, `until IS
NULL` and every rule column the new meetings are made from). Only the transaction whose UPDATE changed the
row adds that stretch of meetings; one that finds the row changed since it read it (another job moved the
horizon, a cancel ended the series, an edit moved its time or split it) changes nothing and adds nothing
this round. PostgreSQL re-checks the WHERE after the row lock; SQLite has one writer at a time. The claimed
row is then read again under its lock and the meetings are made from that. `changes.py` locks the same row
(`lock_series`) before it selects a series' later meetings, so a job that claimed first is waited for and
its meetings are part of the change. Like every service it flushes and never commits.

A date on which the series' start time does not exist or exists twice (daylight saving) is skipped and
logged: series planning refuses such a time (`wallclock`), but here nobody is asking, and the other weeks
must still come.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from flask import Flask
from sqlalchemy import CursorResult, Table, select, update
from sqlalchemy.sql import ColumnElement

from .. import periodic
from ..extensions import db
from ..models import Group, Meeting, MeetingSeries, utcnow
from . import wallclock
from .changes import lock_series
from .series import HORIZON_WEEKS, meetings_at, occurrence_times
from .zones import zone

log = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 60


def horizon_day(series: MeetingSeries, now: datetime) -> date:
    """The last local date a series should have meetings on: HORIZON_WEEKS after today in its zone."""
    return now.astimezone(zone(series.timezone)).date() + timedelta(weeks=HORIZON_WEEKS)


# What the job makes new meetings from: the claim fails if any of it changed since the series was read.
_RULE = (
    "title",
    "frequency",
    "interval",
    "weekday",
    "week_of_month",
    "local_start",
    "duration_minutes",
    "timezone",
    "starts_on",
)


def _claim(series: MeetingSeries, seen: date | None, target: date) -> bool:
    """Move the series' horizon from `seen` to `target`, unless another transaction moved it first, ended
    the series or changed its rule since `series` was read (see the module notes)."""
    table = cast(Table, MeetingSeries.__table__)
    current = table.c.materialised_until
    unchanged: list[ColumnElement[bool]] = [
        table.c[name].is_(None) if getattr(series, name) is None else table.c[name] == getattr(series, name)
        for name in _RULE
    ]
    result = db.session.execute(
        update(table)
        .where(
            table.c.id == series.id,
            current.is_(None) if seen is None else current == seen,
            table.c.until.is_(None),
            *unchanged,
        )
        .values(materialised_until=target)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def _on_the_clock(series: MeetingSeries, locals_: list[datetime]) -> list[datetime]:
    """The occurrences whose start time exists once on its date; the others are skipped and logged."""
    tz = zone(series.timezone)
    kept = []
    for local in locals_:
        if (kind := wallclock.problem(local, tz)) is None:
            kept.append(local)
        else:
            day = local.date()
            log.warning("series horizon: series %d: no meeting on %s, its time is %s there", series.id, day, kind)
    return kept


def _last_planned(series: MeetingSeries) -> date:
    """For a series without a stored horizon: the local date of its latest meeting, else the day before it began."""
    latest = db.session.scalar(
        select(Meeting.starts_at).where(Meeting.series_id == series.id).order_by(Meeting.starts_at.desc()).limit(1)
    )
    if latest is None:
        return series.starts_on - timedelta(days=1)
    return latest.astimezone(zone(series.timezone)).date()


def extend_series(series: MeetingSeries, now: datetime) -> int:
    """Plan one open-ended series' occurrences after its horizon, up to `horizon_day`. Returns how many."""
    if series.until is not None:
        return 0
    seen = series.materialised_until
    target = horizon_day(series, now)
    if seen is not None and seen >= target:
        return 0
    last = seen if seen is not None else _last_planned(series)
    if not _claim(series, seen, max(target, last)):
        return 0  # another process extended, ended or changed it meanwhile: the next round reads it anew
    series = lock_series(series.id)  # as committed now, under the lock the claim took
    if last >= target:
        return 0  # a series without a stored horizon that reaches far enough: it has one now
    tz = zone(series.timezone)
    locals_ = occurrence_times(
        series.frequency,
        series.interval,
        series.weekday,
        series.week_of_month,
        series.local_start,
        series.starts_on,
        horizon=target,
    )
    later = _on_the_clock(series, [local for local in locals_ if local.date() > last])
    starts = [local.replace(tzinfo=tz).astimezone(UTC) for local in later]
    new = meetings_at(series, [start for start in starts if start >= now])  # none in the past after a pause
    db.session.add_all(new)
    db.session.expire(series, ["materialised_until"])
    return len(new)


def extend_open_series(now: datetime | None = None) -> int:
    """Extend every open-ended series of a group that is not archived. Returns the number of meetings added."""
    now = now or utcnow()
    open_ended = db.session.scalars(
        select(MeetingSeries)
        .join(Group, Group.id == MeetingSeries.group_id)
        .where(MeetingSeries.until.is_(None), Group.archived_at.is_(None))
        .order_by(MeetingSeries.id)
        .execution_options(populate_existing=True)
    ).all()
    added = sum(extend_series(series, now) for series in open_ended)
    db.session.flush()
    return added


def run_extend_once(app: Flask) -> int | None:
    """One round in its own app context and transaction (the background job's step)."""
    return periodic.run_once(app, "series horizon", extend_open_series, _planned)


def _planned(added: int) -> str | None:
    return f"{added} meetings planned" if added else None


def start_horizon_job(app: Flask):
    """Run `extend_open_series` now and then every HORIZON_INTERVAL_MINUTES (default 60) in every serving process
    (see the module notes); HORIZON_INTERVAL_MINUTES=0: cron runs `flask extend-series` instead."""
    minutes = app.config.get("HORIZON_INTERVAL_MINUTES", DEFAULT_INTERVAL_MINUTES)
    return periodic.start_every(app, "horizon_job", minutes, run_extend_once)
