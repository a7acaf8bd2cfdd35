"""Meeting rules. Services change models and flush; the caller commits."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil import rrule
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..attendance.services import close_open_attendance
from ..audit import AuditAction, record, record_by
from ..errors import DomainError
from ..extensions import db
from ..models import (
    Group,
    Meeting,
    MeetingSeries,
    MeetingState,
    Membership,
    MembershipRole,
    MembershipStatus,
    PeerExpertProfile,
    User,
    utcnow,
)
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


def create_meeting(
    group: Group,
    local_start: datetime,
    duration_minutes: int,
    tz_name: str,
    title: str = "",
    *,
    allow_past: bool = False,
    actor: User | None = None,
) -> Meeting:
    starts_at = local_to_utc(local_start, tz_name)
    require_real_wall_clock([local_start], tz_name)
    if not allow_past and starts_at < utcnow() - timedelta(minutes=1):
        raise DomainError("starts_in_past", _l("The start lies in the past."), field="starts_at")
    if not 15 <= duration_minutes <= 480:
        raise DomainError(
            "duration_out_of_range", _l("A meeting lasts between 15 minutes and 8 hours."), field="duration_minutes"
        )
    meeting = Meeting(
        group=group, starts_at=starts_at, duration_minutes=duration_minutes, timezone=tz_name, title=title.strip()
    )
    db.session.add(meeting)
    db.session.flush()
    record_by(actor, AuditAction.CREATE_MEETING, "meeting", meeting.id, group_id=group.id, meeting_id=meeting.id)
    return meeting


def open_meeting(meeting: Meeting, actor: User) -> None:
    if meeting.state == MeetingState.OPEN:
        return
    if meeting.state != MeetingState.SCHEDULED:
        raise DomainError("meeting_not_scheduled", _l("Only a scheduled meeting can be opened."))
    meeting.state = MeetingState.OPEN
    meeting.opened_at = utcnow()
    record(actor, AuditAction.OPEN_MEETING, "meeting", meeting.id, group_id=meeting.group_id, meeting_id=meeting.id)
    db.session.flush()


def close_meeting(meeting: Meeting, actor: User) -> None:
    if meeting.state == MeetingState.CLOSED:
        return
    if meeting.state != MeetingState.OPEN:
        raise DomainError("meeting_not_open", _l("Only an open meeting can be closed."))
    meeting.state = MeetingState.CLOSED
    meeting.closed_at = utcnow()
    close_open_attendance(meeting)  # every stay still open ends at the close
    record(actor, AuditAction.CLOSE_MEETING, "meeting", meeting.id, group_id=meeting.group_id, meeting_id=meeting.id)
    db.session.flush()


def upcoming_meetings_for(memberships: list[Membership], limit: int = 20) -> list[Meeting]:
    """Meetings of these memberships' groups that are open or still to come."""
    group_ids = [m.group_id for m in memberships]
    if not group_ids:
        return []
    horizon = utcnow() - timedelta(hours=12)
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.group_id.in_(group_ids),
                Meeting.state.in_([MeetingState.SCHEDULED, MeetingState.OPEN]),
                (Meeting.starts_at >= horizon) | (Meeting.state == MeetingState.OPEN),
            )
            .order_by(Meeting.starts_at)
            .limit(limit)
        )
    )


def meetings_of_group(group: Group) -> list[Meeting]:
    return list(db.session.scalars(select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.starts_at)))


# --- Recurring series ---------------------------------------------------------------------------
#
# Occurrences are materialised as `Meeting` rows when a series is planned, so every other part of the
# app (chat, attendance, calendars) deals with plain meetings. How far ahead:
# - with `until`: every occurrence up to that date, which may lie at most MAX_SERIES_DAYS after the start;
# - with `count`: that many occurrences (at most MAX_COUNT); `until` is then stored as the last one's date;
# - with neither: HORIZON_WEEKS of occurrences; the series keeps `until = None` (open-ended) so a later
#   job can extend it. The bound keeps one form post from writing thousands of rows.

WEEKLY = "weekly"
MONTHLY = "monthly"
FREQUENCIES = (WEEKLY, MONTHLY)
WEEKS_OF_MONTH = (1, 2, 3, 4, -1)  # -1 = the last such weekday of the month
MAX_INTERVAL = 12
MAX_COUNT = 52
MAX_SERIES_DAYS = 366
HORIZON_WEEKS = 26
MIN_DURATION, MAX_DURATION = 15, 480

