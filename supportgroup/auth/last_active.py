"""When an account was last active (`User.last_active_at`, the admin's accounts list): the day, not the minute.

Stamped when a login is complete, not at the password: for an account that needs a second factor, only once the
code is given (a password alone must not make a dormant staff account look in use). Flask-Login's
`user_logged_in` (each way in: the login page, an activation link, the second step, which marks the session passed
before it logs in) stamps it unless the second factor is still due; and the first request of each UTC day stamps it,
at most one UPDATE a day per account (the check reads the account Flask-Login has loaded for the request anyway).
That hook runs after the idle timeout and the two-factor gate (`create_app`): a session ended for idleness or still
owing its code does not count. Socket events do not stamp it (a page came first).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, request
from flask_login import current_user, user_logged_in
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from ..edge import committing
from ..extensions import db
from ..models import User
from ..models.types import utcnow
from ..two_factor import second_factor_due

log = logging.getLogger("supportgroup.auth")


def _start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def note_active(user: User, now: datetime | None = None) -> None:
    """Stamp `user` active now (the caller commits)."""
    user.last_active_at = now or utcnow()


def _logged_in(_app, user: User, **_extra) -> None:
    if not second_factor_due(user):  # the password step of an account that still owes its code: not yet
        note_active(user)


def stamp_today(now: datetime | None = None) -> bool:
    """Stamp the current account on its first request of the day, once its login is complete; True when it wrote.

    This runs in a `before_request`, before any route's own edge, so it is an edge of its own: one UPDATE, committed
    at once through `edge.committing()` (nothing else is in the session yet but the account Flask-Login loaded), so
    a route that fails later does not take the day's stamp with it. A failure here is logged and the page goes on:
    a day's stamp is not worth a failed page, and the next request tries again."""
    if not current_user.is_authenticated:
        return False
    now = now or utcnow()
    midnight = _start_of_day(now)
    last = current_user.last_active_at
    if (last is not None and last >= midnight) or second_factor_due(current_user):
        return False
    try:
        with committing():
            db.session.execute(
                update(User)
                .where(User.id == current_user.id, or_(User.last_active_at.is_(None), User.last_active_at < midnight))
                .values(last_active_at=now)
                .execution_options(synchronize_session=False)
            )
    except SQLAlchemyError as error:
        log.warning("last active: not stamped (%s)", type(error).__name__)
        return False
    return True


def init_last_active(app: Flask) -> None:
    """Call after the idle timeout's and the two-factor gate's before_request (`create_app`): a session ended for
    idleness, or sent to the second step, does not count as active."""
    user_logged_in.connect(_logged_in, app)

    @app.before_request
    def stamp_last_active():
        if request.endpoint != "static":
            stamp_today()
