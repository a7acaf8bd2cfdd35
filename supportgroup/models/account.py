"""What an account holds besides itself: one-time codes (activation, reset, recovery, backup) and the
platform settings an admin changes at run time."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .enums import str_enum
from .types import UTCDateTime, utcnow


class CodeKind(enum.StrEnum):
    """What a one-time code opens.

    activation: the link a new staff member sets their first password with (72 h, single use);
    reset: a code an admin or coordinator hands over to set a new password (24 h, single use);
    recovery: a participant's own ten codes for "Forgot password?" (no expiry, each once);
    backup: a staff member's ten codes for when their authenticator app is lost (no expiry, each once).
    """

    ACTIVATION = "activation"
    RESET = "reset"
    RECOVERY = "recovery"
    BACKUP = "backup"


class AccountCode(Model):
    """One one-time code, stored only as a keyed hash (`auth/codes.py`); spent by setting `used_at`.

    `issued_by_user_id`: who handed it over (a reset code, an activation link from the console); None for codes a
    person makes for themselves and for the CLI's (an operator on the server). A reset code works only while its
    issuer may still give it to that account (`auth/recovery.py`); erasing the issuer voids their unspent codes."""

    __tablename__ = "account_codes"
    __table_args__ = (Index("ix_account_codes_user_kind", "user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[CodeKind] = mapped_column(str_enum(CodeKind))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)


class PlatformSetting(Model):
    """A setting an admin may change without a restart (`platform_settings.py` lists which, with their
    defaults from the environment). One row per changed setting; a missing row means the default."""

    __tablename__ = "platform_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
