"""Chat rules: storing messages idempotently, reading history, describing people to clients.

Services change models and flush; the socket event (the edge) commits, then emits, then acknowledges.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import TextClause, bindparam, delete, select
from sqlalchemy import text as sql
from sqlalchemy.orm import joinedload

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (Admission, Hand, Meeting, MeetingState, Membership, MembershipRole, Message, PeerExpertProfile,
                      Report, User, utcnow)
from ..models.types import UTCDateTime
from ..permissions import Denied


def find_sent(meeting: Meeting, author: Membership, client_id: str) -> Message | None:
    """The message this author already sent with this client id, if any (an idempotent retry)."""
    return db.session.scalar(
        select(Message).where(Message.meeting_id == meeting.id, Message.author_membership_id == author.id,
                              Message.client_id == client_id)
    )


def find_sent_by_account(meeting_id: int, user_id: int, client_id: str) -> Message | None:
    """`find_sent` when only the account is known (a refused send may be a retry of a stored message)."""
    return db.session.scalar(
        select(Message).join(Membership, Membership.id == Message.author_membership_id)
        .where(Message.meeting_id == meeting_id, Message.client_id == client_id, Membership.user_id == user_id)
    )


# The hot path's SQL, written out once: building and compiling Core statements per message cost more CPU than
# running them. Column names as in models/message.py and models/meeting.py.
_COUNTER = ("UPDATE meetings SET last_message_seq = last_message_seq + 1 "
            f"WHERE id = :meeting_id AND state = '{MeetingState.OPEN.value}' RETURNING last_message_seq")
_MESSAGE_COLUMNS = "meeting_id, seq, author_membership_id, client_id, text, created_at, kind, status, held_reason"
_MESSAGE_VALUES = ":author_membership_id, :client_id, :text, :created_at, 'chat', :status, :held_reason"


def next_seq(meeting_id: int) -> int:
    """The next server id, taken under the meeting's row lock, so ids grow in commit order.

    The same counter statement as `insert_message`'s, on the session's connection: the counter changes no
    authorization rule (nothing to tell `chat/rights.py`)."""
    seq = db.session.connection().execute(sql(_COUNTER), {"meeting_id": meeting_id}).scalar()
    if seq is None:
        raise Denied("meeting_not_open", _l("This meeting is not open."), status=409)
    return seq


def post_message(meeting: Meeting, author: Membership, client_id: str, text: str, *, kind: str = "chat",
                 status: str = "visible", held_reason: str | None = None,
                 whisper_membership_id: int | None = None) -> Message:
    """Store a new message. The caller has checked with `find_sent` that it is not a retry.

    The server id comes from the meeting's counter, incremented under its row lock in the same
    transaction, so ids grow in commit order and a replay "after id N" never skips a message.
    """
    message = new_message(meeting.id, author.id, client_id, text, kind=kind, status=status, held_reason=held_reason,
                          whisper_membership_id=whisper_membership_id)
    message.author = author
    return message


def new_message(meeting_id: int, author_membership_id: int, client_id: str, text: str, *, kind: str = "chat",
                status: str = "visible", held_reason: str | None = None,
                whisper_membership_id: int | None = None) -> Message:
    """Two statements: the counter UPDATE (which also refuses a meeting that is not open) and the INSERT."""
    message = Message(meeting_id=meeting_id, seq=next_seq(meeting_id), author_membership_id=author_membership_id,
                      client_id=client_id, text=text, kind=kind, status=status, held_reason=held_reason,
                      whisper_membership_id=whisper_membership_id)
    db.session.add(message)
    db.session.flush()
    return message


@dataclass(frozen=True)
class StoredMessage:
    """A chat line just inserted by `insert_message`: what its payload and acknowledgement need."""

    id: int
    seq: int
    meeting_id: int
    author_membership_id: int
    client_id: str
    text: str
    created_at: datetime
    kind: str
    status: str
    held_reason: str | None
    whisper_membership_id: int | None = None


@functools.cache
def _store_statements(dialect: str) -> tuple[TextClause, ...]:
    """PostgreSQL: one statement (the counter UPDATE in a CTE feeding the INSERT). SQLite, whose CTEs cannot
    hold an UPDATE: the counter UPDATE, then the INSERT."""
    created_at = bindparam("created_at", type_=UTCDateTime())
    if dialect == "postgresql":
        return (sql(f"WITH counter AS ({_COUNTER}) INSERT INTO messages ({_MESSAGE_COLUMNS}) "
                     f"SELECT :meeting_id, last_message_seq, {_MESSAGE_VALUES} FROM counter RETURNING id, seq")
                .bindparams(created_at),)
    return (sql(_COUNTER),
            sql(f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (:meeting_id, :seq, {_MESSAGE_VALUES}) "
                 "RETURNING id, seq").bindparams(created_at))


def insert_message(meeting_id: int, author_membership_id: int, client_id: str, text: str, *,
                   status: str = "visible", held_reason: str | None = None) -> StoredMessage:
    """The hot path's store of a chat line: one statement on PostgreSQL, two on SQLite; no ORM object.

    The server id comes from the meeting's counter under its row lock, as in `next_seq`; a meeting that is
    not open stores nothing. A retry with the same client id fails on the unique constraint; the caller
    rolls back and answers with the stored message."""
    connection = db.session.connection()
    params = {"meeting_id": meeting_id, "author_membership_id": author_membership_id, "client_id": client_id,
              "text": text, "created_at": utcnow(), "status": status, "held_reason": held_reason}
    *counter, store = _store_statements(connection.dialect.name)
    if counter:
        params["seq"] = connection.execute(counter[0], params).scalar()
    row = None if params.get("seq", 0) is None else connection.execute(store, params).first()
    if row is None:
        raise Denied("meeting_not_open", _l("This meeting is not open."), status=409)
    return StoredMessage(id=row.id, seq=row.seq, meeting_id=meeting_id, author_membership_id=author_membership_id,
                         client_id=client_id, text=text, created_at=params["created_at"], kind="chat",
                         status=status, held_reason=held_reason)


# What `person` reads, loaded in the same query (all many-to-one: no rows are multiplied): one query where
# a chain of select-in loads took four. Joins and replays are what a reconnect storm costs.
MEMBER_AS_PERSON = joinedload(Membership.user).joinedload(User.profile)
AUTHOR_AS_PERSON = joinedload(Message.author).joinedload(Membership.user).joinedload(User.profile)


def visible_to(viewer: Membership):
    """The messages a member may see: public ones, their own whispers, and for moderators everything
    shown to moderators (whispers, backchannel). Never deleted, held or rejected ones."""
    public = Message.kind.in_(("chat", "announcement"))
    if viewer.is_moderator:
        allowed = public | Message.kind.in_(("whisper", "backchannel"))
    else:
        allowed = public | ((Message.kind == "whisper") & (Message.whisper_membership_id == viewer.id))
    return (Message.deleted_at.is_(None)) & (Message.status == "visible") & allowed


def messages_for(meeting: Meeting, after: int | None, limit: int, viewer: Membership) -> list[Message]:
    """Messages the viewer may see, in order: the most recent `limit`, or up to `limit` after server id `after`."""
    query = (select(Message).where(Message.meeting_id == meeting.id, visible_to(viewer))
             .options(AUTHOR_AS_PERSON))
    if after is not None:
        return list(db.session.scalars(query.where(Message.seq > after).order_by(Message.seq).limit(limit)))
    rows = list(db.session.scalars(query.order_by(Message.seq.desc()).limit(limit)))
    rows.reverse()
    return rows


def person(membership: Membership) -> dict:
    """How a member appears to others: an alias for participants, a first name for peer experts.

    Never an account id or a username.
    """
    profile = membership.user.profile if membership.is_moderator else None
    return _person(membership.public_id, membership.alias, membership.is_moderator,
                   profile.first_name if profile else None)


def _person(public_id: str, alias: str, is_moderator: bool, first_name: str | None) -> dict:
    if is_moderator:
        return {"id": public_id, "name": first_name or "", "role": "peer_expert"}
    return {"id": public_id, "name": alias, "role": "participant"}


def message_payload(message: Message, author: dict | None = None) -> dict:
    """A message as clients see it; `author` is the author's `person` when the caller has it already."""
    payload = {
        "id": message.seq,
        "meeting_id": message.meeting_id,
        "client_id": message.client_id,
        "author": author if author is not None else person(message.author),
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "kind": message.kind,
    }
    if message.kind == "whisper" and message.whisper_membership_id is not None:
        payload["to"] = person(db.session.get(Membership, message.whisper_membership_id))
    return payload


