"""Scheduled sessions of a group."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .enums import MeetingState, str_enum
from .group import Group
from .types import UTCDateTime, utcnow


class Meeting(db.Model):
    """One session of a group. Called *meeting* so it never clashes with Flask's `session`."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    # The IANA zone the meeting was planned in; `starts_at` is always UTC.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    state: Mapped[MeetingState] = mapped_column(str_enum(MeetingState), default=MeetingState.SCHEDULED)
    # The last server id handed to a message; incremented under the row lock, so ids grow in commit order.
    last_message_seq: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship()

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def is_open(self) -> bool:
        return self.state == MeetingState.OPEN
