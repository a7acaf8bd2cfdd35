"""The platform settings every page reads (quick exit's address, the admin's crisis resources), read so that
a page that needs nothing else from the database (the login page, an error page) still shows quick exit and the
helplines when the database cannot be read: the environment's and the files' values serve then.

The values come from `platform_settings` (the database, one query per request), so a change an admin makes
applies at once in every process. The context processor (`routes.safety_context`) runs only when a page is
rendered: static files and socket events never read them (a crisis note does, when it is built).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from flask import g, has_request_context
from sqlalchemy.exc import SQLAlchemyError

from .. import platform_settings
from ..extensions import db

log = logging.getLogger("supportgroup.safety")

_WARN_EVERY_SECONDS = 60.0
_last_warning = 0.0


def read(name: str) -> Any:
    """`platform_settings.get(name)`, or its default when the database cannot be read and nothing else is at
    stake (logged at most once a minute: an outage must not write a line per page).

    Only a read that began the session's transaction is given up quietly (rolled back: there was nothing before
    it). A transaction with work of its own (a chat message inserted before its crisis note, an audit row before
    the page's commit) must not go on as if all were well: psycopg commits an aborted transaction as a silent
    ROLLBACK. That error goes to the edge, which fails the whole request or event."""
    global _last_warning
    if has_request_context() and g.get("sg_settings_unreadable"):
        return platform_settings.default(name)  # one attempt per request (a dead server costs a connect timeout)
    began_here = not db.session().in_transaction()
    try:
        return platform_settings.get(name)
    except SQLAlchemyError as error:
        if not began_here:
            raise
        db.session.rollback()
        if has_request_context():
            g.sg_settings_unreadable = True
        now = time.monotonic()
        if now - _last_warning >= _WARN_EVERY_SECONDS:
            _last_warning = now
            log.warning("platform settings unreadable (%s): the defaults serve", type(error).__name__)
        return platform_settings.default(name)


def usable_exit_url(url: Any) -> bool:
    """An absolute http(s) URL or a path on this site (what `QUICK_EXIT_URL` may hold); never `javascript:`."""
    if not isinstance(url, str) or not url or any(char.isspace() for char in url):
        return False
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return True
    return not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//")


def quick_exit_url() -> str:
    """The neutral page quick exit goes to: the admin's address, else the environment's, else a fixed one.
    A stored value is checked again here: a row changed by hand can never put a script in the link."""
    for candidate in (
        read(platform_settings.QUICK_EXIT_URL),
        platform_settings.default(platform_settings.QUICK_EXIT_URL),
    ):
        if usable_exit_url(candidate):
            return candidate
    return platform_settings.DEFAULT_QUICK_EXIT_URL