def find_message(meeting: Meeting, seq: int) -> Message:
    message = db.session.scalar(select(Message).where(Message.meeting_id == meeting.id, Message.seq == seq,
                                                      Message.deleted_at.is_(None)))
    if message is None:
        raise Denied("message_not_found", _l("This message does not exist (any more)."), status=404)
    return message


def delete_message(message: Message, by: Membership) -> None:
    """Authors delete their own messages; moderators any. Gone for everyone and from every replay, and its
    text gone from the database at once (`safety/scrub.py`)."""
    if not by.is_moderator and message.author_membership_id != by.id:
        raise Denied("not_allowed", _l("You can only delete your own messages."))
    from ..safety.scrub import erase_text

    message.deleted_at = utcnow()
    erase_text(message)
    db.session.flush()


def find_member(meeting: Meeting, public_id: str) -> Membership:
    membership = db.session.scalar(select(Membership).where(Membership.group_id == meeting.group_id,
                                                            Membership.public_id == public_id))
    if membership is None:
        raise Denied("member_not_found", _l("This person is not in this group."), status=404)
    return membership


def raise_hand(meeting: Meeting, membership: Membership) -> None:
    exists = db.session.scalar(select(Hand.id).where(Hand.meeting_id == meeting.id,
                                                     Hand.membership_id == membership.id))
    if exists is None:
        db.session.add(Hand(meeting_id=meeting.id, membership_id=membership.id))
        db.session.flush()


