"""Reading the audit log: one filter, a page of rows newest first, and the same rows in chunks for the CSV.

Pages are keyset-paged by id (`before`): each page is one query whatever its size or position, and rows
written while someone reads never shift a page. The CSV reads the same query in chunks of column tuples (no
ORM objects, so nothing collects in the session's identity map) up to the newest id when the download
began, committing between chunks so that no read transaction stays open for the whole download.

The table holds who, what, which id, where and why; never the text of a message, a note or a profile. Reads
only: the routes record who read (VIEW_AUDIT_LOG, EXPORT_AUDIT_LOG).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, select

from ..extensions import db
from ..models import Group, ModerationAction, User
from ..models.audit import AuditAction

PAGE_SIZE = 50
CHUNK_ROWS = 500


@dataclass(frozen=True)
class AuditFilter:
    """What the reader asked for. Dates are the reader's own calendar days (`zone`), both inclusive."""

    group_id: int | None = None
    actor: User | None = None
    actor_pseudonym: str | None = None  # an erased account's pseudonym (or its first 8 characters)
    action: AuditAction | None = None
    since: date | None = None
    until: date | None = None
    zone: str = "UTC"

    def _start_of(self, day: date) -> datetime:
        return datetime.combine(day, time(0), ZoneInfo(self.zone))

    def conditions(self) -> list[ColumnElement[bool]]:
        row = ModerationAction
        found: list[ColumnElement[bool]] = []
        if self.group_id is not None:
            found.append(row.group_id == self.group_id)
        if self.actor is not None:
            found.append(row.actor_user_id == self.actor.id)
        if self.actor_pseudonym is not None:
            found.append(row.actor_pseudonym.startswith(self.actor_pseudonym, autoescape=True))
        if self.action is not None:
            found.append(row.action == self.action)
        if self.since is not None:
            found.append(row.created_at >= self._start_of(self.since))
        if self.until is not None:
            found.append(row.created_at < self._start_of(self.until + timedelta(days=1)))
        return found

    def summary(self) -> str:
        """The filter in a few stable words, for the reader's own audit row ("all" when nothing is chosen)."""
        parts = []
        if self.group_id is not None:
            parts.append(f"group {self.group_id}")
        if self.actor is not None:
            parts.append(f"actor {self.actor.username}")
        if self.actor_pseudonym is not None:
            parts.append(f"actor {self.actor_pseudonym}")
        if self.action is not None:
            parts.append(f"action {self.action.value}")
        if self.since is not None:
            parts.append(f"from {self.since.isoformat()}")
        if self.until is not None:
            parts.append(f"until {self.until.isoformat()}")
        if self.since is not None or self.until is not None:
            parts.append(self.zone)
        return "; ".join(parts) or "all"


@dataclass(frozen=True)
class AuditRow:
    id: int
    created_at: datetime
    action: AuditAction
    actor_user_id: int | None
    actor_username: str | None
    actor_role: str | None
    actor_pseudonym: str | None
    target_type: str
    target_id: str
    group_id: int | None
    group_name: str | None
    meeting_id: int | None
    reason: str


def _query(audit_filter: AuditFilter) -> Select:
    row = ModerationAction
    return (
        select(
            row.id,
            row.created_at,
            row.action,
            row.actor_user_id,
            User.username,
            row.actor_role,
            row.actor_pseudonym,
            row.target_type,
            row.target_id,
            row.group_id,
            Group.name,
            row.meeting_id,
            row.reason,
        )
        .outerjoin(User, User.id == row.actor_user_id)
        .outerjoin(Group, Group.id == row.group_id)
        .where(*audit_filter.conditions())
        .order_by(row.id.desc())
    )


def _rows(query: Select) -> list[AuditRow]:
    return [AuditRow(*values) for values in db.session.execute(query)]


@dataclass(frozen=True)
class Page:
    rows: list[AuditRow]
    older: int | None  # the `before` of the next page, None on the last


def page(audit_filter: AuditFilter, before: int | None = None, size: int = PAGE_SIZE) -> Page:
    """One page, newest first, of the rows older than id `before` (all when None). One query."""
    query = _query(audit_filter)
    if before is not None:
        query = query.where(ModerationAction.id < before)
    rows = _rows(query.limit(size + 1))
    return Page(rows[:size], rows[size - 1].id if len(rows) > size else None)


def newest_id() -> int:
    """The id of the newest row (0 when the log is empty): a download reads up to here."""
    return db.session.scalar(select(func.max(ModerationAction.id))) or 0


def chunks(audit_filter: AuditFilter, upper: int, size: int | None = None) -> Iterator[list[AuditRow]]:
    """The rows with id <= `upper`, newest first, `size` at a time; a query per chunk, each ended by a commit
    (nothing is pending: the caller committed its own audit row before the first chunk)."""
    size = size or CHUNK_ROWS
    below = upper + 1
    while True:
        rows = _rows(_query(audit_filter).where(ModerationAction.id < below).limit(size))
        db.session.commit()
        if not rows:
            return
        yield rows
        if len(rows) < size:
            return
        below = rows[-1].id


def group_choices() -> list[tuple[int, str, bool]]:
    """Every group (archived ones too: their rows stay), as (id, name, archived), by name."""
    query = select(Group.id, Group.name, Group.archived_at.is_not(None)).order_by(Group.name, Group.id)
    return [(gid, name, archived) for gid, name, archived in db.session.execute(query)]
