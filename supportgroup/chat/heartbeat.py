"""The presence heartbeat: one background task per server process (a greenlet under gevent).

Every `HEARTBEAT_SECONDS` one round:
1. stamps this process's sockets as alive in Redis (`realtime/stores.py`), so they stay present while the
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

A round has two parts (issue #12 review). The Redis part (refresh, prune, moderator presence, `alive`) runs in
the heartbeat's own loop and never touches the database; the database part (`sync`, the ghost sweep, the
presence and MeetingState pushes, the idle-timeout stamps of joined sockets) runs in a task of its own
(`DatabaseWorker`), one at a time and time-bounded: a stalled pool or a database outage must not delay the
refresh beyond PRESENCE_TTL (other processes would prune this one's people, and meetings turn read-only).

A round only reads and emits; it commits nothing (the sweep closes a ghost's stay). Started by the real
servers (`serve.py`, `wsgi.py`), never by the in-process test app (`PRESENCE_HEARTBEAT`).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import redis
from flask import Flask
from sqlalchemy import select

from ..db_setup import gevent_patched
from ..extensions import db, socketio
from ..models import Meeting, MeetingState
from ..realtime import activity
from ..realtime.push import push_meeting_state, push_presence
from ..realtime.queue import queue_manager
from ..realtime.rooms import retry_revocations
from ..realtime.stores import stores
from ..realtime.unavailable import outage
from .alive import ask_moderators, sweep_ghosts
from .catchup import emit_sync

log = logging.getLogger("supportgroup.chat")

RETRY_SECONDS = 0.1  # while Redis fails: presence is written back within about this of its return
SETTLE_SECONDS = 0.5  # after writing back, before judging moderator presence (other processes write theirs)
# The most one round's database part may take (under gevent); what it did not do, a later round does again.
DATABASE_ROUND_SECONDS = 10.0


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
    worker = DatabaseWorker(app)
    delay = app.config["HEARTBEAT_SECONDS"]
    restoring = settling = failing = False
    last_asked = 0.0
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
                    seen, work = redis_round(seen, resync=settling)
                    worker.submit(work)  # never waits for the database
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
                # Keep asking for proof of life (a direct emit, no Redis): the answers are kept in this process
                # and written back with its presence, so a Redis outage does not make a present moderator lapse.
                last_asked = _ask_without_redis(last_asked, app.config["HEARTBEAT_SECONDS"])
            except Exception:
                log.exception("presence heartbeat failed")
                delay = app.config["HEARTBEAT_SECONDS"]
            finally:
                db.session.remove()  # a background task must not keep a session (and a connection)


def _ask_without_redis(last_asked: float, every: float) -> float:
    """During a Redis outage (retried every RETRY_SECONDS) ask for proof of life once a heartbeat, as usual."""
    now = time.monotonic()
    if now - last_asked < every:
        return last_asked
    try:
        ask_moderators()
    except Exception as error:  # never let the proof round stop the heartbeat
        log.warning("presence heartbeat: alive round failed (%s)", type(error).__name__)
    return now


def restore() -> None:
    """Write this process's presence and user sockets back to Redis (stamped as seen now)."""
    stores().presence.refresh()
    stores().connections.refresh()


@dataclass
class DatabaseWork:
    """What a round leaves to the database part: meetings to push presence to, and MeetingState to."""

    presence: set[int] = field(default_factory=set)
    state: set[int] = field(default_factory=set)

    def merged(self, other: DatabaseWork) -> DatabaseWork:
        return DatabaseWork(self.presence | other.presence, self.state | other.state)


def redis_round(seen: dict[int, bool], resync: bool = False) -> tuple[dict[int, bool], DatabaseWork]:
    """The part of a round that keeps presence alive: Redis only, no database. Returns the moderator presence
    per meeting (`seen` for the next round) and the database work it found (for `database_round`).

    `resync`: push MeetingState and presence to every meeting this process serves (after a Redis outage)."""
    presence = stores().presence
    restore()
    pruned = presence.prune()
    local = sorted(presence.local_meetings())
    now = presence.moderators_present(local)
    ask_moderators()  # proof of life: only a moderator whose client answers stays present (chat/alive.py)
    # A meeting new to this process has no earlier value here: the join that brought it pushed the state.
    # Every process serving the meeting pushes a change it sees; a client may get the same (complete,
    # idempotent) MeetingState more than once.
    changed = {m for m, present in now.items() if resync or seen.get(m, present) != present}
    return now, DatabaseWork(set(local if resync else pruned), changed)


