"""The personal calendar feed's secret address (turned on, renewed, off, the account a token names), and the
reminder its calendar files carry."""

from __future__ import annotations

import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import User

# The reminders a person may choose, in minutes before the meeting (None: no reminder).
ALARM_MINUTES: tuple[int, ...] = (15, 60, 24 * 60)


def enable_feed(user: User) -> str:
    """Turn the feed on (keeping an existing address)."""
    if user.calendar_token is None:
        user.calendar_token = secrets.token_urlsafe(32)
    db.session.flush()
    return user.calendar_token


def renew_feed(user: User) -> str:
    """Revoke the current address by drawing a new secret: the old URL stops working at once."""
    user.calendar_token = secrets.token_urlsafe(32)
    db.session.flush()
    return user.calendar_token


def disable_feed(user: User) -> None:
    user.calendar_token = None
    db.session.flush()


# What secrets.token_urlsafe(32) draws: 43 characters of the URL-safe base64 alphabet.
FEED_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{32,64}")


def user_for_feed(token: str) -> User | None:
    """The enabled account whose feed secret is exactly `token` (a unique-index look-up), else None."""
    if not FEED_TOKEN_RE.fullmatch(token):
        return None
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    if user is None or user.calendar_token is None or not user.is_enabled:
        return None
    if not secrets.compare_digest(user.calendar_token, token):
        return None
    return user


def set_alarm(user: User, minutes: int | None) -> None:
    """The reminder in this person's calendar files: None, or one of ALARM_MINUTES before the meeting."""
    if minutes is not None and minutes not in ALARM_MINUTES:
        raise DomainError("unknown_alarm", _l("Choose one of the reminders in the list."), field="alarm")
    user.calendar_alarm_minutes = minutes
    db.session.flush()
