"""Chat rules: reading history, hands and reports.

Storing, finding, deleting and reporting messages is shared with moderation (`realtime/messages.py`); how people and
messages look to clients too (`realtime/describe.py`). Services change models and flush; the socket event
(the edge) commits, then pushes, then acknowledges.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, or_, select

from ..extensions import db
from ..models import Hand, Meeting, MeetingState, Membership, Message, MessageKind, MessageStatus, Mute, Report, utcnow
from ..realtime.describe import AUTHOR_AS_PERSON, message_payload, person

PUBLIC_KINDS = (MessageKind.CHAT, MessageKind.ANNOUNCEMENT)


def visible_to(viewer: Membership) -> ColumnElement[bool]:
    """The messages a member may see: public ones, their own whispers, and for moderators everything
    shown to moderators (whispers, backchannel). Never deleted, held or rejected ones."""
    public = Message.kind.in_(PUBLIC_KINDS)
    if viewer.is_moderator:
        allowed = public | Message.kind.in_((MessageKind.WHISPER, MessageKind.BACKCHANNEL))
    else:
        allowed = public | ((Message.kind == MessageKind.WHISPER) & (Message.whisper_membership_id == viewer.id))
    return (Message.deleted_at.is_(None)) & (Message.status == MessageStatus.VISIBLE) & allowed


def messages_for(meeting: Meeting, after: int | None, limit: int, viewer: Membership) -> list[Message]:
    """Messages the viewer may see, in order: the most recent `limit`, or up to `limit` after server id `after`."""
    query = select(Message).where(Message.meeting_id == meeting.id, visible_to(viewer)).options(AUTHOR_AS_PERSON)
    if after is not None:
        return list(db.session.scalars(query.where(Message.seq > after).order_by(Message.seq).limit(limit)))
    rows = list(db.session.scalars(query.order_by(Message.seq.desc()).limit(limit)))
    rows.reverse()
    return rows


def raise_hand(meeting: Meeting, membership: Membership) -> None:
    exists = db.session.scalar(
        select(Hand.id).where(Hand.meeting_id == meeting.id, Hand.membership_id == membership.id)
    )
    if exists is None:
        db.session.add(Hand(meeting_id=meeting.id, membership_id=membership.id))
        db.session.flush()


def lower_hand(meeting: Meeting, membership_id: int) -> None:
    db.session.execute(delete(Hand).where(Hand.meeting_id == meeting.id, Hand.membership_id == membership_id))


def report_payload(report: Report) -> dict:
    message = db.session.get(Message, report.message_id)
    return {
        "id": report.id,
        "message": message_payload(message),
        "reason": report.reason,
        "reporter": person(db.session.get_one(Membership, report.reporter_membership_id)),
        "created_at": report.created_at.isoformat(),
    }


def open_reports(meeting: Meeting) -> list[dict]:
    reports = db.session.scalars(
        select(Report).where(Report.meeting_id == meeting.id, Report.resolved_at.is_(None)).order_by(Report.id)
    )
    return [report_payload(r) for r in reports]


def meeting_payload(meeting: Meeting) -> dict:
    return {
        "id": meeting.id,
        "title": meeting.title,
        "state": meeting.state.value,
        "starts_at": meeting.starts_at.isoformat(),
        "group": meeting.group.name,
    }


def next_meeting(meeting: Meeting) -> Meeting | None:
    """The group's next planned meeting after this one (the closing screen names it), if any."""
    return db.session.scalar(
        select(Meeting)
        .where(
            Meeting.group_id == meeting.group_id,
            Meeting.id != meeting.id,
            Meeting.state == MeetingState.SCHEDULED,
            Meeting.starts_at > max(meeting.starts_at, utcnow()),
        )
        .order_by(Meeting.starts_at, Meeting.id)
        .limit(1)
    )


def muted_members(meeting: Meeting) -> list[dict]:
    """Who cannot write in the meeting now (moderators only): `{"member": public id, "until": ISO or None}`."""
    rows = db.session.execute(
        select(Membership.public_id, Mute.until)
        .join(Mute, Mute.membership_id == Membership.id)
        .where(
            Mute.meeting_id == meeting.id,
            Mute.lifted_at.is_(None),
            or_(Mute.until.is_(None), Mute.until > utcnow()),
        )
        .order_by(Mute.id)
    ).all()
    return [{"member": row.public_id, "until": row.until.isoformat() if row.until else None} for row in rows]