def database_round(work: DatabaseWork) -> DatabaseWork:
    """The part of a round that reads the database: `sync`, the ghost sweep, the pushes `work` asks for, and
    the idle-timeout stamps of sockets joined to open meetings. Each step on its own: one failing does not
    stop the others. Returns the pushes that failed (the worker tries them again with the next round)."""
    failed = DatabaseWork()
    steps: list[tuple[str, Callable[[], None], set[int] | None, int]] = [
        ("sending sync", emit_sync, None, 0),  # clients learn what they missed (chat/catchup.py)
        ("retrying revocations", retry_revocations, None, 0),  # rooms a failed revocation left (realtime/rooms.py)
        ("sweeping presence", sweep_ghosts, None, 0),  # entries whose socket is gone (chat/alive.py)
        *(
            (f"pushing presence to meeting {m}", functools.partial(push_presence, m), failed.presence, m)
            for m in sorted(work.presence)
        ),
        *(
            (f"pushing the state of meeting {m}", functools.partial(push_meeting_state, m), failed.state, m)
            for m in sorted(work.state)
        ),
        ("stamping activity", stamp_joined_activity, None, 0),
    ]
    for what, step, failures, meeting_id in steps:
        try:
            step()
        except Exception as error:
            if failures is not None:
                failures.add(meeting_id)
            db.session.rollback()
            if isinstance(error, redis.RedisError) or outage(error):
                log.warning("presence heartbeat: %s failed (%s)", what, type(error).__name__)
            else:
                log.exception("presence heartbeat: %s failed", what)
    return failed


def stamp_joined_activity() -> None:
    """Being joined to an open meeting is activity of the socket's session (realtime/activity.py): a participant who
    only reads must not be logged out after IDLE_TIMEOUT_MINUTES, nor refused on reconnecting. A lobby or a
    closed meeting does not count."""
    server = socketio.server
    activity.forget_sockets(lambda sid: server.manager.is_connected(sid, "/"))
    entries = stores().presence.local_entries()
    if not entries:
        return
    meeting_ids = {meeting_id for meeting_id, _sid in entries}
    open_ids = set(
        db.session.scalars(select(Meeting.id).where(Meeting.id.in_(meeting_ids), Meeting.state == MeetingState.OPEN))
    )
    db.session.rollback()  # no transaction left open by a read
    activity.stamp_sockets(sid for meeting_id, sid in entries if meeting_id in open_ids)


def beat(seen: dict[int, bool], resync: bool = False) -> dict[int, bool]:
    """One whole round, both parts in turn (the in-process tests drive rounds this way). `seen`: moderator
    presence per meeting at the last round; returns it for the next."""
    now, work = redis_round(seen, resync)
    database_round(work)
    return now


class DatabaseWorker:
    """Runs the rounds' database parts in a task of its own, one at a time, each for at most
    `DATABASE_ROUND_SECONDS` (under gevent). While one runs, the work later rounds hand in is merged into one
    pending batch: a slow or absent database delays only `sync` and the pushes, never presence."""

    def __init__(self, app: Flask) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._pending: DatabaseWork | None = None
        self._retry = DatabaseWork()  # pushes that failed: handed in again with the next round's work
        self._running = False

    def submit(self, work: DatabaseWork) -> bool:
        """Hand in a round's work. False when the previous database part still runs (the work waits for it)."""
        with self._lock:
            work, self._retry = work.merged(self._retry), DatabaseWork()
            self._pending = work if self._pending is None else self._pending.merged(work)
            if self._running:
                return False
            self._running = True
        socketio.start_background_task(self._work)
        return True

    def _work(self) -> None:
        while True:
            with self._lock:
                work, self._pending = self._pending, None
                if work is None:
                    self._running = False
                    return
            failed = work  # until the round says otherwise
            with self._app.app_context():
                try:
                    with _time_limit(DATABASE_ROUND_SECONDS):
                        failed = database_round(work)
                except _TimeLimit:
                    log.warning("presence heartbeat: the database part took over %ss, stopped", DATABASE_ROUND_SECONDS)
                except Exception:
                    log.exception("presence heartbeat: the database part failed")
                finally:
                    db.session.remove()
            with self._lock:
                self._retry = self._retry.merged(failed)


class _TimeLimit(BaseException):
    """A BaseException, as gevent.Timeout is: a step's `except Exception` must not swallow the time limit (the
    rest of the round would run unlimited), and SQLAlchemy invalidates a connection interrupted by one."""


@contextlib.contextmanager
def _time_limit(seconds: float):
    """Under gevent, stop the block after `seconds` (a stalled pool or database must not hold the worker for
    good); in threads (the in-process tests) no limit."""
    if not gevent_patched():
        yield
        return
    import gevent

    timeout = gevent.Timeout(seconds, _TimeLimit)
    timeout.start()
    try:
        yield
    finally:
        timeout.close()
