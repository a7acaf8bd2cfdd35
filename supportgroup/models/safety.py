"""Safeguarding records: incidents, handover notes, crisis alerts, safety checks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class Incident(Model):
    """A moderator's record of something that happened, with a snapshot of the messages involved.

    The snapshot is kept under its own, longer retention (INCIDENT_RETENTION_DAYS) for safeguarding, after
    the chat itself has been purged. Visible to coordinators and the group's moderators.
    """

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    # [{"id": server id, "author": name shown in the meeting, "text": ..., "created_at": ...}]
    snapshot: Mapped[list[dict]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class HandoverNote(Model):
    """A moderator's note for the moderators of the group's next meeting."""

    __tablename__ = "handover_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    author_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Model):
    """A private alert for a meeting's moderators, pointing to a message (e.g. a crisis signal)."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    # e.g. "self_harm", "danger", "weapons", "child", "found"
    category: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SafetyCheck(Model):
    """That a participant went through the safety check before a meeting. Never their answers."""

    __tablename__ = "safety_checks"
    __table_args__ = (UniqueConstraint("meeting_id", "membership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    skipped: Mapped[bool] = mapped_column(default=False)
