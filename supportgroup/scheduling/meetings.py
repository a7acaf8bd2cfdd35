"""One meeting: planned, opened, closed. Services change models and flush; the caller commits."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l

from ..attendance.services import close_open_attendance
from ..audit import AuditAction, record, record_by
from ..errors import DomainError
from ..extensions import db
from ..models import Group, Meeting, MeetingState, User, utcnow
from .zones import local_to_utc, require_real_wall_clock

MIN_DURATION, MAX_DURATION = 15, 480
EARLY_OPEN = "early_open_unconfirmed"  # the refusal that asks the peer expert to confirm an early opening
DEFAULT_LOBBY_MINUTES = 15


def check_duration(duration_minutes: int) -> None:
    if not MIN_DURATION <= duration_minutes <= MAX_DURATION:
        raise DomainError(
            "duration_out_of_range", _l("A meeting lasts between 15 minutes and 8 hours."), field="duration_minutes"
        )


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
    check_duration(duration_minutes)
    meeting = Meeting(
        group=group, starts_at=starts_at, duration_minutes=duration_minutes, timezone=tz_name, title=title.strip()
    )
    db.session.add(meeting)
    db.session.flush()
    record_by(actor, AuditAction.CREATE_MEETING, "meeting", meeting.id, group_id=group.id, meeting_id=meeting.id)
    return meeting


def lobby_opens_at(meeting: Meeting) -> datetime:
    """When participants may start to come in: LOBBY_MINUTES before the start."""
    minutes = int(current_app.config.get("LOBBY_MINUTES", DEFAULT_LOBBY_MINUTES))
    return meeting.starts_at - timedelta(minutes=minutes)


def opens_early(meeting: Meeting, now: datetime | None = None) -> bool:
    """Opening now would open the meeting before its lobby time (a meeting planned for later, maybe days)."""
    return meeting.state == MeetingState.SCHEDULED and (now or utcnow()) < lobby_opens_at(meeting)


def open_meeting(meeting: Meeting, actor: User, *, confirmed_early: bool = False) -> None:
    """Open a scheduled meeting. Before its lobby time only when the peer expert confirmed that (`EARLY_OPEN`)."""
    if meeting.state == MeetingState.OPEN:
        return
    if meeting.state != MeetingState.SCHEDULED:
        raise DomainError("meeting_not_scheduled", _l("Only a scheduled meeting can be opened."))
    if not confirmed_early and opens_early(meeting):
        raise DomainError(EARLY_OPEN, _l("This meeting starts later. Confirm that you want to open it now."))
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
