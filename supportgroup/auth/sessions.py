"""Starting a session and limiting failed attempts: shared by logging in, registering, recovering and activating.

Every page that ends in "you are now logged in" starts a fresh session the same way (nothing carried over from
whoever used the browser before but the chosen language), and every page that checks a secret counts only its
failures against the login limits. Two-factor sign-in still applies to a session started here: its gate
(`two_factor_gate.py`) stops a staff session that has not given its code, whatever page started it.
"""

from __future__ import annotations

from flask import current_app, session
from flask_login import login_user

from ..edge import committing
from ..models import User
from .idle import mark_active


def login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def failed(response) -> bool:
    """A form that checks a secret succeeded when it redirects: only failures count against the limits."""
    return response.status_code != 302


def fresh_session() -> None:
    """Empty the session, keeping only the chosen language."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def start_session(user: User, *, remember: bool = False) -> None:
    """Log `user` in on a fresh session (committed: logging in stamps the account's last activity)."""
    fresh_session()
    with committing():
        login_user(user, remember=remember)
        mark_active()
