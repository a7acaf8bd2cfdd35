"""Attendance recording: a stay in the live chat opens when a member joins and closes when they leave.

A stay (`Attendance`) runs from a member's first socket joining a meeting to their last socket leaving
it, so a member with two tabs open is counted once. Services change models and flush; the socket event
or the route (the edge) commits. The figures the reports show are read in `reports.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update

from ..extensions import db
from ..models import Attendance, Meeting, Membership, utcnow


def _lock_membership(membership_id: int) -> None:
    """Serialise joins and leaves of one member (PostgreSQL row lock; SQLite serialises writers anyway).

    With it, a join racing a leave of the same member's other socket either sees the stay still open
    or the leave sees the joining socket in presence, never neither.
    """
    db.session.execute(select(Membership.id).where(Membership.id == membership_id).with_for_update())


def open_stay(meeting_id: int, membership_id: int) -> Attendance | None:
    return db.session.scalar(
        select(Attendance)
        .where(
            Attendance.meeting_id == meeting_id, Attendance.membership_id == membership_id, Attendance.left_at.is_(None)
        )
        .order_by(Attendance.id)
        .limit(1)
    )


def record_join(meeting: Meeting, membership: Membership, now: datetime | None = None) -> Attendance:
    """Open a stay for this member in this meeting, unless one is open already (another socket)."""
    _lock_membership(membership.id)
    stay = open_stay(meeting.id, membership.id)
    if stay is None:
        stay = Attendance(meeting_id=meeting.id, membership_id=membership.id, joined_at=now or utcnow())
        db.session.add(stay)
        db.session.flush()
    return stay


def record_leave(
    meeting_id: int, membership_id: int, still_present: Callable[[], bool] | None = None, now: datetime | None = None
) -> int:
    """Close the member's open stay in the meeting; returns how many rows were closed.

    `still_present` is asked after the member's row is locked: when another socket of theirs is still in
    the meeting, the stay goes on and nothing is closed.
    """
    _lock_membership(membership_id)
    if still_present is not None and still_present():
        return 0
    close = (
        update(Attendance)
        .where(
            Attendance.meeting_id == meeting_id, Attendance.membership_id == membership_id, Attendance.left_at.is_(None)
        )
        .values(left_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    result = cast(CursorResult[Any], db.session.execute(close))
    db.session.flush()
    return result.rowcount or 0


def close_open_attendance(meeting: Meeting, now: datetime | None = None) -> int:
    """Close every stay still open in a meeting (the meeting closed); returns how many were closed.

    Call it from `scheduling.meetings.close_meeting`, after `closed_at` is set: the stays end then.
    """
    ended = now or meeting.closed_at or utcnow()
    close = (
        update(Attendance)
        .where(Attendance.meeting_id == meeting.id, Attendance.left_at.is_(None))
        .values(left_at=ended)
        .execution_options(synchronize_session="fetch")
    )
    result = cast(CursorResult[Any], db.session.execute(close))
    db.session.flush()
    return result.rowcount or 0
