"""Storing a message of any kind (the one insert path: `insert_message`), finding, deleting and reporting it.

Services flush, never commit; `store_once` is the edge's helper that stores idempotently and commits.
The server id (`seq`) comes from the meeting's counter, incremented under its row lock in the same
transaction, so ids grow in commit order and a replay "after id N" never skips a message.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import TextClause, bindparam, select
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Meeting, MeetingState, Membership, Message, MessageKind, MessageStatus, Report, utcnow
from ..models.types import UTCDateTime
from ..permissions import Denied, require_may_delete_message

# The hot path's SQL, written out once: building and compiling Core statements per message cost more CPU than
# running them. Column names as in models/message.py and models/meeting.py.
_COUNTER = (
    "UPDATE meetings SET last_message_seq = last_message_seq + 1 "
    f"WHERE id = :meeting_id AND state = '{MeetingState.OPEN.value}' RETURNING last_message_seq"
)
_MESSAGE_COLUMNS = (
    "meeting_id, seq, author_membership_id, client_id, text, created_at, kind, status, held_reason, "
    "whisper_membership_id"
)
_MESSAGE_VALUES = ":author_membership_id, :client_id, :text, :created_at, :kind, :status, :held_reason, :whisper_to"


def next_seq(meeting_id: int) -> int:
    """The next server id, taken under the meeting's row lock, so ids grow in commit order.

    The same counter statement as `insert_message`'s, on the session's connection: the counter changes no
    authorization rule (nothing to tell `chat/rights.py`)."""
    seq = db.session.connection().execute(sql(_COUNTER), {"meeting_id": meeting_id}).scalar()
    if seq is None:
        raise Denied("meeting_not_open", _l("This meeting is not open."), status=409)
    return seq


@dataclass(frozen=True)
class StoredMessage:
    """A message just inserted by `insert_message`: what its payload and acknowledgement need."""

    id: int
    seq: int
    meeting_id: int
    author_membership_id: int
    client_id: str
    text: str
    created_at: datetime
    kind: MessageKind
    status: MessageStatus
    held_reason: str | None
    whisper_membership_id: int | None = None


@functools.cache
def _store_statements(dialect: str) -> tuple[TextClause, ...]:
    """PostgreSQL: one statement (the counter UPDATE in a CTE feeding the INSERT). SQLite, whose CTEs cannot
    hold an UPDATE: the counter UPDATE, then the INSERT."""
    created_at = bindparam("created_at", type_=UTCDateTime())
    if dialect == "postgresql":
        return (
            sql(
                f"WITH counter AS ({_COUNTER}) INSERT INTO messages ({_MESSAGE_COLUMNS}) "
                f"SELECT :meeting_id, last_message_seq, {_MESSAGE_VALUES} FROM counter RETURNING id, seq"
            ).bindparams(created_at),
        )
    return (
        sql(_COUNTER),
        sql(
            f"INSERT INTO messages ({_MESSAGE_COLUMNS}) VALUES (:meeting_id, :seq, {_MESSAGE_VALUES}) RETURNING id, seq"
        ).bindparams(created_at),
    )


def insert_message(
    meeting_id: int,
    author_membership_id: int,
    client_id: str,
    text: str,
    *,
    kind: MessageKind = MessageKind.CHAT,
    status: MessageStatus = MessageStatus.VISIBLE,
    held_reason: str | None = None,
    whisper_membership_id: int | None = None,
) -> StoredMessage:
    """Store a message of any kind: one statement on PostgreSQL, two on SQLite; no ORM object (`send`'s hot
    path runs it for every chat line).

    A meeting that is not open stores nothing (`meeting_not_open`). A retry with the same client id fails on
    the unique constraint; the caller rolls back and answers with the stored message (`store_once`)."""
    kind, status = MessageKind(kind), MessageStatus(status)
    connection = db.session.connection()
    created_at = utcnow()
    params: dict[str, object] = {
        "meeting_id": meeting_id,
        "author_membership_id": author_membership_id,
        "client_id": client_id,
        "text": text,
        "created_at": created_at,
        "kind": kind.value,
        "status": status.value,
        "held_reason": held_reason,
        "whisper_to": whisper_membership_id,
    }
    *counter, store = _store_statements(connection.dialect.name)
    if counter:
        params["seq"] = connection.execute(counter[0], params).scalar()
    row = None if params.get("seq", 0) is None else connection.execute(store, params).first()
    if row is None:
        raise Denied("meeting_not_open", _l("This meeting is not open."), status=409)
    return StoredMessage(
        id=row.id,
        seq=row.seq,
        meeting_id=meeting_id,
        author_membership_id=author_membership_id,
        client_id=client_id,
        text=text,
        created_at=created_at,
        kind=kind,
        status=status,
        held_reason=held_reason,
        whisper_membership_id=whisper_membership_id,
    )


def post_message(
    meeting: Meeting,
    author: Membership,
    client_id: str,
    text: str,
    *,
    kind: MessageKind = MessageKind.CHAT,
    status: MessageStatus = MessageStatus.VISIBLE,
    held_reason: str | None = None,
    whisper_membership_id: int | None = None,
) -> StoredMessage:
    """`insert_message` for callers that hold the meeting and the author's membership."""
    return insert_message(
        meeting.id,
        author.id,
        client_id,
        text,
        kind=kind,
        status=status,
        held_reason=held_reason,
        whisper_membership_id=whisper_membership_id,
    )


