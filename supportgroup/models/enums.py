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


class MessageKind(enum.StrEnum):
    """Who a message is for: everyone (chat, announcement from a moderator), one moderator <-> one participant
    (whisper), or the moderators only (backchannel)."""

    CHAT = "chat"
    ANNOUNCEMENT = "announcement"
    WHISPER = "whisper"
    BACKCHANNEL = "backchannel"


class MessageStatus(enum.StrEnum):
    """Visible to those its kind allows; pending (held for a moderator); rejected (by a moderator)."""

    VISIBLE = "visible"
    PENDING = "pending"
    REJECTED = "rejected"


def str_enum(enum_cls: type[enum.StrEnum], length: int = 20) -> Enum:
    return Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )
