"""The personal calendar feed's secret address: turned on, renewed, off, and the account a token names."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select

from ..extensions import db
from ..models import User


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
