"""Presence pushed once per short window per meeting, not once per join and leave.

Every join and leave changes who is present, and each push reads the present members from the database
and sends the full list to the whole room: when all 900 participants of a deployment reconnect at once
(a restart, a network blip) that is 1,800 pushes of a 15-person list, most of them stale a moment later.
Within `PRESENCE_PUSH_MS` (default 250 ms) the changes of one meeting are pushed once, by a background
task of the process where they happened, reading presence from the shared store at that moment (so
it is always the whole, current list). The joiner needs no push: its `join` ack carries the list.
With `PRESENCE_PUSH_MS = 0` (the in-process test client) every change is pushed at once.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app

from ..extensions import db, socketio


class PresencePushes:
    def __init__(self, app: Flask, window_ms: int) -> None:
        self._app = app
        self._window = window_ms / 1000
        self._pending: set[int] = set()
        self._lock = threading.Lock()
        self._scheduled = False

    def request(self, meeting_id: int, push) -> None:
        if self._window <= 0:
            push(meeting_id)
            return
        with self._lock:
            self._pending.add(meeting_id)
            if self._scheduled:
                return
            self._scheduled = True
        socketio.start_background_task(self._flush, push)

    def _flush(self, push) -> None:
        socketio.sleep(self._window)
        with self._lock:
            meetings, self._pending, self._scheduled = self._pending, set(), False
        with self._app.app_context():
            for meeting_id in sorted(meetings):
                try:
                    push(meeting_id)
                except Exception:
                    db.session.rollback()
                    self._app.logger.exception("pushing presence of meeting %s failed", meeting_id)
            db.session.remove()


def init_presence_pushes(app: Flask) -> None:
    app.extensions["presence_pushes"] = PresencePushes(app, int(app.config["PRESENCE_PUSH_MS"]))


def request_presence_push(meeting_id: int, push) -> None:
    current_app.extensions["presence_pushes"].request(meeting_id, push)
