"""The audit log: moderation actions and other sensitive operations."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class ModerationAction(Model):
    """Who did what to which id, and why. Never the content of a message.

    Moderators' actions (mute, remove, delete, ...) and coordinators' sensitive look-ups are both
    recorded here, so there is one audit trail to read.
    """

    __tablename__ = "moderation_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Set when the actor's account is erased: a stable pseudonym instead of the account.
    actor_pseudonym: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id", ondelete="SET NULL"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
