"""Idle timeout: a session unused for IDLE_TIMEOUT_MINUTES ends, on the server's clock.

The session cookie has no expiry date (it ends with the browser); this adds a limit for a device that
stays open, such as a shared computer left behind.
"""
from __future__ import annotations

import time

from flask import Flask, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user, user_loaded_from_cookie

LAST_SEEN = "sg_seen"
# Refresh the stamp at most once a minute, so not every request rewrites the cookie.
REFRESH_SECONDS = 60


def mark_active() -> None:
    session[LAST_SEEN] = int(time.time())


def session_is_idle() -> bool:
    """Has this session been unused for longer than the idle timeout? (Also checked at socket connect.)"""
    seen = session.get(LAST_SEEN)
    return seen is None or int(time.time()) - seen > current_app.config["IDLE_TIMEOUT_MINUTES"] * 60


def _restored_from_cookie(_app, user) -> None:
    """"Keep me logged in": a session restored from the remember cookie starts active, not idle."""
    mark_active()


def init_idle_timeout(app: Flask) -> None:
    user_loaded_from_cookie.connect(_restored_from_cookie, app)

    @app.before_request
    def end_idle_session():
        if request.endpoint in ("static", "auth.login") or not current_user.is_authenticated:
            return None
        now = int(time.time())
        seen = session.get(LAST_SEEN)
        if session_is_idle():
            logout_user()
            session.clear()
            session["_remember"] = "clear"  # Flask-Login then deletes the remember cookie too
            flash(_("You were logged out because you were away for a while."), "info")
            return redirect(url_for("auth.login"))
        if now - seen >= REFRESH_SECONDS:
            session[LAST_SEEN] = now
        return None
