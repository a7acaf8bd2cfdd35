"""Jobs that every serving process runs now and then in a background task (the retention purge, the series
horizon), and the same step for a cron command: each round in its own app context and transaction, and a failed
round leaves the loop alive and only the error's kind in the log (never SQL or its values)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from flask import Flask

from .extensions import db, socketio

log = logging.getLogger(__name__)

T = TypeVar("T")


def run_once(app: Flask, name: str, step: Callable[[], T], summary: Callable[[T], str | None]) -> T | None:
    """One round: `step()` then commit; `summary(result)` is logged when it says something. None when it failed."""
    with app.app_context():
        try:
            result = step()
            db.session.commit()
            if (said := summary(result)) is not None:
                log.info("%s: %s", name, said)
            return result
        except Exception as error:  # keep the job alive; the SQL (and its values) stay out of the log
            db.session.rollback()
            log.error("%s failed: %s", name, type(error).__name__)
            return None
        finally:
            db.session.remove()


def start_every(app: Flask, key: str, minutes: float, round_: Callable[[Flask], object]):
    """Run `round_(app)` now and then every `minutes` in a background task (a greenlet under gevent), once per app:
    a second call starts nothing. `minutes` <= 0 starts nothing (cron runs the job's command instead)."""
    if key in app.extensions:
        return app.extensions[key]
    interval = float(minutes) * 60
    if interval <= 0:
        app.extensions[key] = None
        return None

    def loop() -> None:
        while True:
            round_(app)
            socketio.sleep(interval)

    task = socketio.start_background_task(loop)
    app.extensions[key] = task
    return task
