"""Typed SQLAlchemy 2.0 models, one module per aggregate. Import them from here."""

from .account import AccountCode, CodeKind, PlatformSetting
from .audit import ModerationAction
from .enums import GroupKind, MeetingState, MembershipRole, MembershipStatus, MessageKind, MessageStatus, Role
from .group import EnrolmentConflict, Group, Invite, Membership
from .meeting import Admission, Attendance, Hand, Meeting, MeetingRemoval, MeetingSeries, Mute
from .message import Message, Report
from .organisation import Organisation
from .safety import Alert, HandoverNote, Incident, SafetyCheck
from .types import utcnow
from .user import PeerExpertProfile, User

__all__ = [
    "AccountCode",
    "CodeKind",
    "PlatformSetting",
    "Admission",
    "Alert",
    "HandoverNote",
    "Incident",
    "SafetyCheck",
    "Attendance",
    "Hand",
    "MeetingRemoval",
    "Mute",
    "Report",
    "EnrolmentConflict",
    "Group",
    "Invite",
    "MeetingSeries",
    "GroupKind",
    "Meeting",
    "MeetingState",
    "Membership",
    "MembershipRole",
    "MembershipStatus",
    "Message",
    "MessageKind",
    "MessageStatus",
    "ModerationAction",
    "Organisation",
    "PeerExpertProfile",
    "Role",
    "User",
    "utcnow",
]
