"""How one audit row reads on the page: who (with the role they had then), which object (a link where a
page for it exists), and the reason (a stored code among reasons, such as a role, in the reader's words)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _

from ..audit_labels import target_label
from ..labels import label
from ..models import Role
from ..models.audit import AuditAction
from .audit_log import AuditRow

# target_type -> (endpoint, its argument): the page that shows such an object to coordinators and admins.
# An endpoint this app does not have (yet) gives no link.
TARGET_PAGES: dict[str, tuple[str, str]] = {
    "group": ("groups.detail", "group_id"),
    "meeting": ("attendance.meeting", "meeting_id"),
    "membership": ("attendance.member", "membership_id"),
    "incident": ("incidents.show", "incident_id"),
    "user": ("admin.account", "user_id"),
}


@dataclass(frozen=True)
class Actor:
    name: str
    role: str  # translated, "" when unknown
    kind: str  # "account", "erased" or "system": a CSS and test hook


def actor(row: AuditRow) -> Actor:
    role = str(label(Role(row.actor_role))) if row.actor_role and row.actor_role in Role._value2member_map_ else ""
    if row.actor_username is not None:
        return Actor(row.actor_username, role, "account")
    if row.actor_pseudonym is not None:
        return Actor(_("erased account %(code)s", code=row.actor_pseudonym[:8]), role, "erased")
    return Actor(_("system (CLI)"), "", "system")


def target_url(row: AuditRow) -> str | None:
    page = TARGET_PAGES.get(row.target_type)
    if page is None or page[0] not in current_app.view_functions or not row.target_id.isdigit():
        return None
    endpoint, argument = page
    values: dict[str, Any] = {argument: int(row.target_id)}
    return url_for(endpoint, **values)


def target_text(row: AuditRow) -> str:
    """ "Membership #12", "Keep-apart #3-7"; a list or the log itself by its name alone ("all", "page")."""
    if row.target_id[:1].isdigit():
        return f"{target_label(row.target_type)} #{row.target_id}"
    return str(target_label(row.target_type))


def reason_text(row: AuditRow) -> str:
    """The stored reason; where the code itself wrote a code there (a role, a kind of search), its label."""
    if row.action == AuditAction.SEARCH_PEOPLE and row.reason in ("participant", "peer_expert"):
        return str(label(Role(row.reason)))
    if row.action == AuditAction.SET_ROLE and " -> " in row.reason:
        before, _sep, after = row.reason.partition(" -> ")
        if before in Role._value2member_map_ and after in Role._value2member_map_:
            return f"{label(Role(before))} → {label(Role(after))}"
    return row.reason
