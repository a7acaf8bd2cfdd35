"""The presence heartbeat: one background task per server process (a greenlet under gevent).

Every `HEARTBEAT_SECONDS` one round:
1. stamps this process's sockets as alive in Redis (`chat/stores.py`), so they stay present while the
   process lives and drop out within `PRESENCE_TTL` of its death, however it died;
2. deletes dead processes' entries in the meetings this process serves and pushes `presence` to a
   meeting that lost someone that way (a graceful leave pushes it from the event instead);
3. pushes the full MeetingState to a meeting whose moderator presence changed since the last round,
   e.g. when the process holding the only moderator socket was killed: the clients turn read-only.
4. asks this process's moderator sockets for a proof of life (`alive`, chat/alive.py): a moderator counts
   only while its client answers, so a frozen device turns the chat read-only too; and removes presence
   entries whose socket is gone (a ghost the round would otherwise keep stamping).

A Redis restart loses every entry (Redis keeps nothing on disk here), and until each process wrote its
own back a present moderator reads as absent: participants were refused `no_moderator` (issue #12). So:
- after a Redis error the heartbeat tries again every `RETRY_SECONDS`, not a full round later, and
- when the Socket.IO queue's listener subscribes again (`realtime/queue.py`: Redis came back, perhaps
  empty) it wakes at once;
and then writes this process's presence back (`restore`). It judges moderator presence only
`SETTLE_SECONDS` later, once the other processes (retrying as often) have written theirs back, and then
pushes MeetingState and presence to every meeting it serves, whatever it saw before: clients may have
been refused meanwhile.

A round only reads and emits; it commits nothing. Started by the real servers (`serve.py`, `wsgi.py`),
never by the in-process test app (`PRESENCE_HEARTBEAT`).
"""
from __future__ import annotations

import logging

import redis
from flask import Flask

from ..extensions import db, socketio
from ..realtime.queue import queue_manager
from .alive import ask_moderators, sweep_ghosts
from .catchup import emit_sync
from .events import broadcast_presence
from .state import emit_meeting_state
from .stores import stores

log = logging.getLogger("supportgroup.chat")

RETRY_SECONDS = 0.1  # while Redis fails: presence is written back within about this of its return
SETTLE_SECONDS = 0.5  # after writing back, before judging moderator presence (other processes write theirs)


def start_heartbeat(app: Flask) -> None:
    """Start this process's heartbeat, unless the config turns it off."""
    if app.config["PRESENCE_HEARTBEAT"]:
        wake = socketio.server.eio.create_event()
        manager = queue_manager(app)
        if manager is not None:
            manager.on_subscribed.append(wake.set)
        socketio.start_background_task(_run, app, wake)


def _run(app: Flask, wake) -> None:
    seen: dict[int, bool] = {}
    delay = app.config["HEARTBEAT_SECONDS"]
    restoring = settling = failing = False
    while True:
        if wake.wait(delay):  # the queue subscribed again: Redis may have restarted without our presence
            wake.clear()
            restoring = True
        with app.app_context():
            try:
                if restoring:
                    restore()
                    restoring, settling = False, True
                    delay = SETTLE_SECONDS
                else:
                    seen = beat(seen, resync=settling)
                    settling = False
                    delay = app.config["HEARTBEAT_SECONDS"]
                if failing:
                    log.warning("presence heartbeat: Redis answers again")
                failing = False
            except redis.RedisError as error:
                if not failing:  # once per outage; the class name only (the text may hold an address)
                    log.warning("presence heartbeat: Redis failed (%s), retrying", type(error).__name__)
                failing = restoring = True
                delay = RETRY_SECONDS
            except Exception:
                log.exception("presence heartbeat failed")
                delay = app.config["HEARTBEAT_SECONDS"]
            finally:
                db.session.remove()  # a background task must not keep a session (and a connection)


def restore() -> None:
    """Write this process's presence and user sockets back to Redis (stamped as seen now)."""
    stores().presence.refresh()
    stores().connections.refresh()


def beat(seen: dict[int, bool], resync: bool = False) -> dict[int, bool]:
    """One round. `seen`: moderator presence per meeting at the last round; returns it for the next.

    `resync`: push MeetingState and presence to every meeting this process serves (after a Redis outage).
    """
    emit_sync()  # first, and without Redis: clients learn what they missed (chat/catchup.py)
    presence = stores().presence
    sweep_ghosts()  # entries whose socket is gone are not stamped again (chat/alive.py)
    restore()
    pruned = presence.prune()
    local = sorted(presence.local_meetings())
    for meeting_id in (local if resync else pruned):
        broadcast_presence(meeting_id)
    now = presence.moderators_present(local)
    for meeting_id, present in now.items():
        # A meeting new to this process has no earlier value here: the join that brought it pushed
        # the state. Every process serving the meeting pushes a change it sees; a client may get the
        # same (complete, idempotent) MeetingState more than once.
        if resync or seen.get(meeting_id, present) != present:
            emit_meeting_state(meeting_id)
    ask_moderators()  # proof of life: only a moderator whose client answers stays present (chat/alive.py)
    return now
