"""Account changes an admin makes in the console (`admin/`) and an operator makes with the CLI
(`auth/account_admin.py`): staff accounts, roles, disabling and enabling. One service for both edges.

Each change takes the `actor` (None: the CLI, an operator on the server) and the `reason` they stated, audits
both and flushes; the edge commits, then takes away the rooms a lost right carried
(`realtime.rooms.revoke_rooms`: for a disabled account every socket, its user room too). Disabling also draws a
new session token, so every web session of the account ends at its next request.

Nobody may lock the platform out of its own administration: an admin cannot demote or disable themselves, and
the last admin who can sign in (enabled, activated) can be neither demoted nor disabled (by anyone, the CLI
included) nor erase their own account (`auth/data.py`).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from .. import rule_scopes
from ..audit import AuditAction, record
from ..errors import DomainError
from ..extensions import db
from ..models import CodeKind, PeerExpertProfile, Role, User
from ..two_factor import two_factor_required
from ..usernames import find_user
from . import codes
from .passwords import UNUSABLE_HASH, is_unusable
from .services import check_username

STAFF_ROLES_TO_CREATE = (Role.PEER_EXPERT, Role.COORDINATOR, Role.ADMIN)
FIRST_NAME_MAX = 40


def is_awaiting_activation(user: User) -> bool:
    """A staff account made in the console whose holder has not set a password yet (through their link)."""
    return is_unusable(user.password_hash)


def require_reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise DomainError("reason_required", _l("Please give a reason: it is kept in the audit log."), field="reason")
    return text


def _first_name(first_name: str | None) -> str:
    name = (first_name or "").strip()
    if not name:
        # Never derived from the username: participants see this name.
        raise DomainError(
            "first_name_required", _l("A peer expert needs a first name to show to their groups."), field="first_name"
        )
    if len(name) > FIRST_NAME_MAX:
        raise DomainError("first_name_too_long", _l("Use at most 40 characters."), field="first_name")
    return name


def create_staff(actor: User, username: str, role: Role, first_name: str | None) -> User:
    """A peer expert, coordinator or admin account with no password: its holder sets one through the activation
    link (`issued_codes.issue_activation`). A peer expert gets their profile, untrained: the coordinators record
    training in the pool."""
    if role not in STAFF_ROLES_TO_CREATE:
        raise DomainError("not_a_staff_role", _l("Choose peer expert, coordinator or administrator."), field="role")
    name = check_username(username)
    if find_user(name) is not None:
        raise DomainError("username_taken", _l("This username is taken. Please choose another."), field="username")
    shown_name = _first_name(first_name) if role == Role.PEER_EXPERT else None
    user = User(username=name, password_hash=UNUSABLE_HASH, role=role)
    db.session.add(user)
    if shown_name is not None:
        user.profile = PeerExpertProfile(first_name=shown_name, trained=False)
    db.session.flush()
    record(actor, AuditAction.CREATE_ACCOUNT, "user", user.id, reason=role.value)
    return user


def keep_an_admin(user: User) -> None:
    """Refuse when `user` is the last admin who can sign in: enabled, with a password (an admin still awaiting
    activation administers nothing yet). Called before demoting, disabling or erasing `user`.

    The count must hold until the commit. PostgreSQL: every enabled admin's row is locked, in the order of their
    ids, before they are counted. Two admins demoting each other at once then queue on the same first row; the one
    that waited reads the other's committed change (PostgreSQL re-checks a locked row's conditions after the wait)
    and is refused. (Locking only the *other* admins' rows let each transaction hold one row and wait for the
    other's in its UPDATE: a deadlock, which PostgreSQL ends by failing one of them with an error.) SQLite has no
    row locks and reads outside a transaction until its first write: a write that changes nothing takes its one
    write lock first, so the second admin's count waits for the first's commit (as `scheduling.changes.lock_series`).
    """
    if user.role != Role.ADMIN or not user.is_enabled or is_awaiting_activation(user):
        return
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(id=User.id)
            .execution_options(synchronize_session=False, **rule_scopes.touching(users=[user.id]))
        )
    admins = db.session.execute(
        select(User.id, User.password_hash)
        .where(User.role == Role.ADMIN, User.is_enabled.is_(True))
        .order_by(User.id)
        .with_for_update()
    ).all()
    if not any(row.id != user.id and not is_unusable(row.password_hash) for row in admins):
        raise DomainError("last_admin", _l("This is the last administrator. Make another account administrator first."))


def _not_yourself(actor: User | None, user: User, message) -> None:
    if actor is not None and actor.id == user.id:
        raise DomainError("own_account", message)


# The codes that open an account without its password: void when its role changes or it is disabled, so none
# outlives the rights it was issued under (a coordinator's reset code for a participant made admin since; a
# participant's recovery codes after a promotion; a reset code revived by enabling the account again).
CODES_VOIDED_BY_A_CHANGE = (CodeKind.RESET, CodeKind.RECOVERY, CodeKind.ACTIVATION)


def _void_codes(user: User) -> None:
    for kind in CODES_VOIDED_BY_A_CHANGE:
        codes.discard(user, kind)


def set_role(actor: User | None, user: User, role: Role, reason: str, *, first_name: str | None = None) -> bool:
    """Give `user` another role. Becoming a peer expert needs the first name their groups will see (kept from an
    earlier profile when there is one); the profile, with its training record, stays when the role goes. The
    account's reset, recovery and activation codes are voided (`CODES_VOIDED_BY_A_CHANGE`).

    Returns True when every session of the account ended (a new session token): the new role needs a second
    factor the old one did not (a participant or peer expert made coordinator or admin), and no session or socket
    opened with the password alone may go on with the new rights. The edge then ends the account's sockets in
    every process (`realtime.rooms.disconnect_user`); the person logs in again and gives (or sets up) the code."""
    reason = require_reason(reason)
    _not_yourself(actor, user, _l("You cannot change your own role. Ask another administrator."))
    if role == user.role:
        raise DomainError("same_role", _l("The account has this role already."), field="role")
    if role != Role.ADMIN:
        keep_an_admin(user)
    if role == Role.PEER_EXPERT:
        if user.profile is None:
            user.profile = PeerExpertProfile(first_name=_first_name(first_name), trained=False)
        elif (first_name or "").strip():
            user.profile.first_name = _first_name(first_name)
    record(actor, AuditAction.SET_ROLE, "user", user.id, reason=f"{user.role.value} -> {role.value}: {reason}")
    second_factor_before = two_factor_required(user)
    user.role = role
    _void_codes(user)
    sessions_end = two_factor_required(user) and not second_factor_before
    if sessions_end:
        user.rotate_session_token()
    db.session.flush()
    return sessions_end


def set_enabled(actor: User | None, user: User, enabled: bool, reason: str) -> None:
    """Disable or enable an account. Disabling also ends every web session (a new session token) and voids the
    codes that would open it (`CODES_VOIDED_BY_A_CHANGE`); the edge then ends its sockets in every process
    (`revoke_rooms`)."""
    reason = require_reason(reason)
    if user.is_enabled == enabled:
        message = _l("The account is enabled already.") if enabled else _l("The account is disabled already.")
        raise DomainError("unchanged", message)
    if not enabled:
        _not_yourself(actor, user, _l("You cannot disable your own account. Ask another administrator."))
        keep_an_admin(user)
    record(actor, AuditAction.ENABLE_USER if enabled else AuditAction.DISABLE_USER, "user", user.id, reason=reason)
    user.is_enabled = enabled
    if not enabled:
        user.rotate_session_token()
        _void_codes(user)
    db.session.flush()
