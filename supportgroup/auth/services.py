"""Account rules. Services change models and flush; the caller commits."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..extensions import db
from ..models import PeerExpertProfile, Role, User
from ..usernames import find_user, normalise_username
from .passwords import hash_password, needs_rehash, verify_password

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
PASSWORD_MIN = 10
PASSWORD_MAX = 128


def check_username(username: str) -> str:
    name = normalise_username(username)
    if not USERNAME_RE.fullmatch(name):
        raise DomainError(
            "invalid_username",
            _l("Use 3 to 32 letters, digits, dots, dashes or underscores, starting with a letter or digit."),
            field="username",
        )
    return name


def check_password(password: str, username: str) -> None:
    if not (PASSWORD_MIN <= len(password) <= PASSWORD_MAX):
        raise DomainError("password_length", _l("Use between 10 and 128 characters."), field="password")
    if normalise_username(username) and normalise_username(username) in password.lower():
        raise DomainError(
            "password_contains_username", _l("Your password must not contain your username."), field="password"
        )


def create_user(
    username: str, password: str, role: Role = Role.PARTICIPANT, *, first_name: str | None = None, trained: bool = False
) -> User:
    """Create an account (and a peer-expert profile for peer experts). Raises DomainError."""
    name = check_username(username)
    check_password(password, name)
    if find_user(name) is not None:
        raise DomainError("username_taken", _l("This username is taken. Please choose another."), field="username")
    shown_name = (first_name or "").strip()
    if role == Role.PEER_EXPERT and not shown_name:
        # Never derive it from the username: participants see this name.
        raise DomainError(
            "first_name_required", _l("A peer expert needs a first name to show to their groups."), field="first_name"
        )
    user = User(username=name, password_hash=hash_password(password), role=role)
    db.session.add(user)
    if role == Role.PEER_EXPERT:
        user.profile = PeerExpertProfile(first_name=shown_name[:40], trained=trained)
    db.session.flush()
    return user


def authenticate(username: str, password: str) -> User | None:
    """The user for these credentials, or None; costs the same whether or not the username exists."""
    user = find_user(username)
    ok = verify_password(user.password_hash if user else None, password or "")
    if not ok or user is None or not user.is_enabled:
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(user: User, current: str, new: str) -> None:
    if not verify_password(user.password_hash, current or ""):
        raise DomainError("wrong_password", _l("Your current password is not correct."), field="current_password")
    check_password(new, user.username)
    user.password_hash = hash_password(new)
    # Every other session and socket of this user ends now.
    user.rotate_session_token()
    db.session.flush()


def update_settings(user: User, timezone: str, locale: str | None) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(
            "unknown_timezone", _l("Unknown timezone. Use a name like Europe/Amsterdam."), field="timezone"
        ) from None
    user.timezone = timezone
    user.locale = locale or None
    db.session.flush()
