"""Changing planned meetings: one occurrence, or it and the rest of its series (edit or cancel).

Services change models and flush; the caller commits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, select, update

from ..audit import AuditAction, record
from ..errors import DomainError
from ..extensions import db
from ..models import Meeting, MeetingSeries, MeetingState, User, utcnow
from .meetings import check_duration
from .zones import local_start_of, require_real_wall_clock, zone

SCOPE_THIS = "this"
SCOPE_FOLLOWING = "following"
SCOPES = (SCOPE_THIS, SCOPE_FOLLOWING)


def _require_scheduled(meeting: Meeting) -> None:
    if meeting.state != MeetingState.SCHEDULED:
        raise DomainError(
            "meeting_not_scheduled", _l("Only a planned meeting that has not been opened can be changed.")
        )


def lock_series(series_id: int) -> MeetingSeries:
    """Lock a series' row before its later meetings are read, and return it as committed now.

    The horizon job (`horizon.py`) claims the same row before it adds meetings, so the two are serialised:
    a job that claimed first is waited for and the meetings it added are read; one that comes later finds the
    row changed and adds nothing. PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks: a write that
    changes nothing takes its one write lock now, before the reads that follow.
    """
    if db.session.get_bind().dialect.name == "sqlite":
        table = cast(Table, MeetingSeries.__table__)
        db.session.execute(update(table).where(table.c.id == series_id).values(id=table.c.id))
    return db.session.scalars(
        select(MeetingSeries)
        .where(MeetingSeries.id == series_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _affected(meeting: Meeting, scope: str) -> list[Meeting]:
    """This meeting, plus (scope "following") its series' later occurrences still to come and not opened.

    Open, closed, cancelled and past occurrences are never part of a "rest of the series" change.
    """
    if scope not in SCOPES:
        raise DomainError("unknown_scope", _l("Choose this meeting or this and the following meetings."), field="scope")
    _require_scheduled(meeting)
    if scope == SCOPE_THIS or meeting.series_id is None:
        return [meeting]
    lock_series(meeting.series_id)  # before the later meetings: see lock_series
    later = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.series_id == meeting.series_id,
            Meeting.id != meeting.id,
            Meeting.state == MeetingState.SCHEDULED,
            Meeting.starts_at > meeting.starts_at,
            Meeting.starts_at > utcnow(),
        )
        .order_by(Meeting.starts_at)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return [meeting, *later]


def _split_series(first: Meeting, meetings: list[Meeting]) -> MeetingSeries | None:
    """Give `meetings` (from `first` on) a series of their own, unless `first` begins its series.

    The old series then ends the day before, so each series row keeps describing its own meetings.
    """
    series = first.series
    if series is None:
        return None
    earlier = db.session.scalar(
        select(Meeting.id).where(Meeting.series_id == series.id, Meeting.starts_at < first.starts_at).limit(1)
    )
    if earlier is None:
        return series
    first_day = local_start_of(first).date()
    tail = MeetingSeries(
        group_id=series.group_id,
        title=series.title,
        frequency=series.frequency,
        interval=series.interval,
        weekday=series.weekday,
        week_of_month=series.week_of_month,
        local_start=series.local_start,
        duration_minutes=series.duration_minutes,
        timezone=series.timezone,
        starts_on=first_day,
        until=series.until,
        materialised_until=series.materialised_until,
    )
    db.session.add(tail)
    series.until = first_day - timedelta(days=1)
    for meeting in meetings:
        meeting.series = tail
    return tail


def edit_meeting(
    meeting: Meeting,
    actor: User,
    *,
    title: str,
    local_start: datetime,
    duration_minutes: int,
    tz_name: str,
    scope: str = SCOPE_THIS,
) -> list[Meeting]:
    """Change one occurrence, or it and the rest of its series. Returns the changed meetings.

    For the rest of a series each occurrence keeps its own date and gets the new time of day, zone,
    duration and title; moving the rest of a series to another day is refused (cancel and plan anew).
    """
    tz = zone(tz_name)
    check_duration(duration_minutes)
    meetings = _affected(meeting, scope)
    # The rest of a series: later meetings, or an open-ended series' weeks the horizon job has yet to plan.
    series_rest = scope == SCOPE_FOLLOWING and (
        len(meetings) > 1 or (meeting.series is not None and meeting.series.until is None)
    )
    if series_rest and local_start.date() != local_start_of(meeting).date():
        raise DomainError(
            "series_keeps_dates",
            _l(
                "The rest of a series keeps its dates: change the time, or this meeting alone. To move "
                "a series to another day, cancel the rest and plan a new series."
            ),
            field="starts_on",
        )
    new_locals = [
        datetime.combine(local_start.date() if m is meeting else local_start_of(m).date(), local_start.time())
        for m in meetings
    ]
    require_real_wall_clock(new_locals, tz_name)
    new_starts = [local.replace(tzinfo=tz).astimezone(UTC) for local in new_locals]
    if new_starts[0] < utcnow() - timedelta(minutes=1):
        raise DomainError("starts_in_past", _l("The start lies in the past."), field="starts_on")
    if series_rest:
        series = _split_series(meeting, meetings)
        if series is not None:
            series.title, series.local_start = title.strip(), local_start.time()
            series.duration_minutes, series.timezone = duration_minutes, tz_name
    for m, start in zip(meetings, new_starts, strict=True):
        m.title, m.starts_at, m.duration_minutes, m.timezone = title.strip(), start, duration_minutes, tz_name
    action = AuditAction.EDIT_SERIES_REST if series_rest else AuditAction.EDIT_MEETING
    record(actor, action, "meeting", meeting.id, group_id=meeting.group_id, meeting_id=meeting.id)
    db.session.flush()
    return meetings


def cancel_meeting(meeting: Meeting, actor: User, *, reason: str, scope: str = SCOPE_THIS) -> list[Meeting]:
    """Cancel one occurrence, or it and the rest of its series, with a reason members will see."""
    reason = reason.strip()
    if not reason:
        raise DomainError("reason_required", _l("Tell the members why the meeting is cancelled."), field="reason")
    meetings = _affected(meeting, scope)
    for m in meetings:
        m.state, m.cancel_reason = MeetingState.CANCELLED, reason[:300]
    series = meeting.series
    if scope == SCOPE_FOLLOWING and series is not None:
        day_before = local_start_of(meeting).date() - timedelta(days=1)
        if series.until is None or day_before < series.until:
            # The series ends the day before; cancelled from its first meeting on, it ends before it began.
            # Either way an open-ended series is open-ended no more, so the horizon job adds nothing to it.
            series.until = day_before
    action = AuditAction.CANCEL_MEETING if len(meetings) == 1 else AuditAction.CANCEL_SERIES_REST
    record(actor, action, "meeting", meeting.id, group_id=meeting.group_id, meeting_id=meeting.id, reason=reason)
    db.session.flush()
    return meetings
