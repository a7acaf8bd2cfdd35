"""Live moderation: each control changes state and is audited (`audit.py`); the socket edge commits and emits."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update

from .. import rule_scopes
from ..audit import AuditAction, record
from ..extensions import db
from ..groups.enrolment import end_membership
from ..models import (
    Admission,
    Hand,
    Meeting,
    MeetingRemoval,
    Membership,
    MembershipStatus,
    Message,
    MessageStatus,
    Mute,
    Report,
    utcnow,
)
from ..permissions import Denied

# --- live moderation: each action changes state and is audited; the socket edge commits and emits ----


def _audit(
    actor: Membership, action: AuditAction, target_type: str, target_id: int | str, meeting: Meeting, reason: str = ""
) -> None:
    record(actor.user, action, target_type, target_id, group_id=meeting.group_id, meeting_id=meeting.id, reason=reason)


def _participant(target: Membership) -> Membership:
    if target.is_moderator:
        raise Denied("not_allowed", _l("This cannot be done to a peer expert."))
    return target


def mute(meeting: Meeting, target: Membership, minutes: int | None, reason: str, actor: Membership) -> Mute:
    _participant(target)
    unmute(meeting, target, actor, audit=False)
    until = utcnow() + timedelta(minutes=minutes) if minutes else None
    mute_row = Mute(meeting_id=meeting.id, membership_id=target.id, until=until, reason=reason)
    db.session.add(mute_row)
    _audit(actor, AuditAction.MUTE, "membership", target.id, meeting, reason)
    db.session.flush()
    return mute_row


def unmute(meeting: Meeting, target: Membership, actor: Membership, audit: bool = True) -> None:
    db.session.execute(
        update(Mute)
        .where(Mute.meeting_id == meeting.id, Mute.membership_id == target.id, Mute.lifted_at.is_(None))
        .values(lifted_at=utcnow()),
        execution_options=rule_scopes.touching(meetings=[meeting.id]),
    )  # not every meeting's
    if audit:
        _audit(actor, AuditAction.UNMUTE, "membership", target.id, meeting)


def remove_from_meeting(meeting: Meeting, target: Membership, reason: str, actor: Membership) -> None:
    _participant(target)
    exists = db.session.scalar(
        select(MeetingRemoval.id).where(
            MeetingRemoval.meeting_id == meeting.id, MeetingRemoval.membership_id == target.id
        )
    )
    if exists is None:
        db.session.add(MeetingRemoval(meeting_id=meeting.id, membership_id=target.id))
    _audit(actor, AuditAction.REMOVE_FROM_MEETING, "membership", target.id, meeting, reason)
    db.session.flush()


def ban(meeting: Meeting, target: Membership, reason: str, actor: Membership) -> None:
    """Out of the meeting and the group for good (a membership state, kept for the record)."""
    _participant(target)
    remove_from_meeting(meeting, target, reason, actor)
    end_membership(target, actor.user, MembershipStatus.BANNED, reason)


def delete_message(meeting: Meeting, message: Message, actor: Membership) -> None:
    """Gone for everyone, and its text gone from the database at once (`safety/scrub.py`)."""
    from ..safety.scrub import erase_text

    message.deleted_at = utcnow()
    erase_text(message)
    if meeting.pinned_seq == message.seq:
        meeting.pinned_seq = None
    _audit(actor, AuditAction.DELETE_MESSAGE, "message", message.seq, meeting)
    db.session.flush()


def approve(meeting: Meeting, message: Message, actor: Membership) -> int:
    """Make a held message visible. It gets a new server id now: clients that reconnect after "the last id
    they saw" must receive it, and it was not visible when the ids before it were handed out.
    Returns the id it had while held."""
    if message.status != MessageStatus.PENDING:
        raise Denied("not_pending", _l("This message is no longer waiting."), status=409)
    from ..realtime.messages import next_seq

    held_seq = message.seq
    message.status = MessageStatus.VISIBLE
    message.seq = next_seq(meeting.id)
    _audit(actor, AuditAction.APPROVE_MESSAGE, "message", held_seq, meeting)
    db.session.flush()
    return held_seq


def reject(meeting: Meeting, message: Message, reason: str, actor: Membership) -> None:
    if message.status != MessageStatus.PENDING:
        raise Denied("not_pending", _l("This message is no longer waiting."), status=409)
    from ..safety.scrub import erase_text

    message.status = MessageStatus.REJECTED
    erase_text(message)  # nobody sees a rejected message again: its text goes now, not at the purge
    _audit(actor, AuditAction.REJECT_MESSAGE, "message", message.seq, meeting, reason)
    db.session.flush()


def set_setting(meeting: Meeting, actor: Membership, **changes) -> None:
    """Slow mode, pre-moderation, lock, floor-only, pin: one audited change of the meeting's live state."""
    for name, value in changes.items():
        setattr(meeting, name, value)
        _audit(actor, AuditAction(f"set_{name}"), "meeting", meeting.id, meeting, reason=str(value))
    db.session.flush()


def give_floor(meeting: Meeting, target: Membership | None, actor: Membership) -> None:
    meeting.floor_membership_id = target.id if target else None
    if target is not None:
        db.session.execute(delete(Hand).where(Hand.meeting_id == meeting.id, Hand.membership_id == target.id))
    _audit(actor, AuditAction.GIVE_FLOOR, "membership", target.id if target else "-", meeting)
    db.session.flush()


def admit(meeting: Meeting, targets: list[Membership], actor: Membership) -> list[Membership]:
    admitted = set(db.session.scalars(select(Admission.membership_id).where(Admission.meeting_id == meeting.id)))
    new = [t for t in targets if t.id not in admitted and not t.is_moderator]
    for target in new:
        db.session.add(Admission(meeting_id=meeting.id, membership_id=target.id))
        _audit(actor, AuditAction.ADMIT, "membership", target.id, meeting)
    db.session.flush()
    return new


def resolve_report(meeting: Meeting, report_id: int, actor: Membership) -> Report:
    report = db.session.scalar(select(Report).where(Report.id == report_id, Report.meeting_id == meeting.id))
    if report is None:
        raise Denied("report_not_found", _l("This report does not exist."), status=404)
    report.resolved_at = utcnow()
    _audit(actor, AuditAction.RESOLVE_REPORT, "report", report.id, meeting)
    db.session.flush()
    return report
