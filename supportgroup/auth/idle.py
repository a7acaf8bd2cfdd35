"""Idle timeout: a session unused for IDLE_TIMEOUT_MINUTES ends, on the server's clock.

The session cookie has no expiry date (it ends with the browser); this adds a limit for a device that
stays open, such as a shared computer left behind.

Activity is an HTTP request (the cookie's stamp, rewritten at most once a minute), a deliberate event on a
socket of the same login session, or being joined to an OPEN meeting: the socket side, the activity stamps and
the idle check itself live in `realtime/activity.py` (the socket edge stamps and checks them; it imports no
feature). This module builds the stamps' store and ends idle HTTP sessions.
"""

from __future__ import annotations

import secrets

import redis
from flask import Flask, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user, user_loaded_from_cookie

from ..realtime.activity import ACTIVITY_ID, LAST_SEEN, REFRESH_SECONDS, MemoryStamps, RedisStamps, now, session_is_idle


def mark_active() -> None:
    session[LAST_SEEN] = now()
    session.setdefault(ACTIVITY_ID, secrets.token_urlsafe(16))


def _restored_from_cookie(_app, user) -> None:
    """ "Keep me logged in": a session restored from the remember cookie starts active, not idle."""
    mark_active()


def init_idle_timeout(app: Flask) -> None:
    user_loaded_from_cookie.connect(_restored_from_cookie, app)
    lifetime = app.config["IDLE_TIMEOUT_MINUTES"] * 60 + REFRESH_SECONDS
    if url := app.config.get("REDIS_URL"):
        client = redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=1, socket_timeout=2)
        app.extensions["sg_activity_stamps"] = RedisStamps(client, app.config["REDIS_PREFIX"], lifetime)
    else:
        app.extensions["sg_activity_stamps"] = MemoryStamps(lifetime)

    @app.before_request
    def end_idle_session():
        if request.endpoint in ("static", "auth.login") or not current_user.is_authenticated:
            return None
        current = now()
        if session_is_idle():
            logout_user()
            session.clear()
            session["_remember"] = "clear"  # Flask-Login then deletes the remember cookie too
            flash(_("You were logged out because you were away for a while."), "info")
            return redirect(url_for("auth.login"))
        if current - session[LAST_SEEN] >= REFRESH_SECONDS:
            session[LAST_SEEN] = current
        if ACTIVITY_ID not in session:  # a session from before activity ids: give it one
            session[ACTIVITY_ID] = secrets.token_urlsafe(16)
        return None
