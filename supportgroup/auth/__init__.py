"""Accounts: register, log in and out, change password. Registers Flask-Login's user loader."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..extensions import db, login_manager
from ..models import User

login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please log in to see this page.")
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """`session_id` is "<user id>:<session token>"; a rotated token ends every old session."""
    user_id, _, token = session_id.partition(":")
    if not user_id.isdigit() or not token:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_token != token or not user.is_enabled:
        return None
    return user