def find_sent(meeting: Meeting, author: Membership, client_id: str) -> Message | None:
    """The message this author already sent with this client id, if any (an idempotent retry)."""
    return db.session.scalar(
        select(Message).where(
            Message.meeting_id == meeting.id, Message.author_membership_id == author.id, Message.client_id == client_id
        )
    )


def find_sent_by_account(meeting_id: int, user_id: int, client_id: str) -> Message | None:
    """`find_sent` when only the account is known (a refused send may be a retry of a stored message)."""
    return db.session.scalar(
        select(Message)
        .join(Membership, Membership.id == Message.author_membership_id)
        .where(Message.meeting_id == meeting_id, Message.client_id == client_id, Membership.user_id == user_id)
    )


def store_once(
    meeting: Meeting,
    author: Membership,
    client_id: str,
    text: str,
    *,
    kind: MessageKind,
    whisper_membership_id: int | None = None,
) -> tuple[StoredMessage | Message, bool]:
    """The edge's store: once per client id (retries and simultaneous copies resolve to one message), then
    commit. Returns the message and whether it was stored now (False: the other copy won)."""
    try:
        message = post_message(meeting, author, client_id, text, kind=kind, whisper_membership_id=whisper_membership_id)
        db.session.commit()
    except IntegrityError:
        # The same client id arrived twice at once: the other copy won; answer as for a retry.
        db.session.rollback()
        if (sent := find_sent(meeting, author, client_id)) is None:
            raise
        return sent, False
    return message, True


def send_ack(message: StoredMessage | Message, duplicate: bool) -> dict:
    """The acknowledgement of a stored message (docs/protocol.md: `send`, `whisper`, `announce`, ...)."""
    ack = {"id": message.seq, "client_id": message.client_id, "duplicate": duplicate, "status": message.status}
    if message.status == MessageStatus.PENDING:
        ack["held_reason"] = message.held_reason
    return ack


def find_message(meeting: Meeting, seq: int) -> Message:
    message = db.session.scalar(
        select(Message).where(Message.meeting_id == meeting.id, Message.seq == seq, Message.deleted_at.is_(None))
    )
    if message is None:
        raise Denied("message_not_found", _l("This message does not exist (any more)."), status=404)
    return message


def delete_message(message: Message, by: Membership) -> None:
    """An author deletes their own message (`permissions.require_may_delete_message`). Gone for everyone and
    from every replay, and its text gone from the database at once (`safety/scrub.py`)."""
    require_may_delete_message(message, by)
    message.deleted_at = utcnow()
    message.text = ""  # as `safety.scrub.erase_text`, whose session hooks then clear the database files
    db.session.flush()


def report_message(message: Message, reporter: Membership, reason: str) -> Report:
    """A member flags a message everyone can see for the moderators."""
    if message.kind not in (MessageKind.CHAT, MessageKind.ANNOUNCEMENT) or message.status != MessageStatus.VISIBLE:
        raise Denied("message_not_found", _l("This message does not exist (any more)."), status=404)
    report = Report(
        meeting_id=message.meeting_id, message_id=message.id, reporter_membership_id=reporter.id, reason=reason
    )
    db.session.add(report)
    db.session.flush()
    return report
