"""How far each meeting has come, for gap detection (`sync`, the `join` ack; docs/protocol.md §7).

Apart from `chat/catchup.py` so that `chat/joining.py` (whose `join` ack carries the same figures) can use it
without importing the module that registers `catch_up` through it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from ..extensions import db
from ..models import Meeting, Message


def marks(meeting_ids: Iterable[int]) -> dict[int, tuple[int, int]]:
    """Per meeting: (highest server id allocated so far, how many of its messages are deleted).

    The highest id is read first: every id up to it is committed (ids are taken in the storing transaction)."""
    ids = sorted(set(meeting_ids))
    if not ids:
        return {}
    last: dict[int, int] = dict(
        db.session.execute(select(Meeting.id, Meeting.last_message_seq).where(Meeting.id.in_(ids))).tuples().all()
    )
    deleted: dict[int, int] = dict(
        db.session.execute(
            select(Message.meeting_id, func.count())
            .where(Message.meeting_id.in_(ids), Message.deleted_at.is_not(None))
            .group_by(Message.meeting_id)
        )
        .tuples()
        .all()
    )
    return {meeting_id: (seq, deleted.get(meeting_id, 0)) for meeting_id, seq in last.items()}
