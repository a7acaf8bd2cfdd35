"""Two-factor sign-in's services: enrolment, checking a code, backup codes, turning it off, an admin's reset.

The codes are TOTP (RFC 6238, pyotp: SHA-1, 6 digits, 30-second steps, what every authenticator app speaks).
A code is accepted once: the step of the last accepted code is kept (`User.totp_last_step`, RFC 6238 §5.2) and
only a later step is accepted, in one `UPDATE ... WHERE totp_last_step < step`, so two requests racing with the
same code pass once. One step of clock drift either way is allowed (§5.2 recommends at most one).

The secret is stored as pyotp needs it (base32), not encrypted. Encrypting it with a key derived from
`SECRET_KEY` would help only against a copy of the database without the environment, and the library to do it
well (`cryptography`) is not among our requirements; a home-made cipher would be worse than none. A stolen
secret alone does not sign anyone in: the password (argon2id) is still needed. The secret stays on the server
until the first code confirms it (an enrolment under way is a secret without `totp_enabled_at`).

Backup codes are `auth/codes.py`'s BACKUP kind: ten, each once, stored as keyed hashes. Services flush, never
commit; the routes commit at the edge and end sockets after a reset.
"""

from __future__ import annotations

import hmac
import time

import pyotp
import segno
from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import or_, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import rule_scopes
from ..audit import AuditAction, record
from ..errors import DomainError
from ..extensions import db
from ..models import CodeKind, User
from ..models.types import utcnow
from ..two_factor import is_enrolled, may_enrol, may_turn_off
from . import codes
from .accounts import require_reason

DIGITS = 6
DRIFT_STEPS = 1


def clock() -> float:
    """Now, in Unix seconds: the time the codes are checked against (tests move it on instead of waiting)."""
    return time.time()


def wrong_code() -> DomainError:
    """One answer for every code refused (wrong, used, too old, not a code): it tells a guesser nothing."""
    return DomainError("wrong_code", _l("That code is not correct. Check it and try again."), "code")


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS)


# --- enrolment ----------------------------------------------------------------------------------------------


def start_enrolment(user: User) -> str:
    """The secret of `user`'s enrolment under way, drawn now if there is none (a reload keeps the QR code the
    person may already have scanned). Refused for an account that is enrolled or may not have a second factor."""
    if not may_enrol(user):
        raise DomainError("forbidden", _l("Two-factor sign-in is for staff accounts."))
    if is_enrolled(user):
        raise DomainError("already_enrolled", _l("Two-factor sign-in is already set up for this account."))
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()  # 32 characters: 160 bits, as RFC 4226 recommends
        user.totp_last_step = None
        db.session.flush()
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    """The `otpauth://` address an authenticator app reads from the QR code."""
    return _totp(secret).provisioning_uri(name=user.username, issuer_name=current_app.config["TWO_FACTOR_ISSUER"])


def qr_svg(uri: str, title: str) -> Markup:
    """The QR code of `uri` as an inline SVG (segno, drawn here: nothing is loaded from elsewhere). Black on white
    with the standard quiet zone, so a camera reads it in a dark theme too; sized by CSS (`.qr`)."""
    svg = segno.make(uri, error="m").svg_inline(scale=1, omitsize=True, svgclass="qr", title=title, light="#fff")
    return Markup(svg)  # our own drawing of our own address: no person's text in it


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(user: User, code: str, *, now: float | None = None) -> list[str]:
    """The first code confirms the secret: enrolled, ten backup codes issued (returned, shown once), audited."""
    if user.totp_secret is None or is_enrolled(user):
        raise DomainError("no_enrolment", _l("Start the set-up again: open the page anew."))
    if not check_totp(user, code, now=now):
        raise wrong_code()
    user.totp_enabled_at = utcnow()
    backup = codes.issue(user, CodeKind.BACKUP)
    record(user, AuditAction.ENROL_TWO_FACTOR, "user", user.id)
    db.session.flush()
    return backup


# --- checking a code ----------------------------------------------------------------------------------------


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch not in " -\t")


def check_totp(user: User, code: str, *, now: float | None = None) -> bool:
    """Accept `code` if it is the authenticator's code of the current step or one step either side, and of a
    later step than the last accepted one; then that step is spent. Flushes nothing else."""
    typed = _digits(code)
    secret = user.totp_secret
    if secret is None or len(typed) != DIGITS or not typed.isdigit():
        return False
    totp = _totp(secret)
    current = totp.timecode(clock() if now is None else now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(typed, totp.generate_otp(step)):
            return _spend_step(user, step)
    return False


def _spend_step(user: User, step: int) -> bool:
    """Record `step` as used unless another request used it (or a later one) first."""
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False, **rule_scopes.touching(users=[user.id]))
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def verify(user: User, code: str, *, now: float | None = None) -> str | None:
    """The second step of signing in: "totp" for an authenticator code, "backup" for a backup code (now spent),
    None for anything else. Six digits are an authenticator code; anything longer may be a backup code."""
    if not is_enrolled(user) or not code or len(code) > 64:
        return None
    if len(_digits(code)) == DIGITS:
        return "totp" if check_totp(user, code, now=now) else None
    return "backup" if codes.spend(user, CodeKind.BACKUP, code) else None


# --- afterwards: new backup codes, turning it off, an admin's reset -----------------------------------------


def new_backup_codes(user: User, code: str, *, now: float | None = None) -> list[str]:
    """A new set of ten backup codes for a current authenticator code; the old unspent ones stop working."""
    if not is_enrolled(user):
        raise DomainError("not_enrolled", _l("Two-factor sign-in is not set up for this account."))
    if not check_totp(user, code, now=now):
        raise wrong_code()
    backup = codes.issue(user, CodeKind.BACKUP)
    record(user, AuditAction.NEW_BACKUP_CODES, "user", user.id)
    return backup


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    codes.discard(user, CodeKind.BACKUP)


def turn_off(user: User, code: str, *, now: float | None = None) -> None:
    """A peer expert who chose a second factor drops it, with a current code (or a backup code)."""
    if not may_turn_off(user):
        raise DomainError("two_factor_required", _l("Two-factor sign-in is required for your account."))
    if verify(user, code, now=now) is None:
        raise wrong_code()
    _clear(user)
    record(user, AuditAction.DISABLE_TWO_FACTOR, "user", user.id)
    db.session.flush()


def reset(actor: User | None, user: User, reason: str) -> None:
    """An admin (or the CLI, `actor` None) clears a lost second factor: secret and backup codes gone, every session
    of the account ended (a new session token; the edge disconnects its sockets), audited with the reason. The
    person enrols again at the next login. Nobody resets their own: a session that could would make the second
    factor worth nothing (another admin, or the CLI on the server, helps)."""
    reason = require_reason(reason)
    if actor is not None and actor.id == user.id:
        raise DomainError("own_account", _l("You cannot reset your own two-factor sign-in. Ask another administrator."))
    if user.totp_secret is None and codes.remaining(user, CodeKind.BACKUP) == 0:
        raise DomainError("not_enrolled", _l("This account has no second factor to reset."))
    _clear(user)
    user.rotate_session_token()
    record(actor, AuditAction.RESET_TWO_FACTOR, "user", user.id, reason=reason)
    db.session.flush()
