"""Partner organisations in the care network."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class Organisation(Model):
    """A partner in the care network (Veilig Thuis, a shelter, a probation service, ...).

    Memberships only remember which organisation referred someone; closing a case there ends nothing here.
    """

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
