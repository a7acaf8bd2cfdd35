"""The presence heartbeat: one background task per server process (a greenlet under gevent).

Every `HEARTBEAT_SECONDS` one round:
1. stamps this process's sockets as alive in Redis (`chat/stores.py`), so they stay present while the
   process lives and drop out within `PRESENCE_TTL` of its death, however it died;
2. deletes dead processes' entries in the meetings this process serves and pushes `presence` to a
   meeting that lost someone that way (a graceful leave pushes it from the event instead);
3. pushes the full MeetingState to a meeting whose moderator presence changed since the last round,
   e.g. when the process holding the only moderator socket was killed: the clients turn read-only.

A round only reads and emits; it commits nothing. Started by the real servers (`serve.py`, `wsgi.py`),
never by the in-process test app (`PRESENCE_HEARTBEAT`).
"""
from __future__ import annotations

import logging

from flask import Flask

from ..extensions import db, socketio
from .events import broadcast_presence
from .state import emit_meeting_state
from .stores import stores

log = logging.getLogger("supportgroup.chat")


def start_heartbeat(app: Flask) -> None:
    """Start this process's heartbeat, unless the config turns it off."""
    if app.config["PRESENCE_HEARTBEAT"]:
        socketio.start_background_task(_run, app)


def _run(app: Flask) -> None:
    seen: dict[int, bool] = {}
    while True:
        socketio.sleep(app.config["HEARTBEAT_SECONDS"])
        with app.app_context():
            try:
                seen = beat(seen)
            except Exception:
                log.exception("presence heartbeat failed")
            finally:
                db.session.remove()  # a background task must not keep a session (and a connection)


def beat(seen: dict[int, bool]) -> dict[int, bool]:
    """One round. `seen`: moderator presence per meeting at the last round; returns it for the next."""
    presence = stores().presence
    presence.refresh()
    stores().connections.refresh()
    for meeting_id in presence.prune():
        broadcast_presence(meeting_id)
    now = presence.moderators_present(sorted(presence.local_meetings()))
    for meeting_id, present in now.items():
        # A meeting new to this process has no earlier value here: the join that brought it pushed
        # the state. Every process serving the meeting pushes a change it sees; a client may get the
        # same (complete, idempotent) MeetingState more than once.
        if seen.get(meeting_id, present) != present:
            emit_meeting_state(meeting_id)
    return now

