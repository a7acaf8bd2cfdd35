"""The reader's words for the audit log: each action, each kind of object, and the role of who acted.

`labels.label(action)` finds ACTION_LABELS through `labels.py`; the audit page groups its action filter by
ACTION_GROUPS (an action missing there still shows, under "Other"); tests/test_audit_log_page.py checks that
every `AuditAction` has a label, so a new action cannot reach the page as a code.
"""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from .models.audit import AuditAction

A = AuditAction

ACTION_LABELS: dict[AuditAction, LazyString] = {
    A.CREATE_GROUP: _l("Group created"),
    A.EDIT_GROUP: _l("Group changed"),
    A.ARCHIVE_GROUP: _l("Group archived"),
    A.RESTORE_GROUP: _l("Group restored"),
    A.ADD_MEMBER: _l("Participant added"),
    A.APPROVE_REQUEST: _l("Request approved"),
    A.DECLINE_REQUEST: _l("Request declined"),
    A.REMOVE_MEMBER: _l("Member removed from the group"),
    A.BAN_MEMBER: _l("Member banned from the group"),
    A.CLOSE_REFERRAL: _l("Referral closed"),
    A.ASSIGN_MODERATOR: _l("Peer expert assigned"),
    A.CREATE_INVITE: _l("Invite code made"),
    A.REVOKE_INVITE: _l("Invite code withdrawn"),
    A.EDIT_PROFILE: _l("Peer expert profile changed"),
    A.TRAIN_PEER_EXPERT: _l("Training recorded"),
    A.UNTRAIN_PEER_EXPERT: _l("Training withdrawn"),
    A.RECORD_CONFLICT: _l("Keep-apart recorded"),
    A.REMOVE_CONFLICT: _l("Keep-apart removed"),
    A.CREATE_ORGANISATION: _l("Organisation added"),
    A.CREATE_MEETING: _l("Meeting planned"),
    A.CREATE_SERIES: _l("Series planned"),
    A.EDIT_MEETING: _l("Meeting changed"),
    A.EDIT_SERIES_REST: _l("Rest of a series changed"),
    A.CANCEL_MEETING: _l("Meeting cancelled"),
    A.CANCEL_SERIES_REST: _l("Rest of a series cancelled"),
    A.OPEN_MEETING: _l("Meeting opened"),
    A.CLOSE_MEETING: _l("Meeting closed"),
    A.MUTE: _l("Muted"),
    A.UNMUTE: _l("Mute lifted"),
    A.REMOVE_FROM_MEETING: _l("Removed from a meeting"),
    A.DELETE_MESSAGE: _l("Message deleted"),
    A.APPROVE_MESSAGE: _l("Message approved"),
    A.REJECT_MESSAGE: _l("Message rejected"),
    A.SET_SLOW_MODE_SECONDS: _l("Slow mode set"),
    A.SET_PREMODERATION: _l("Pre-moderation switched"),
    A.SET_FLOOR_ONLY: _l("Floor-only switched"),
    A.SET_LOCKED: _l("Meeting locked or unlocked"),
    A.SET_PINNED_SEQ: _l("Message pinned"),
    A.GIVE_FLOOR: _l("Floor given"),
    A.ADMIT: _l("Let in from the waiting room"),
    A.RESOLVE_REPORT: _l("Report handled"),
    A.RESOLVE_ALERT: _l("Alert seen"),
    A.RECORD_INCIDENT: _l("Incident recorded"),
    A.HANDOVER_NOTE: _l("Handover note written"),
    A.SET_ROLE: _l("Role changed"),
    A.ENABLE_USER: _l("Account enabled"),
    A.DISABLE_USER: _l("Account disabled"),
    A.CREATE_ACCOUNT: _l("Account created"),
    A.ISSUE_ACTIVATION: _l("Activation link made"),
    A.ACTIVATE_ACCOUNT: _l("Account activated"),
    A.ISSUE_RESET_CODE: _l("Reset code made"),
    A.RESET_PASSWORD: _l("Password reset with a code"),
    A.NEW_RECOVERY_CODES: _l("New recovery codes"),
    A.ENROL_TWO_FACTOR: _l("Two-factor sign-in set up"),
    A.NEW_BACKUP_CODES: _l("New backup codes"),
    A.RESET_TWO_FACTOR: _l("Two-factor sign-in reset"),
    A.DISABLE_TWO_FACTOR: _l("Two-factor sign-in turned off"),
    A.CHANGE_SETTING: _l("Platform setting changed"),
    A.EDIT_ORGANISATION: _l("Organisation changed"),
    A.LOOKUP_ALIAS: _l("Alias looked up"),
    A.VIEW_INCIDENT: _l("Incident read"),
    A.SEARCH_PEOPLE: _l("People searched"),
    A.LIST_INCIDENTS: _l("Incident list read"),
    A.VIEW_CONFLICTS: _l("Keep-apart list read"),
    A.VIEW_AUDIT_LOG: _l("Audit log read"),
    A.EXPORT_AUDIT_LOG: _l("Audit log downloaded"),
}

