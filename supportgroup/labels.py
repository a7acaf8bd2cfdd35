"""Translated labels for stored values (kinds, languages, statuses, states). Templates use them via globals."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from .models import GroupKind, MeetingState, MembershipStatus

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


def init_labels(app: Flask) -> None:
    app.jinja_env.globals.update(
        kind_label=lambda kind: KIND_LABELS.get(kind, kind),
        language_label=lambda code: LANGUAGE_LABELS.get(code, code),
        status_label=lambda status: STATUS_LABELS.get(status, status),
        state_label=lambda state: STATE_LABELS.get(state, state),
        source_label=lambda source: SOURCE_LABELS.get(source, source),
    )
