"""The live meeting: who was removed from it, who may come back into a locked one, who waits, who is muted.

Read from the database on every call; `posting.py` gathers them into the facts a socket may keep.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Admission, Attendance, Meeting, MeetingRemoval, Membership, Mute, utcnow
from .core import Denied


def _any_row(model: type[Any], *criteria: Any) -> bool:
    """Whether `model` has a row matching every one of `criteria` (one COUNT query)."""
    return bool(db.session.scalar(select(func.count()).select_from(model).where(*criteria)))


def is_removed_from(meeting: Meeting, membership: Membership) -> bool:
    return _any_row(
        MeetingRemoval, MeetingRemoval.meeting_id == meeting.id, MeetingRemoval.membership_id == membership.id
    )


def removed_refusal() -> Denied:
    return Denied("removed", _l("A peer expert has removed you from this meeting."))


def require_not_removed(meeting: Meeting, membership: Membership) -> None:
    if is_removed_from(meeting, membership):
        raise removed_refusal()


def require_unlocked_for(meeting: Meeting, membership: Membership) -> None:
    """A locked meeting takes no new joiners; people who were already in may come back after a drop."""
    if not meeting.locked or membership.is_moderator:
        return
    was_in = _any_row(Attendance, Attendance.meeting_id == meeting.id, Attendance.membership_id == membership.id)
    if not was_in:
        raise Denied("meeting_locked", _l("This meeting is closed to new participants."))


def is_waiting(meeting: Meeting, membership: Membership) -> bool:
    """Waiting room: a participant waits until a moderator lets them in."""
    if not meeting.group.waiting_room or membership.is_moderator:
        return False
    return not _any_row(Admission, Admission.meeting_id == meeting.id, Admission.membership_id == membership.id)


def active_mute(meeting: Meeting, membership: Membership) -> Mute | None:
    now = utcnow()
    return db.session.scalar(
        select(Mute)
        .where(
            Mute.meeting_id == meeting.id,
            Mute.membership_id == membership.id,
            Mute.lifted_at.is_(None),
            (Mute.until.is_(None)) | (Mute.until > now),
        )
        .order_by(Mute.id.desc())
        .limit(1)
    )
