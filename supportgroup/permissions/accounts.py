"""Who may change whose account: the admin console's accounts pages, reset codes and the operators' CLI.

An admin manages every account. A coordinator may hand a participant a reset code (a participant who forgot
their password phones their coordinator), never a staff member's: that would let a coordinator take over an
account with more rights than a participant's. Checked here, in the service's path, not only by hiding a form.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..models import Role, User
from .core import Denied, require_authenticated


def require_account_manager(user) -> User:
    """Admins: the accounts list, creating staff, roles, disabling and enabling, any reset code."""
    require_authenticated(user)
    if user.role != Role.ADMIN:
        raise Denied("forbidden", _l("You do not have access to this page."))
    return user


def may_use_recovery_codes(user: User) -> bool:
    """Recovery codes are a participant's own way back in; staff get a reset code from an admin instead (a code
    kept from a participant's days must not open a staff account)."""
    return user.role == Role.PARTICIPANT


def may_issue_reset_code(actor, target: User) -> bool:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    return actor.role == Role.ADMIN or (actor.role == Role.COORDINATOR and target.role == Role.PARTICIPANT)


def require_reset_code_issuer(actor, target: User) -> User:
    """An admin for any account; a coordinator for participants only (a clear refusal otherwise)."""
    require_authenticated(actor)
    if actor.role not in (Role.ADMIN, Role.COORDINATOR):
        raise Denied("forbidden", _l("You do not have permission to do that."))
    if not may_issue_reset_code(actor, target):
        raise Denied(
            "reset_code_participants_only",
            _l("Coordinators can give reset codes to participants only. Ask an administrator for this account."),
        )
    return actor
