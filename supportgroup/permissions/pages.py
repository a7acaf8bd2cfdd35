"""Role rules for pages and templates.

Which links and parts of a page an account is shown. They only show or hide: the route behind a link checks
its own rule. Templates ask `can("see_pool")` (home.py's context processor binds the current user);
a name that is not in PAGE_RULES raises, so a typo in a template is an error, not a link hidden for good.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from ..models import Membership, MembershipRole, Role, User
from .core import STAFF_ROLES, Denied


def is_staff(user) -> bool:
    """Coordinators and admins."""
    return bool(user and user.is_authenticated and user.role in STAFF_ROLES)


def can_record_training(user) -> bool:
    """Only coordinators and admins record a peer expert's training (the profile form's training fields)."""
    return is_staff(user)


def is_participant(membership: Membership) -> bool:
    """A participant's membership (an alias, house rules to accept, a place to leave), not a moderator's."""
    return membership.role == MembershipRole.PARTICIPANT


def _role_in(*roles: Role) -> Callable[[User | None], bool]:
    def rule(user: User | None) -> bool:
        return bool(user and user.is_authenticated and user.role in roles)

    return rule


PAGE_RULES: dict[str, Callable[[User | None], bool]] = {
    "see_overview": is_staff,  # the dashboard is the platform's overview (else the account's own groups)
    "see_my_meetings": _role_in(Role.PARTICIPANT),
    "join_groups": _role_in(Role.PARTICIPANT),
    # participants' own way back in (auth/recovery.py); staff get a reset code from an admin instead
    "keep_recovery_codes": _role_in(Role.PARTICIPANT),
    "see_own_alias_lookups": _role_in(Role.PARTICIPANT),  # only participants take part under an alias
    "see_rota": _role_in(Role.PEER_EXPERT),
    "edit_own_profile": _role_in(Role.PEER_EXPERT),
    "manage_groups": is_staff,
    "see_calendar": is_staff,
    "see_pool": is_staff,
    "keep_apart": is_staff,
    "manage_organisations": is_staff,
    # the admin console (`admin/`): accounts and platform settings are the admin's; coordinators read the
    # audit log and issue reset codes to participants
    "use_admin_console": lambda user: can(user, "manage_accounts") or can(user, "read_audit_log"),
    "manage_accounts": _role_in(Role.ADMIN),
    "change_settings": _role_in(Role.ADMIN),
    "read_audit_log": is_staff,
    "issue_reset_codes": is_staff,  # coordinators for participants only (permissions.require_reset_code_issuer)
}


def can(user: User | None, action: str) -> bool:
    """May `user` be shown the link or page part named `action` (a key of PAGE_RULES; KeyError if none)?"""
    return PAGE_RULES[action](user)


def require_page(user: User | None, action: str) -> User:
    """The route's own check for a page whose rule is PAGE_RULES[action]: the user, or Denied."""
    if not can(user, action):
        raise Denied("forbidden", _l("You do not have access to this page."))
    assert user is not None
    return user
