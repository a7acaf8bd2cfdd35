"""Finding an account by its username: below every feature, so that groups (adding a member, pairing peer
experts) and auth (sign-up, account admin) both look people up without importing each other."""

from __future__ import annotations

from sqlalchemy import select

from .extensions import db
from .models import User


def normalise_username(username: str) -> str:
    return (username or "").strip().lower()


def find_user(username: str) -> User | None:
    return db.session.scalar(select(User).where(User.username == normalise_username(username)))
