"""The audit log's row and its actions: moderation actions and other sensitive operations.

`AuditAction` lives here, beside the column it types, so the models need nothing above them; the rest of the
app takes both from `supportgroup/audit.py`, the one place that writes the log.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .enums import str_enum
from .types import UTCDateTime, utcnow


class AuditAction(enum.StrEnum):
    """Every action the audit log knows. The values are what the `action` column stores (unchanged)."""

    # groups, memberships, invites, the pool and conflicts (coordinators)
    CREATE_GROUP = "create_group"
    EDIT_GROUP = "edit_group"
    ARCHIVE_GROUP = "archive_group"
    RESTORE_GROUP = "restore_group"
    ADD_MEMBER = "add_member"
    APPROVE_REQUEST = "approve_request"
    DECLINE_REQUEST = "decline_request"
    REMOVE_MEMBER = "remove_member"
    BAN_MEMBER = "ban_member"
    CLOSE_REFERRAL = "close_referral"
    ASSIGN_MODERATOR = "assign_moderator"
    CREATE_INVITE = "create_invite"
    REVOKE_INVITE = "revoke_invite"
    EDIT_PROFILE = "edit_profile"
    TRAIN_PEER_EXPERT = "train_peer_expert"
    UNTRAIN_PEER_EXPERT = "untrain_peer_expert"
    RECORD_CONFLICT = "record_conflict"
    REMOVE_CONFLICT = "remove_conflict"
    CREATE_ORGANISATION = "create_organisation"
    # meetings and series
    CREATE_MEETING = "create_meeting"
    CREATE_SERIES = "create_series"
    EDIT_MEETING = "edit_meeting"
    EDIT_SERIES_REST = "edit_series_rest"
    CANCEL_MEETING = "cancel_meeting"
    CANCEL_SERIES_REST = "cancel_series_rest"
    OPEN_MEETING = "open_meeting"
    CLOSE_MEETING = "close_meeting"
    # live moderation (`moderation/services.py`)
    MUTE = "mute"
    UNMUTE = "unmute"
    REMOVE_FROM_MEETING = "remove_from_meeting"
    DELETE_MESSAGE = "delete_message"
    APPROVE_MESSAGE = "approve_message"
    REJECT_MESSAGE = "reject_message"
    SET_SLOW_MODE_SECONDS = "set_slow_mode_seconds"
    SET_PREMODERATION = "set_premoderation"
    SET_FLOOR_ONLY = "set_floor_only"
    SET_LOCKED = "set_locked"
    SET_PINNED_SEQ = "set_pinned_seq"
    GIVE_FLOOR = "give_floor"
    ADMIT = "admit"
    RESOLVE_REPORT = "resolve_report"
    # safeguarding
    RESOLVE_ALERT = "resolve_alert"
    RECORD_INCIDENT = "record_incident"
    HANDOVER_NOTE = "handover_note"
    # accounts (the admin console and the CLI)
    SET_ROLE = "set_role"
    ENABLE_USER = "enable_user"
    DISABLE_USER = "disable_user"
    CREATE_ACCOUNT = "create_account"
    ISSUE_ACTIVATION = "issue_activation"
    ACTIVATE_ACCOUNT = "activate_account"
    ISSUE_RESET_CODE = "issue_reset_code"
    RESET_PASSWORD = "reset_password"  # a reset code or a recovery code spent: the actor is the account itself
    NEW_RECOVERY_CODES = "new_recovery_codes"
    ENROL_TWO_FACTOR = "enrol_two_factor"
    NEW_BACKUP_CODES = "new_backup_codes"
    RESET_TWO_FACTOR = "reset_two_factor"
    DISABLE_TWO_FACTOR = "disable_two_factor"  # a peer expert drops the second factor they chose
    CHANGE_SETTING = "change_setting"
    EDIT_ORGANISATION = "edit_organisation"
    # sensitive reads: data that links a person to an alias or an incident
    LOOKUP_ALIAS = "lookup_alias"
    VIEW_INCIDENT = "view_incident"
    SEARCH_PEOPLE = "search_people"  # the coordinator's type-ahead: the group and the kind, never the query
    LIST_INCIDENTS = "list_incidents"  # the incidents list (dates, groups and the start of each note)
    VIEW_CONFLICTS = "view_conflicts"  # the keep-apart list: which accounts must never meet, and why
    VIEW_AUDIT_LOG = "view_audit_log"
    EXPORT_AUDIT_LOG = "export_audit_log"


class ModerationAction(Model):
    """Who did what to which id, and why. Never the content of a message.

    Moderators' actions (mute, remove, delete, ...), coordinators' writes and everyone's sensitive reads
    are all recorded here, so there is one audit trail to read.
    """

    __tablename__ = "moderation_actions"
    # The audit page filters by time and pages by id; a participant's own page finds reads of their aliases.
    __table_args__ = (
        Index("ix_moderation_actions_created_at", "created_at"),
        Index("ix_moderation_actions_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # Set when the actor's account is erased: a stable pseudonym instead of the account.
    actor_pseudonym: Mapped[str | None] = mapped_column(String(32))
    # The actor's role when they acted: a participant is told which role resolved their alias, never who.
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[AuditAction] = mapped_column(str_enum(AuditAction, length=40))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(64))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("support_groups.id", ondelete="SET NULL"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
