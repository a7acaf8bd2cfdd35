"""Groups and the memberships that place people in them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .enums import GroupKind, MembershipRole, MembershipStatus, str_enum
from .types import UTCDateTime, public_token, utcnow

if TYPE_CHECKING:  # user.py does not import this module; the mapper finds User by name
    from .user import User


class Group(Model):
    """A standing peer-support group."""

    __tablename__ = "support_groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[GroupKind] = mapped_column(str_enum(GroupKind))
    language: Mapped[str] = mapped_column(String(8), default="nl")
    capacity: Mapped[int] = mapped_column(Integer, default=12)
    description: Mapped[str] = mapped_column(Text, default="")
    # Rich text, cleaned with bleach before it is stored.
    house_rules: Mapped[str] = mapped_column(Text, default="")
    # Raised whenever the house rules change: members accept the new version before their next meeting.
    rules_version: Mapped[int] = mapped_column(Integer, default=1)
    waiting_room: Mapped[bool] = mapped_column(Boolean, default=False)
    premoderation: Mapped[bool] = mapped_column(Boolean, default=False)
    retention_days: Mapped[int] = mapped_column(Integer, default=30)
    # Hold messages that may show who someone is (phone, e-mail, address, profile link) for a moderator.
    hold_identifying: Mapped[bool] = mapped_column(Boolean, default=False)
    # Participants may ask to join from the group list; a coordinator approves.
    open_for_requests: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(back_populates="group")

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None


class Membership(Model):
    """One person's place in one group.

    Participants appear under `alias`, drawn at random per group so two memberships cannot be linked.
    Clients only ever see `public_id` and the alias (or a moderator's first name), never the account.
    """

    __tablename__ = "memberships"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id"),
        UniqueConstraint("group_id", "alias"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True, default=public_token)
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[MembershipRole] = mapped_column(str_enum(MembershipRole), default=MembershipRole.PARTICIPANT)
    status: Mapped[MembershipStatus] = mapped_column(str_enum(MembershipStatus), default=MembershipStatus.ACTIVE)
    alias: Mapped[str | None] = mapped_column(String(64))
    # Consent to the house rules: when, and to which version of them.
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consented_rules_version: Mapped[int | None] = mapped_column(Integer)
    # How the person came in: invite, referral, request (or demo).
    source: Mapped[str] = mapped_column(String(20), default="referral")
    # The organisation that referred them, and when it closed its case. Closing ends nothing here.
    referred_by_organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id", ondelete="SET NULL"))
    referral_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the status last changed; the waitlist moves up in this order.
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    group: Mapped[Group] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status == MembershipStatus.ACTIVE

    @property
    def is_moderator(self) -> bool:
        return self.role == MembershipRole.MODERATOR


class Invite(Model):
    """An invite code for a group: may expire, may be limited in uses, may be revoked."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("support_groups.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    group: Mapped[Group] = relationship()


class EnrolmentConflict(Model):
    """Two accounts that must never be in the same group (for example former partners).

    Stored with the lower user id first, so a pair is recorded once. The note is for coordinators only.
    """

    __tablename__ = "enrolment_conflicts"
    __table_args__ = (
        UniqueConstraint("user_low_id", "user_high_id"),
        CheckConstraint("user_low_id < user_high_id", name="ordered_pair"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_low_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    user_high_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
