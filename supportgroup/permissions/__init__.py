"""The one place that answers "may this user do this here?".

HTTP routes and socket events both call these functions, after loading the objects from the
database and before acting. A refusal raises `Denied` with a stable machine-readable code and a
message a person understands; routes turn it into an HTTP error, socket events into an error ack.
Nothing here trusts what a client sent about roles, groups or aliases: it reads the database.

Callers import from this package; the modules split the rules by what they are about and import
downward only: `core` (accounts, roles, memberships, meetings, scheduling) <- `records` (attendance,
incidents), `live` (removed, locked, waiting, muted) <- `posting` (posting rights), `chat` (delete,
whisper); `accounts` (the admin console's account changes, reset codes); `pages` (the links templates
show).
"""

from .accounts import may_issue_reset_code, may_use_recovery_codes, require_account_manager, require_reset_code_issuer
from .chat import require_may_delete_message, require_may_whisper
from .core import (
    STAFF_ROLES,
    Denied,
    can_manage_groups,
    may_moderate,
    meeting_not_found,
    membership_of,
    require_authenticated,
    require_calendar_viewer,
    require_group_in_use,
    require_group_manager,
    require_joinable,
    require_meeting_member,
    require_meeting_moderator,
    require_meeting_open,
    require_profile_editor,
    require_role,
    require_rota_viewer,
    require_rules_accepted,
    require_schedule_planner,
    require_schedule_viewer,
    require_trained_peer_expert,
)
from .live import active_mute, is_removed_from, is_waiting, removed_refusal, require_not_removed, require_unlocked_for
from .pages import PAGE_RULES, can, can_record_training, is_participant, is_staff, require_page
from .posting import PostingFacts, check_can_post, last_chat_at, posting_facts
from .records import (
    ATTENDANCE_COUNTS,
    ATTENDANCE_FULL,
    attendance_access,
    incident_group_ids,
    require_attendance_details,
    require_incident_viewer,
)

__all__ = [
    "ATTENDANCE_COUNTS",
    "ATTENDANCE_FULL",
    "PAGE_RULES",
    "STAFF_ROLES",
    "Denied",
    "PostingFacts",
    "active_mute",
    "attendance_access",
    "can",
    "can_manage_groups",
    "can_record_training",
    "check_can_post",
    "incident_group_ids",
    "is_participant",
    "is_removed_from",
    "is_staff",
    "is_waiting",
    "last_chat_at",
    "may_issue_reset_code",
    "may_moderate",
    "may_use_recovery_codes",
    "meeting_not_found",
    "membership_of",
    "posting_facts",
    "removed_refusal",
    "require_account_manager",
    "require_attendance_details",
    "require_authenticated",
    "require_calendar_viewer",
    "require_group_in_use",
    "require_group_manager",
    "require_incident_viewer",
    "require_joinable",
    "require_may_delete_message",
    "require_may_whisper",
    "require_meeting_member",
    "require_meeting_moderator",
    "require_page",
    "require_meeting_open",
    "require_not_removed",
    "require_profile_editor",
    "require_reset_code_issuer",
    "require_role",
    "require_rota_viewer",
    "require_rules_accepted",
    "require_schedule_planner",
    "require_schedule_viewer",
    "require_trained_peer_expert",
    "require_unlocked_for",
]