SCOPE_THIS = "this"
SCOPE_FOLLOWING = "following"
SCOPES = (SCOPE_THIS, SCOPE_FOLLOWING)


def _check_duration(duration_minutes: int) -> None:
    if not MIN_DURATION <= duration_minutes <= MAX_DURATION:
        raise DomainError(
            "duration_out_of_range", _l("A meeting lasts between 15 minutes and 8 hours."), field="duration_minutes"
        )


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


def _rule_kwargs(frequency: str, weekday: int, week_of_month: int | None) -> dict:
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
) -> list[datetime]:
    """The series' occurrences as naive local wall-clock times, computed by dateutil's rrule.

    The rule starts at the first matching day on or after `starts_on`, so "every 2 weeks" counts from
    the first meeting rather than from the week `starts_on` falls in.
    """
    rule = _rule_kwargs(frequency, weekday, week_of_month)
    begin = datetime.combine(starts_on, local_start)
    first = rrule.rrule(dtstart=begin, count=1, **rule)[0]
    if count is None:
        last_day = until if until is not None else starts_on + timedelta(weeks=HORIZON_WEEKS)
        return list(rrule.rrule(dtstart=first, interval=interval, until=datetime.combine(last_day, time.max), **rule))
    return list(rrule.rrule(dtstart=first, interval=interval, count=count, **rule))


def create_series(
    group: Group,
    *,
    title: str,
    frequency: str,
    interval: int,
    weekday: int,
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
    exists twice (on the day the clocks go back), is refused with those dates (`wallclock`).
    """
    tz = zone(tz_name)
    _check_rule(frequency, interval, weekday, week_of_month)
    _check_duration(duration_minutes)
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
    )
    db.session.add(series)
    db.session.add_all(
        Meeting(
            group=group,
            series=series,
            title=series.title,
            starts_at=start,
            duration_minutes=duration_minutes,
            timezone=tz_name,
        )
        for start in starts
    )
    db.session.flush()
    record_by(actor, AuditAction.CREATE_SERIES, "series", series.id, group_id=group.id)
    return series


# --- Editing and cancelling occurrences --------------------------------------------------------


def local_start_of(meeting: Meeting) -> datetime:
    """The meeting's start on the wall clock of the zone it was planned in (naive)."""
    return meeting.starts_at.astimezone(zone(meeting.timezone)).replace(tzinfo=None)


def _require_scheduled(meeting: Meeting) -> None:
    if meeting.state != MeetingState.SCHEDULED:
        raise DomainError(
            "meeting_not_scheduled", _l("Only a planned meeting that has not been opened can be changed.")
        )


def _affected(meeting: Meeting, scope: str) -> list[Meeting]:
    """This meeting, plus (scope "following") its series' later occurrences still to come and not opened.

    Open, closed, cancelled and past occurrences are never part of a "rest of the series" change.
    """
    if scope not in SCOPES:
        raise DomainError("unknown_scope", _l("Choose this meeting or this and the following meetings."), field="scope")
    _require_scheduled(meeting)
    if scope == SCOPE_THIS or meeting.series_id is None:
        return [meeting]
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
    _check_duration(duration_minutes)
    meetings = _affected(meeting, scope)
    if len(meetings) > 1 and local_start.date() != local_start_of(meeting).date():
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
    if scope == SCOPE_FOLLOWING and len(meetings) > 1:
        series = _split_series(meeting, meetings)
        if series is not None:
            series.title, series.local_start = title.strip(), local_start.time()
            series.duration_minutes, series.timezone = duration_minutes, tz_name
    for m, start in zip(meetings, new_starts, strict=True):
        m.title, m.starts_at, m.duration_minutes, m.timezone = title.strip(), start, duration_minutes, tz_name
    action = AuditAction.EDIT_MEETING if len(meetings) == 1 else AuditAction.EDIT_SERIES_REST
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
        if day_before >= series.starts_on and (series.until is None or day_before < series.until):
            series.until = day_before
    action = AuditAction.CANCEL_MEETING if len(meetings) == 1 else AuditAction.CANCEL_SERIES_REST
    record(actor, action, "meeting", meeting.id, group_id=meeting.group_id, meeting_id=meeting.id, reason=reason)
    db.session.flush()
    return meetings


# --- Lists and calendars -----------------------------------------------------------------------

LIST_PAST = timedelta(hours=12)
LIST_LIMIT = 200


def _active_group_ids(user: User, role: MembershipRole | None = None) -> Select:
    query = (
        select(Membership.group_id)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE, Group.archived_at.is_(None))
    )
    if role is not None:
        query = query.where(Membership.role == role)
    return query


