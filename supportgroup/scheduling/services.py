"""Meeting rules. Services change models and flush; the caller commits."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Group, Meeting, MeetingState, Membership, User, utcnow
from ..moderation.services import record_action


class MeetingError(Exception):
    def __init__(self, field: str, message):
        super().__init__(field)
        self.field = field
        self.message = message


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise MeetingError("timezone", _l("Unknown timezone.")) from None


def local_to_utc(local: datetime, tz_name: str) -> datetime:
    """A wall-clock time in `tz_name` as an aware UTC datetime."""
    return local.replace(tzinfo=zone(tz_name)).astimezone(ZoneInfo("UTC"))


def create_meeting(group: Group, local_start: datetime, duration_minutes: int, tz_name: str,
                   title: str = "", *, allow_past: bool = False) -> Meeting:
    starts_at = local_to_utc(local_start, tz_name)
    if not allow_past and starts_at < utcnow() - timedelta(minutes=1):
        raise MeetingError("starts_at", _l("The start lies in the past."))
    if not 15 <= duration_minutes <= 480:
        raise MeetingError("duration_minutes", _l("A meeting lasts between 15 minutes and 8 hours."))
    meeting = Meeting(group=group, starts_at=starts_at, duration_minutes=duration_minutes, timezone=tz_name,
                      title=title.strip())
    db.session.add(meeting)
    db.session.flush()
    return meeting


def open_meeting(meeting: Meeting, actor: User) -> None:
    if meeting.state == MeetingState.OPEN:
        return
    if meeting.state != MeetingState.SCHEDULED:
        raise MeetingError("state", _l("Only a scheduled meeting can be opened."))
    meeting.state = MeetingState.OPEN
    meeting.opened_at = utcnow()
    record_action(actor, "open_meeting", "meeting", meeting.id, group_id=meeting.group_id, meeting_id=meeting.id)
    db.session.flush()


def close_meeting(meeting: Meeting, actor: User) -> None:
    if meeting.state == MeetingState.CLOSED:
        return
    if meeting.state != MeetingState.OPEN:
        raise MeetingError("state", _l("Only an open meeting can be closed."))
    meeting.state = MeetingState.CLOSED
    meeting.closed_at = utcnow()
    record_action(actor, "close_meeting", "meeting", meeting.id, group_id=meeting.group_id, meeting_id=meeting.id)
    db.session.flush()


def upcoming_meetings_for(memberships: list[Membership], limit: int = 20) -> list[Meeting]:
    """Meetings of these memberships' groups that are open or still to come."""
    group_ids = [m.group_id for m in memberships]
    if not group_ids:
        return []
    horizon = utcnow() - timedelta(hours=12)
    return list(db.session.scalars(
        select(Meeting).where(
            Meeting.group_id.in_(group_ids),
            Meeting.state.in_([MeetingState.SCHEDULED, MeetingState.OPEN]),
            (Meeting.starts_at >= horizon) | (Meeting.state == MeetingState.OPEN),
        ).order_by(Meeting.starts_at).limit(limit)
    ))


def meetings_of_group(group: Group) -> list[Meeting]:
    return list(db.session.scalars(select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.starts_at)))
