"""Scheduled sessions of a group."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .enums import MeetingState, str_enum
from .group import Group
from .types import UTCDateTime, utcnow


class MeetingSeries(Model):
    """A recurring meeting: weekly, every N weeks, or monthly on the Nth weekday.

    The rule is kept in local wall-clock time with an IANA zone, so 19:30 stays 19:30 across daylight
    saving changes; occurrences are stored as `Meeting` rows with their start in UTC.
    """

    __tablename__ = "meeting_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(120), default="")
    # "weekly" (every `interval` weeks) or "monthly" (on the `week_of_month`-th `weekday`; -1 = last).
    frequency: Mapped[str] = mapped_column(String(10))
    interval: Mapped[int] = mapped_column(Integer, default=1)
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday
    week_of_month: Mapped[int | None] = mapped_column(Integer)
    local_start: Mapped[time] = mapped_column(Time)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    starts_on: Mapped[date] = mapped_column(Date)
    until: Mapped[date | None] = mapped_column(Date)
    # Open-ended series (`until` None): occurrences exist as meetings up to this local date; the horizon job
    # (scheduling/horizon.py) moves it on so the series keeps HORIZON_WEEKS of meetings ahead.
    materialised_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship()


class Meeting(Model):
    """One session of a group. Called *meeting* so it never clashes with Flask's `session`."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id", ondelete="CASCADE"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_series.id", ondelete="SET NULL"), index=True)
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
    # Shown to members when a meeting is cancelled.
    cancel_reason: Mapped[str] = mapped_column(String(300), default="")
    # Live moderation state (every process reads it from here).
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # None follows the group's setting; True/False is a moderator's live choice for this meeting.
    premoderation: Mapped[bool | None] = mapped_column(Boolean)
    floor_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="SET NULL"))
    floor_only: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned_seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship()
    series: Mapped[MeetingSeries | None] = relationship()

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.duration_minutes)

    @property
    def premoderated(self) -> bool:
        return self.group.premoderation if self.premoderation is None else self.premoderation


class Attendance(Model):
    """One stay of a member in a meeting's live chat: from joining to leaving (or the socket dropping)."""

    __tablename__ = "attendance"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Mute(Model):
    """A participant muted in a meeting, for some minutes (`until`) or until lifted."""

    __tablename__ = "mutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Hand(Model):
    """A raised hand: the queue for the floor is the order of `raised_at`."""

    __tablename__ = "hands"
    __table_args__ = (UniqueConstraint("meeting_id", "membership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Admission(Model):
    """Waiting room: a participant let in to this meeting by a moderator."""

    __tablename__ = "admissions"
    __table_args__ = (UniqueConstraint("meeting_id", "membership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    admitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MeetingRemoval(Model):
    """A participant removed from one meeting (they stay in the group; a ban is a membership state)."""

    __tablename__ = "meeting_removals"
    __table_args__ = (UniqueConstraint("meeting_id", "membership_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
