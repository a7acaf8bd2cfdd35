"""Accounts and the peer-expert profile that belongs to an account."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .enums import Role, str_enum
from .types import UTCDateTime, public_token, utcnow


class User(UserMixin, Model):
    """An account: a username and a password, nothing more is required to take part."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased; usernames are unique regardless of case.
    username: Mapped[str] = mapped_column(String(32), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.PARTICIPANT)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Part of the session identity: rotating it logs out every session and socket of this user.
    session_token: Mapped[str] = mapped_column(String(32), default=public_token)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Amsterdam")
    locale: Mapped[str | None] = mapped_column(String(8))
    # The secret in the personal calendar feed's URL; None when the feed is off. Revoking draws a new one.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A reminder in calendar files (the feed and single-meeting downloads): minutes before a meeting, or None.
    calendar_alarm_minutes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The day of the last login or page seen (at most one write a day per account): the admin's accounts list.
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Two-factor sign-in (TOTP, RFC 6238): the shared secret, and when its first code was confirmed
    # (None: not enrolled; a secret without it is an enrolment under way).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The time step of the last code accepted: a code is accepted once (RFC 6238 section 5.2).
    totp_last_step: Mapped[int | None] = mapped_column(Integer)

    profile: Mapped[PeerExpertProfile | None] = relationship(back_populates="user", uselist=False)

    def get_id(self) -> str:
        """Flask-Login's session id: the account and its current session token."""
        return f"{self.id}:{self.session_token}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses disabled accounts
        return self.is_enabled

    def rotate_session_token(self) -> None:
        self.session_token = public_token()

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


class PeerExpertProfile(Model):
    """How a peer expert presents to their groups: a first name and a short story."""

    __tablename__ = "peer_expert_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    first_name: Mapped[str] = mapped_column(String(40))
    story: Mapped[str] = mapped_column(Text, default="")
    # e.g. ["survivor", "former_perpetrator", "addiction"]
    experience_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    trained: Mapped[bool] = mapped_column(Boolean, default=False)
    trained_on: Mapped[date | None] = mapped_column(Date)

    user: Mapped[User] = relationship(back_populates="profile")
