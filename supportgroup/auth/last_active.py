"""When an account was last active (`User.last_active_at`, the admin's accounts list): the day, not the minute.

Stamped at every login (Flask-Login's `user_logged_in`, so each way in counts: the login page, an activation
link) and on the first request of each UTC day, at most one UPDATE a day per account: the check reads the
account Flask-Login has loaded for the request anyway. Socket events do not stamp it (a page came first).
"""

from __future__ import annotations

import logging
from datetime import datetime

from flask import Flask, request
from flask_login import current_user, user_logged_in
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..models import User
from ..models.types import utcnow

log = logging.getLogger("supportgroup.auth")


def _start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def note_active(user: User, now: datetime | None = None) -> None:
    """Stamp `user` active now (the caller commits)."""
    user.last_active_at = now or utcnow()


def _logged_in(_app, user: User, **_extra) -> None:
    note_active(user)


def stamp_today(now: datetime | None = None) -> bool:
    """Stamp the current account on its first request of the day; True when it wrote."""
    if not current_user.is_authenticated:
        return False
    now = now or utcnow()
    midnight = _start_of_day(now)
    last = current_user.last_active_at
    if last is not None and last >= midnight:
        return False
    try:
        db.session.execute(
            update(User)
            .where(User.id == current_user.id, or_(User.last_active_at.is_(None), User.last_active_at < midnight))
            .values(last_active_at=now)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    except SQLAlchemyError as error:  # a day's stamp is not worth a failed page: the next request tries again
        db.session.rollback()
        log.warning("last active: not stamped (%s)", type(error).__name__)
        return False
    return True


def init_last_active(app: Flask) -> None:
    """Call after the idle timeout's before_request: a session ended for idleness does not count as active."""
    user_logged_in.connect(_logged_in, app)

    @app.before_request
    def stamp_last_active():
        if request.endpoint != "static":
            stamp_today()