def lower_hand(meeting: Meeting, membership_id: int) -> None:
    db.session.execute(delete(Hand).where(Hand.meeting_id == meeting.id, Hand.membership_id == membership_id))


def hand_queue(meeting: Meeting) -> list[dict]:
    members = db.session.scalars(
        select(Membership).join(Hand, Hand.membership_id == Membership.id).where(Hand.meeting_id == meeting.id)
        .order_by(Hand.raised_at, Hand.id).options(MEMBER_AS_PERSON))
    return [person(m) for m in members]


def report_message(message: Message, reporter: Membership, reason: str) -> Report:
    if message.kind not in ("chat", "announcement") or message.status != "visible":
        raise Denied("message_not_found", _l("This message does not exist (any more)."), status=404)
    report = Report(meeting_id=message.meeting_id, message_id=message.id, reporter_membership_id=reporter.id,
                    reason=reason)
    db.session.add(report)
    db.session.flush()
    return report


def report_payload(report: Report) -> dict:
    message = db.session.get(Message, report.message_id)
    return {"id": report.id, "message": message_payload(message), "reason": report.reason,
            "reporter": person(db.session.get(Membership, report.reporter_membership_id)),
            "created_at": report.created_at.isoformat()}


def open_reports(meeting: Meeting) -> list[dict]:
    reports = db.session.scalars(select(Report).where(Report.meeting_id == meeting.id, Report.resolved_at.is_(None))
                                 .order_by(Report.id))
    return [report_payload(r) for r in reports]


def pending_messages(meeting: Meeting) -> list[dict]:
    held = db.session.scalars(select(Message).where(Message.meeting_id == meeting.id, Message.status == "pending",
                                                    Message.deleted_at.is_(None)).order_by(Message.seq))
    return [message_payload(m) for m in held]


def present_people(membership_ids: set[int], meeting: Meeting | None = None, *, waiting: bool = False) -> list[dict]:
    """People present (or, with `waiting`, those in the waiting room) as Persons."""
    if not membership_ids:
        return []
    # Columns, not objects: every join and every presence push reads the whole room.
    rows = db.session.execute(
        select(Membership.id, Membership.public_id, Membership.alias, Membership.role, PeerExpertProfile.first_name)
        .outerjoin(PeerExpertProfile, PeerExpertProfile.user_id == Membership.user_id)
        .where(Membership.id.in_(membership_ids))
    ).all()
    members = [(row.id, row.role == MembershipRole.MODERATOR, row) for row in rows]
    if meeting is not None and meeting.group.waiting_room:
        admitted = set(db.session.scalars(select(Admission.membership_id).where(Admission.meeting_id == meeting.id)))
        members = [m for m in members if (m[1] or m[0] in admitted) != waiting]
    elif waiting:
        return []
    people = [_person(row.public_id, row.alias, moderator, row.first_name) for _id, moderator, row in members]
    # Peer experts first, then aliases alphabetically: a stable order that reveals nothing.
    people.sort(key=lambda p: (p["role"] != "peer_expert", (p["name"] or "").lower()))
    return people


def meeting_payload(meeting: Meeting) -> dict:
    return {"id": meeting.id, "title": meeting.title, "state": meeting.state.value,
            "starts_at": meeting.starts_at.isoformat(), "group": meeting.group.name}
