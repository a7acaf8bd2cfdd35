"""Chat rules: storing messages idempotently, reading history, describing people to clients.

Services change models and flush; the socket event (the edge) commits, then emits, then acknowledges.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import Meeting, MeetingState, Membership, Message, User
from ..permissions import Denied


def find_sent(meeting: Meeting, author: Membership, client_id: str) -> Message | None:
    """The message this author already sent with this client id, if any (an idempotent retry)."""
    return db.session.scalar(
        select(Message).where(Message.meeting_id == meeting.id, Message.author_membership_id == author.id,
                              Message.client_id == client_id)
    )


def post_message(meeting: Meeting, author: Membership, client_id: str, text: str) -> Message:
    """Store a new message. The caller has checked with `find_sent` that it is not a retry.

    The server id comes from the meeting's counter, incremented under its row lock in the same
    transaction, so ids grow in commit order and a replay "after id N" never skips a message.
    """
    seq = db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting.id, Meeting.state == MeetingState.OPEN)
        .values(last_message_seq=Meeting.last_message_seq + 1)
        .returning(Meeting.last_message_seq)
    ).scalar()
    if seq is None:
        raise Denied("meeting_not_open", _l("This meeting is not open."), status=409)
    message = Message(meeting_id=meeting.id, seq=seq, author_membership_id=author.id, client_id=client_id, text=text)
    message.author = author
    db.session.add(message)
    db.session.flush()
    return message


def messages_for(meeting: Meeting, after: int | None, limit: int) -> list[Message]:
    """Visible messages in order: the most recent `limit`, or every one after server id `after`."""
    query = (select(Message).where(Message.meeting_id == meeting.id, Message.deleted_at.is_(None))
             .options(selectinload(Message.author).selectinload(Membership.user).selectinload(User.profile)))
    if after is not None:
        return list(db.session.scalars(query.where(Message.seq > after).order_by(Message.seq).limit(limit)))
    rows = list(db.session.scalars(query.order_by(Message.seq.desc()).limit(limit)))
    rows.reverse()
    return rows


def person(membership: Membership) -> dict:
    """How a member appears to others: an alias for participants, a first name for peer experts.

    Never an account id or a username.
    """
    if membership.is_moderator:
        profile = membership.user.profile
        return {"id": membership.public_id, "name": profile.first_name if profile else "", "role": "peer_expert"}
    return {"id": membership.public_id, "name": membership.alias, "role": "participant"}


def message_payload(message: Message) -> dict:
    return {
        "id": message.seq,
        "meeting_id": message.meeting_id,
        "client_id": message.client_id,
        "author": person(message.author),
        "text": message.text,
        "created_at": message.created_at.isoformat(),
    }


def present_people(membership_ids: set[int]) -> list[dict]:
    if not membership_ids:
        return []
    members = db.session.scalars(
        select(Membership).where(Membership.id.in_(membership_ids))
        .options(selectinload(Membership.user).selectinload(User.profile))
    )
    people = [person(m) for m in members]
    # Peer experts first, then aliases alphabetically: a stable order that reveals nothing.
    people.sort(key=lambda p: (p["role"] != "peer_expert", (p["name"] or "").lower()))
    return people


def meeting_payload(meeting: Meeting) -> dict:
    return {"id": meeting.id, "title": meeting.title, "state": meeting.state.value,
            "starts_at": meeting.starts_at.isoformat(), "group": meeting.group.name}
