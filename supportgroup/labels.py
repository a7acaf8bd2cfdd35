"""Translated labels for stored values (kinds, languages, roles, statuses, states). One helper for templates:
`label(value)` names any enum member in the reader's language; `label(code, "language")` (or "experience",
"source") names a plain code. A page never shows a stored code: tests/test_labels.py scans the pages for them."""

from __future__ import annotations

import enum
from collections.abc import Iterable

from flask import Flask
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from .audit_labels import ACTION_LABELS
from .models import GroupKind, MeetingState, MembershipRole, MembershipStatus, Role
from .models.audit import AuditAction

KIND_LABELS = {
    GroupKind.SURVIVORS: _l("Survivors"),
    GroupKind.PERPETRATORS: _l("Perpetrators"),
    GroupKind.MIXED: _l("Mixed"),
    GroupKind.OTHER: _l("Other"),
}
LANGUAGE_LABELS = {"nl": _l("Dutch"), "en": _l("English")}
STATUS_LABELS = {
    MembershipStatus.INVITED: _l("Invited"),
    MembershipStatus.PENDING: _l("Asked to join"),
    MembershipStatus.ACTIVE: _l("Active"),
    MembershipStatus.WAITLISTED: _l("On the waitlist"),
    MembershipStatus.LEFT: _l("Left"),
    MembershipStatus.REMOVED: _l("Removed"),
    MembershipStatus.BANNED: _l("Banned"),
}
SOURCE_LABELS = {
    "invite": _l("Invite code"),
    "referral": _l("Referral"),
    "request": _l("Own request"),
}
STATE_LABELS = {
    MeetingState.SCHEDULED: _l("Not open yet"),
    MeetingState.OPEN: _l("Open"),
    MeetingState.CLOSED: _l("Closed"),
    MeetingState.CANCELLED: _l("Cancelled"),
}
ROLE_LABELS = {
    Role.PARTICIPANT: _l("Participant"),
    Role.PEER_EXPERT: _l("Peer expert"),
    Role.COORDINATOR: _l("Coordinator"),
    Role.ADMIN: _l("Administrator"),
}
MEMBERSHIP_ROLE_LABELS = {
    MembershipRole.PARTICIPANT: _l("Participant"),
    MembershipRole.MODERATOR: _l("Peer expert"),
}
EXPERIENCE_LABELS = {
    "survivor": _l("Survivor of domestic violence"),
    "former_perpetrator": _l("Former perpetrator"),
    "child_witness": _l("Grew up with violence at home"),
    "addiction": _l("Addiction"),
    "other": _l("Other"),
}

_BY_ENUM: dict[type, dict] = {
    GroupKind: KIND_LABELS,
    MembershipStatus: STATUS_LABELS,
    MeetingState: STATE_LABELS,
    Role: ROLE_LABELS,
    MembershipRole: MEMBERSHIP_ROLE_LABELS,
    AuditAction: ACTION_LABELS,
}
_BY_NAME: dict[str, dict] = {
    "kind": KIND_LABELS,
    "language": LANGUAGE_LABELS,
    "status": STATUS_LABELS,
    "state": STATE_LABELS,
    "source": SOURCE_LABELS,
    "role": ROLE_LABELS,
    "experience": EXPERIENCE_LABELS,
}


def label(value: object, of: str | None = None) -> LazyString | str:
    """The reader's word for a stored value: an enum member by its type, a plain code by `of` ("language", ...).
    An unknown value shows as itself (never an error page), and a test catches it."""
    if value is None:
        return ""
    table = _BY_NAME[of] if of is not None else _BY_ENUM.get(type(value), {})
    found = table.get(value)
    if found is None and isinstance(value, enum.Enum):
        found = table.get(value.value)
    return found if found is not None else str(getattr(value, "value", value))


def labels(values: Iterable[object], of: str | None = None) -> str:
    """Several labels joined with ", " (a peer expert's languages, kinds of experience)."""
    return ", ".join(str(label(v, of)) for v in values or ())


def init_labels(app: Flask) -> None:
    app.jinja_env.globals.update(
        label=label,
        labels=labels,
        kind_label=lambda kind: label(kind, "kind"),
        language_label=lambda code: label(code, "language"),
        status_label=lambda status: label(status, "status"),
        state_label=lambda state: label(state, "state"),
        source_label=lambda source: label(source, "source"),
    )