# The action filter's option groups, in this order.
ACTION_GROUPS: list[tuple[LazyString, list[AuditAction]]] = [
    (
        _l("Reads of sensitive data"),
        [A.LOOKUP_ALIAS, A.VIEW_INCIDENT, A.LIST_INCIDENTS, A.VIEW_CONFLICTS, A.SEARCH_PEOPLE],
    ),
    (
        _l("Groups and members"),
        [
            A.CREATE_GROUP, A.EDIT_GROUP, A.ARCHIVE_GROUP, A.RESTORE_GROUP, A.ADD_MEMBER, A.APPROVE_REQUEST,
            A.DECLINE_REQUEST, A.REMOVE_MEMBER, A.BAN_MEMBER, A.CLOSE_REFERRAL, A.ASSIGN_MODERATOR,
            A.CREATE_INVITE, A.REVOKE_INVITE, A.RECORD_CONFLICT, A.REMOVE_CONFLICT,
        ],
    ),
    (
        _l("Meetings"),
        [
            A.CREATE_MEETING, A.CREATE_SERIES, A.EDIT_MEETING, A.EDIT_SERIES_REST, A.CANCEL_MEETING,
            A.CANCEL_SERIES_REST, A.OPEN_MEETING, A.CLOSE_MEETING,
        ],
    ),
    (
        _l("Live moderation"),
        [
            A.MUTE, A.UNMUTE, A.REMOVE_FROM_MEETING, A.DELETE_MESSAGE, A.APPROVE_MESSAGE, A.REJECT_MESSAGE,
            A.SET_SLOW_MODE_SECONDS, A.SET_PREMODERATION, A.SET_FLOOR_ONLY, A.SET_LOCKED, A.SET_PINNED_SEQ,
            A.GIVE_FLOOR, A.ADMIT, A.RESOLVE_REPORT,
        ],
    ),
    (_l("Safeguarding"), [A.RESOLVE_ALERT, A.RECORD_INCIDENT, A.HANDOVER_NOTE]),
    (
        _l("Peer experts and organisations"),
        [A.EDIT_PROFILE, A.TRAIN_PEER_EXPERT, A.UNTRAIN_PEER_EXPERT, A.CREATE_ORGANISATION, A.EDIT_ORGANISATION],
    ),
    (
        _l("Accounts and settings"),
        [
            A.CREATE_ACCOUNT, A.ISSUE_ACTIVATION, A.ACTIVATE_ACCOUNT, A.SET_ROLE, A.ENABLE_USER, A.DISABLE_USER,
            A.ISSUE_RESET_CODE, A.RESET_PASSWORD, A.NEW_RECOVERY_CODES, A.ENROL_TWO_FACTOR, A.NEW_BACKUP_CODES,
            A.RESET_TWO_FACTOR, A.DISABLE_TWO_FACTOR, A.CHANGE_SETTING,
        ],
    ),
    (_l("The audit log"), [A.VIEW_AUDIT_LOG, A.EXPORT_AUDIT_LOG]),
]  # fmt: skip

OTHER_ACTIONS = _l("Other")

# `target_type` as stored -> what the object is called on the page.
TARGET_LABELS: dict[str, LazyString] = {
    "group": _l("Group"),
    "meeting": _l("Meeting"),
    "series": _l("Series"),
    "membership": _l("Membership"),
    "user": _l("Account"),
    "invite": _l("Invite code"),
    "incident": _l("Incident"),
    "incidents": _l("Incident list"),
    "conflict": _l("Keep-apart"),
    "conflicts": _l("Keep-apart list"),
    "organisation": _l("Organisation"),
    "handover_note": _l("Handover note"),
    "alert": _l("Alert"),
    "message": _l("Message"),
    "report": _l("Report"),
    "setting": _l("Setting"),
    "audit_log": _l("Audit log"),
}

# `actor_role` as stored -> how a participant is told who looked ("never who").
ROLE_PHRASES: dict[str | None, LazyString] = {
    "coordinator": _l("a coordinator"),
    "admin": _l("an administrator"),
    "peer_expert": _l("a peer expert"),
    "participant": _l("a participant"),
    None: _l("the platform's operators"),
}


def action_groups() -> list[tuple[LazyString, list[AuditAction]]]:
    """ACTION_GROUPS, plus "Other" for any action not placed in one (a new action still shows)."""
    placed = {action for _title, actions in ACTION_GROUPS for action in actions}
    rest = [action for action in AuditAction if action not in placed]
    return [*ACTION_GROUPS, *([(OTHER_ACTIONS, rest)] if rest else [])]


def target_label(target_type: str) -> LazyString | str:
    return TARGET_LABELS.get(target_type, target_type)


def role_phrase(role: str | None) -> LazyString:
    return ROLE_PHRASES.get(role) or _l("someone on the team")