def _meetings_in(
    group_ids: Select, start: datetime, end: datetime | None = None, limit: int = LIST_LIMIT
) -> list[Meeting]:
    """Meetings of these groups from `start` on (open ones always), with their group loaded in one go."""
    query = (
        select(Meeting)
        .options(joinedload(Meeting.group))
        .where(Meeting.group_id.in_(group_ids), (Meeting.starts_at >= start) | (Meeting.state == MeetingState.OPEN))
    )
    if end is not None:
        query = query.where(Meeting.starts_at < end)
    return list(db.session.scalars(query.order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def member_meetings(user: User, limit: int = LIST_LIMIT) -> list[Meeting]:
    """ "My meetings": upcoming meetings (cancelled ones too, with their reason) of the user's groups."""
    return _meetings_in(_active_group_ids(user), utcnow() - LIST_PAST, limit=limit)


def rota_meetings(user: User, limit: int = LIST_LIMIT) -> list[Meeting]:
    """A peer expert's rota: upcoming meetings of the groups they moderate."""
    return _meetings_in(_active_group_ids(user, MembershipRole.MODERATOR), utcnow() - LIST_PAST, limit=limit)


def all_meetings_between(start: datetime, end: datetime) -> list[Meeting]:
    """Every group's meetings in [start, end): one query, groups joined in (no per-row loads)."""
    return list(
        db.session.scalars(
            select(Meeting)
            .options(joinedload(Meeting.group))
            .where(Meeting.starts_at >= start, Meeting.starts_at < end)
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


def moderator_names(group_ids: list[int]) -> dict[int, list[str]]:
    """First names of the active peer experts per group, in one query."""
    if not group_ids:
        return {}
    rows = db.session.execute(
        select(Membership.group_id, PeerExpertProfile.first_name)
        .join(PeerExpertProfile, PeerExpertProfile.user_id == Membership.user_id)
        .where(
            Membership.group_id.in_(group_ids),
            Membership.role == MembershipRole.MODERATOR,
            Membership.status == MembershipStatus.ACTIVE,
        )
        .order_by(PeerExpertProfile.first_name)
    )
    names: dict[int, list[str]] = {}
    for group_id, first_name in rows:
        names.setdefault(group_id, []).append(first_name)
    return names


def plannable_groups() -> list[Group]:
    return list(db.session.scalars(select(Group).where(Group.archived_at.is_(None)).order_by(Group.name)))


FEED_PAST = timedelta(days=30)


def feed_meetings(user: User) -> list[Meeting]:
    """What a personal feed holds: the user's groups' meetings from a month ago on."""
    return _meetings_in(_active_group_ids(user), utcnow() - FEED_PAST, limit=LIST_LIMIT)


# --- The personal calendar feed ----------------------------------------------------------------


def enable_feed(user: User) -> str:
    """Turn the feed on (keeping an existing address)."""
    if user.calendar_token is None:
        user.calendar_token = secrets.token_urlsafe(32)
    db.session.flush()
    return user.calendar_token


def renew_feed(user: User) -> str:
    """Revoke the current address by drawing a new secret: the old URL stops working at once."""
    user.calendar_token = secrets.token_urlsafe(32)
    db.session.flush()
    return user.calendar_token


def disable_feed(user: User) -> None:
    user.calendar_token = None
    db.session.flush()


# What secrets.token_urlsafe(32) draws: 43 characters of the URL-safe base64 alphabet.
FEED_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,64}")


def user_for_feed(token: str) -> User | None:
    """The enabled account whose feed secret is exactly `token` (a unique-index look-up), else None."""
    if not FEED_TOKEN_RE.fullmatch(token):
        return None
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    if user is None or not user.is_enabled or not secrets.compare_digest(user.calendar_token, token):
        return None
    return user
