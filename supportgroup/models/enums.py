"""Enumerations stored as short strings (portable; no native ENUM types to migrate)."""
from __future__ import annotations

import enum

from sqlalchemy import Enum


class Role(enum.StrEnum):
    PARTICIPANT = "participant"
    PEER_EXPERT = "peer_expert"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class GroupKind(enum.StrEnum):
    SURVIVORS = "survivors"
    PERPETRATORS = "perpetrators"
    MIXED = "mixed"
    OTHER = "other"


class MembershipStatus(enum.StrEnum):
    INVITED = "invited"
    PENDING = "pending"
    ACTIVE = "active"
    WAITLISTED = "waitlisted"
    LEFT = "left"
    REMOVED = "removed"
    BANNED = "banned"


class MembershipRole(enum.StrEnum):
    """A participant takes part under an alias; a moderator is a peer expert who leads the group."""

    PARTICIPANT = "participant"
    MODERATOR = "moderator"


class MeetingState(enum.StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


def str_enum(enum_cls: type[enum.StrEnum], length: int = 20) -> Enum:
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )
