"""Chat lines in a meeting."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .enums import MessageKind, MessageStatus, str_enum
from .group import Membership
from .types import UTCDateTime, utcnow


class Message(Model):
    """One chat line. `seq` is the server id clients see: it only grows within a meeting.

    `client_id` makes sending idempotent: the same id from the same author in the same meeting is
    stored once.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("meeting_id", "seq"),
        UniqueConstraint("meeting_id", "author_membership_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    author_membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[MessageKind] = mapped_column(str_enum(MessageKind), default=MessageKind.CHAT)
    status: Mapped[MessageStatus] = mapped_column(str_enum(MessageStatus), default=MessageStatus.VISIBLE)
    # Why a message is held: "premoderation" (or, later, "identifying_details").
    held_reason: Mapped[str | None] = mapped_column(String(30))
    # A whisper's other party (the participant, for both directions).
    whisper_membership_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))

    author: Mapped[Membership] = relationship(foreign_keys=[author_membership_id])


class Report(Model):
    """A participant reports a message; only moderators see who reported."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"), index=True)
    reporter_membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
