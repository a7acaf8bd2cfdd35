"""Retention: transcripts and what hangs off them are hard-deleted on a schedule.

`purge()` is a service (bulk DELETE statements; flushes, never commits). It runs from `flask purge`
(cron) and from `start_purge_job(app)`, a background task in the server process.

What goes, counted from the meeting's `closed_at` (or its start, for a closed meeting without one) plus
its group's `retention_days`:
- every message of a closed meeting: visible, deleted, pending and rejected alike, of every kind;
- the reports and alerts on those messages (and any other report or alert of that meeting);
- the safety checks of those meetings;
- handover notes older than their group's retention period.
Incident snapshots are safeguarding records with their own period, INCIDENT_RETENTION_DAYS (default 365)
from their creation. Meetings themselves, attendance and the audit log (which holds no content) stay.
Deleted means gone from the files too: after the purge's commit `scrub.py` checkpoints SQLite's `-wal` away
(its deletes overwrite with zeros, `secure_delete`) and VACUUMs PostgreSQL's content tables.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from flask import Flask, current_app
from sqlalchemy import CursorResult, Table, and_, delete, false, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from .. import periodic, rule_scopes
from ..extensions import db
from ..models import Alert, Group, HandoverNote, Incident, Meeting, MeetingState, Message, Report, SafetyCheck, utcnow
from . import scrub

DEFAULT_RETENTION_DAYS = 30
DEFAULT_INCIDENT_RETENTION_DAYS = 365
DEFAULT_PURGE_INTERVAL_MINUTES = 60


def _older_than_group_retention(group_column, time_column, now: datetime) -> ColumnElement[bool]:
    """`time_column` lies before `now` minus the retention period of the group in `group_column`.

    Portable across SQLite and PostgreSQL (no date arithmetic in SQL): one cut-off per distinct
    retention period, and there are only a handful of those.
    """
    periods = db.session.scalars(select(Group.retention_days).distinct()).all()
    clauses = []
    for days in periods:
        cutoff = now - timedelta(days=max(days if days is not None else DEFAULT_RETENTION_DAYS, 0))
        in_groups = group_column.in_(
            select(Group.id).where(Group.retention_days.is_(None) if days is None else Group.retention_days == days)
        )
        clauses.append(and_(in_groups, time_column < cutoff))
    return or_(*clauses) if clauses else false()


def expired_meetings(now: datetime):
    """A subquery of the ids of closed meetings whose transcript is past its group's retention period."""
    closed = func.coalesce(Meeting.closed_at, Meeting.starts_at)
    return select(Meeting.id).where(
        Meeting.state == MeetingState.CLOSED,
        _older_than_group_retention(Meeting.group_id, closed, now),
    )


def _delete(model: type[Any], *where: ColumnElement[bool]) -> int:
    """Bulk DELETE of `model`'s rows matching `where`; how many rows went."""
    statement = delete(model).where(*where)
    result = cast(CursorResult[Any], db.session.execute(statement, execution_options={"synchronize_session": False}))
    return result.rowcount or 0


def purge(now: datetime | None = None) -> dict[str, int]:
    """Hard-delete everything past its retention period. Returns the number of rows deleted per kind."""
    now = now or utcnow()
    meetings = expired_meetings(now)
    messages = select(Message.id).where(Message.meeting_id.in_(meetings))
    incident_days = int(current_app.config.get("INCIDENT_RETENTION_DAYS", DEFAULT_INCIDENT_RETENTION_DAYS))

    counts = {
        # Children first, so the counts are exact (the foreign keys would cascade anyway).
        "alerts": _delete(Alert, or_(Alert.meeting_id.in_(meetings), Alert.message_id.in_(messages))),
        "reports": _delete(Report, or_(Report.meeting_id.in_(meetings), Report.message_id.in_(messages))),
        "messages": _delete(Message, Message.meeting_id.in_(meetings)),
        "safety_checks": _delete(SafetyCheck, SafetyCheck.meeting_id.in_(meetings)),
        "handover_notes": _delete(
            HandoverNote, _older_than_group_retention(HandoverNote.group_id, HandoverNote.created_at, now)
        ),
        "incidents": _delete(Incident, Incident.created_at < now - timedelta(days=max(incident_days, 0))),
    }
    # A pin pointed at a message that is gone now. The meetings are named, so that only their sockets' kept
    # posting rights are dropped (chat/rights.py), not every socket's.
    pinned = db.session.scalars(
        select(Meeting.id).where(Meeting.id.in_(meetings), Meeting.pinned_seq.is_not(None))
    ).all()
    if pinned:
        db.session.execute(
            update(cast(Table, Meeting.__table__)).where(Meeting.id.in_(pinned)).values(pinned_seq=None),
            execution_options=rule_scopes.touching(meetings=pinned),
        )
    db.session.flush()
    # After the commit: the SQLite -wal checkpointed away, PostgreSQL's old row versions vacuumed (scrub.py),
    # also of texts deleted since the last run.
    scrub.request_vacuum(db.session())  # the scoped session's Session of this context
    return counts


def format_counts(counts: dict[str, int]) -> str:
    """Numbers only: never any content."""
    return ", ".join(f"{name}={count}" for name, count in counts.items())


def run_purge_once(app: Flask) -> dict[str, int] | None:
    """One purge in its own app context and transaction (the background job's step)."""
    return periodic.run_once(app, "retention purge", purge, format_counts)


def start_purge_job(app: Flask):
    """Run `purge` now and then every PURGE_INTERVAL_MINUTES (default 60) in every server process (serve.py /
    wsgi.py); the deletes are idempotent. PURGE_INTERVAL_MINUTES=0: cron runs `flask purge` instead."""
    minutes = app.config.get("PURGE_INTERVAL_MINUTES", DEFAULT_PURGE_INTERVAL_MINUTES)
    return periodic.start_every(app, "purge_job", minutes, run_purge_once)
