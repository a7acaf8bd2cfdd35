"""Codes a person is handed by someone else: activation links for new staff, reset codes for a lost password.

No password ever passes through an admin's or coordinator's hands: they hand over a one-time code (shown once,
stored only as a keyed hash by `auth/codes.py`) and its holder chooses their own password with it.

- An activation link (72 h, single use) sets the first password of a staff account made in the console.
- A reset code (24 h, single use) is issued by an admin for any enabled account, or by a coordinator for a
  participant (`permissions.require_reset_code_issuer`); "Forgot password?" spends it while its issuer may still
  give it (the code keeps who issued it). It is given by phone or in person.

Audited: who issued which kind for which account and why, never the code. Services flush, never commit.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l

from ..audit import AuditAction, record
from ..errors import DomainError
from ..extensions import db
from ..models import CodeKind, User
from ..models.types import utcnow
from ..permissions import require_reset_code_issuer
from . import codes
from .accounts import is_awaiting_activation, require_reason
from .passwords import hash_password
from .services import check_password


def _expiry(kind: CodeKind, now: datetime) -> datetime:
    lifetime = codes.LIFETIMES[kind]
    assert lifetime is not None  # activation links and reset codes expire
    return now + lifetime


def issue_activation(
    actor: User | None, user: User, reason: str, *, now: datetime | None = None
) -> tuple[str, datetime]:
    """A new activation link's token for an account awaiting activation (an older link stops working) and when
    it expires."""
    reason = require_reason(reason)
    if not is_awaiting_activation(user):
        raise DomainError(
            "already_activated", _l("This account has a password already. If it is lost, give a reset code instead.")
        )
    if not user.is_enabled:
        raise DomainError("account_disabled", _l("This account is disabled. Enable it first."))
    now = now or utcnow()
    (token,) = codes.issue(user, CodeKind.ACTIVATION, now=now, issued_by=actor)
    record(actor, AuditAction.ISSUE_ACTIVATION, "user", user.id, reason=reason)
    return token, _expiry(CodeKind.ACTIVATION, now)


def activatable(token: str, *, now: datetime | None = None) -> User | None:
    """The account a valid, unspent activation link opens, without spending it (the link's GET)."""
    user = codes.peek_token(CodeKind.ACTIVATION, token, now=now)
    if user is None or not user.is_enabled or not is_awaiting_activation(user):
        return None
    return user


def activate(token: str, password: str, *, now: datetime | None = None) -> User:
    """Spend an activation link and set its account's first password (the same rules as everywhere). The
    password is checked before the link is spent, so a refused password leaves the link working."""
    user = activatable(token, now=now)
    if user is None:
        raise DomainError("activation_link_dead", _l("This link no longer works."))
    check_password(password, user.username)
    spent = codes.spend_token(CodeKind.ACTIVATION, token, now=now)
    if spent is None or spent.id != user.id:  # spent by a request racing this one
        raise DomainError("activation_link_dead", _l("This link no longer works."))
    user.password_hash = hash_password(password)
    user.rotate_session_token()
    record(user, AuditAction.ACTIVATE_ACCOUNT, "user", user.id)
    db.session.flush()
    return user


def issue_reset_code(
    actor: User | None, user: User, reason: str, *, now: datetime | None = None
) -> tuple[str, datetime]:
    """A one-time reset code for `user` (an older one stops working) and when it expires. `actor` None is the CLI."""
    if actor is not None:
        require_reset_code_issuer(actor, user)
    reason = require_reason(reason)
    if is_awaiting_activation(user):
        raise DomainError(
            "awaiting_activation",
            _l("This account has not been activated yet. Make a new activation link instead."),
        )
    if not user.is_enabled:  # "Forgot password?" would refuse it; enabling later must not revive it
        raise DomainError("account_disabled", _l("This account is disabled. Enable it first."))
    now = now or utcnow()
    (code,) = codes.issue(user, CodeKind.RESET, now=now, issued_by=actor)
    record(actor, AuditAction.ISSUE_RESET_CODE, "user", user.id, reason=reason)
    return code, _expiry(CodeKind.RESET, now)
