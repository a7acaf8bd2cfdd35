"""Getting back into an account without e-mail: recovery codes and "Forgot password?".

A participant gets ten recovery codes when registering (and new ones in the settings, for the password). Each
sets a new password once. A reset code, which an admin or a coordinator hands over by phone or in person
(`codes.issue(user, CodeKind.RESET)`, the admin console), does the same on the same page. Codes are stored
only as keyed hashes (`codes.py`); they reach a page once, in the response that made them, never the session
cookie (Flask's cookie is signed, not encrypted).

Every refusal of a recovery is one message: unknown username, disabled account, wrong, used or expired code.
Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from ..audit import AuditAction, record
from ..errors import DomainError
from ..extensions import db
from ..models import CodeKind, User
from ..permissions import may_issue_reset_code, may_use_recovery_codes
from ..usernames import find_user
from . import codes
from .passwords import hash_password, verify_password
from .services import check_password

# At or below this many codes left, the settings and the page after a recovery ask for new ones.
FEW_CODES_LEFT = 3

RECOVERY_REFUSED = _l("The username or the code is not correct, or the code can no longer be used.")

# The kinds "Forgot password?" accepts, in the order tried: a person's own codes first.
_ACCEPTED = (CodeKind.RECOVERY, CodeKind.RESET)
_REASONS = {CodeKind.RECOVERY: "recovery code", CodeKind.RESET: "reset code"}
NO_ACCOUNT = 0  # an id no account has (ids start at 1): an unknown name looks up codes all the same


@dataclass(frozen=True)
class Recovered:
    """A recovery that worked: whose account, which kind of code it spent, how many recovery codes are left."""

    user: User
    used: CodeKind
    codes_left: int


def issue_recovery_codes(user: User, *, reason: str) -> list[str]:
    """A new set of ten recovery codes for `user` (the unspent old ones stop working), in clear text: show them
    once. Audited with the account as actor; `reason` says where (a short label, never a code)."""
    issued = codes.issue(user, CodeKind.RECOVERY)
    record(user, AuditAction.NEW_RECOVERY_CODES, "user", user.id, reason=reason)
    return issued


def replace_recovery_codes(user: User, password: str) -> list[str]:
    """New recovery codes from the settings: only with the account's current password (a device left logged in
    must not be enough to make codes that would open the account later)."""
    if not verify_password(user.password_hash, password or ""):
        raise DomainError("wrong_password", _l("The password is not correct."), field="password")
    return issue_recovery_codes(user, reason="settings")


def codes_left(user: User) -> int:
    return codes.remaining(user, CodeKind.RECOVERY)


def _still_valid(user: User, found: codes.Found) -> bool:
    """Whether `user` may still use this code now. Recovery codes are a participant's own (a participant made staff
    keeps none: staff get a reset code from an admin). A reset code works only while whoever issued it may still
    give that account one (a coordinator's code for a participant dies when the participant becomes staff, or the
    coordinator loses the right); the CLI's (no issuer) always may."""
    if found.kind == CodeKind.RECOVERY:
        return may_use_recovery_codes(user)
    if found.issued_by_user_id is None:
        return True
    return found.issuer is not None and may_issue_reset_code(found.issuer, user)


def recover(username: str, code: str, new_password: str) -> Recovered:
    """Set a new password with a recovery code or a reset code of the account named `username`.

    The new password is checked first: a refused password spends no code. Then one of the account's codes is
    spent (recovery first, then reset); the password changes and the session token rotates, which ends every
    other session and socket (the caller disconnects the sockets after the commit). A reset code still waiting
    is voided too: it was handed over for this. Raises DomainError with one message for every refusal.

    Every refusal costs the same work: the account's row, two keyed hashes and one look-up of codes, also for a
    name no account has (codes of the id 0, which none has) or a disabled one, so the time taken tells nobody
    whether a username exists.
    """
    check_password(new_password, username)
    user = find_user(username)
    found = codes.find_typed(user.id if user is not None else NO_ACCOUNT, _ACCEPTED, code)
    if user is None or not user.is_enabled:
        raise DomainError("recovery_refused", RECOVERY_REFUSED, field="code")
    used = next((one for one in found if _still_valid(user, one)), None)
    if used is None or not codes.spend_found(used):
        raise DomainError("recovery_refused", RECOVERY_REFUSED, field="code")
    codes.discard(user, CodeKind.RESET)
    user.password_hash = hash_password(new_password)
    user.rotate_session_token()
    record(user, AuditAction.RESET_PASSWORD, "user", user.id, reason=_REASONS[used.kind])
    db.session.flush()
    return Recovered(user, used.kind, codes_left(user))
