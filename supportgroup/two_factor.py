"""Two-factor sign-in's rules: who must pass a second factor (TOTP, RFC 6238), and whether this session has.

One module below the features, so that both edges ask the same question: every HTTP request
(`auth/two_factor_gate.py`) and every socket `connect` (`realtime/connection.py`). The codes themselves, the
enrolment and the admin's reset are `auth/totp.py`.

A session has passed when its Flask session carries the marker `PASSED_KEY`, set only after a correct code, and
the marker names the account's current session token (`User.get_id()`): rotating the token (logout, quick exit,
a password change, an admin's reset) voids every marker with every session. A session restored from the
remember cookie starts without the marker, so "Keep me logged in" spares the password, never the code.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import current_app, session

from . import platform_settings
from .models import Role

PASSED_KEY = "_2fa_passed"
ALWAYS_REQUIRED = frozenset({Role.COORDINATOR, Role.ADMIN})
MAY_ENROL = frozenset({Role.PEER_EXPERT, Role.COORDINATOR, Role.ADMIN})


def deferred() -> bool:
    """The development demo lets staff log in with the password alone (config `TWO_FACTOR_DEFERRED`)."""
    return bool(current_app.config.get("TWO_FACTOR_DEFERRED"))


def is_enrolled(user: Any) -> bool:
    """A confirmed second factor: a secret whose first code was accepted (a secret alone is an enrolment under way)."""
    return user.totp_secret is not None and user.totp_enabled_at is not None


def may_enrol(user: Any) -> bool:
    """Staff accounts have a second factor; participants never."""
    return user.role in MAY_ENROL


def required_by_role(user: Any) -> bool:
    """Must this account have a second factor, whatever it chose: coordinators and admins always, peer experts
    when the platform setting says so."""
    if user.role in ALWAYS_REQUIRED:
        return True
    return user.role == Role.PEER_EXPERT and bool(platform_settings.get(platform_settings.TWO_FACTOR_PEER_EXPERTS))


def two_factor_required(user: Any) -> bool:
    """Must this account pass a second factor to be signed in? Coordinators and admins always; a peer expert when
    the platform requires it or when they enrolled by choice; participants never; nobody while deferred."""
    if user is None or not user.is_authenticated or deferred() or not may_enrol(user):
        return False
    if user.role == Role.PEER_EXPERT and is_enrolled(user):
        return True  # chosen: asked like anyone required (no settings query)
    return required_by_role(user)


def may_turn_off(user: Any) -> bool:
    """Only a peer expert who chose a second factor may drop it; when it is required, only an admin's reset can."""
    return is_enrolled(user) and user.role == Role.PEER_EXPERT and not required_by_role(user)


def mark_passed(user: Any) -> None:
    """This session passed the second factor (call only after a correct code)."""
    session[PASSED_KEY] = user.get_id()


def keep_passed(user: Any) -> None:
    """A route that starts a new session for an account already signed in (a password change rotates the session
    token) carries the second factor over. Only behind the gate, which let this session through: required now means
    it passed. An account that needs none gets no marker (it would count should the requirement come later)."""
    if two_factor_required(user):
        mark_passed(user)


def forget_passed() -> None:
    """The second factor was turned off: should it be required again later, this session must give a code."""
    session.pop(PASSED_KEY, None)


def has_passed(user: Any) -> bool:
    marker = session.get(PASSED_KEY)
    return isinstance(marker, str) and hmac.compare_digest(marker, user.get_id())


def second_factor_due(user: Any) -> bool:
    """Signed in with the password, but the code this account needs is still missing: the session reaches nothing
    of the account but the second step (or enrolment), logout and quick exit."""
    return two_factor_required(user) and not has_passed(user)
