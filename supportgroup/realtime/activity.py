"""Socket activity for the idle timeout, and the idle check itself (`session_is_idle`, also asked at socket connect).

The idle timeout is the login's (`auth/idle.py` ends an idle HTTP session), but a socket cannot rewrite the
cookie, so the socket edge stamps its session's activity on the server instead (`ActivityStamps`: Redis in a
scale-out deployment, so every process sees it; memory otherwise), at most once a minute per socket, under a
random id the session carries (`ACTIVITY_ID`), never the account: a session on another device stays idle.
The stamp is read only when the cookie's own stamp is too old. It lives here, below auth, because the pipeline
and the connect handler stamp and check it and realtime imports no feature.

Activity on a socket is a deliberate event of the same login session (send, whisper, hands, report, moderator
actions: not the events a page sends by itself, `AUTOMATIC_EVENTS`, or an unattended open page would keep its
session alive for ever), or being joined to an OPEN meeting (a participant who only reads sends nothing, and
after IDLE_TIMEOUT_MINUTES a network blip would refuse the reconnect: the heartbeat stamps those sockets'
sessions, `stamp_sockets`). `clock` is the idle timeout's one clock (tests set it).
"""

from __future__ import annotations

import threading
import time

import redis
from flask import current_app, session

from .socket_id import socket_id

LAST_SEEN = "sg_seen"
ACTIVITY_ID = "sg_activity"  # a random id per login session, naming its server-side activity stamp
# Refresh the stamp at most once a minute, so not every request rewrites the cookie.
REFRESH_SECONDS = 60

clock = time.time  # the idle timeout's clock (tests set it)

# Events a page sends by itself, without anyone touching it: a join (also the automatic retries and rejoins
# after a reconnect), a leave (the page closing), a catch_up fired by `sync`. They do not count as activity.
AUTOMATIC_EVENTS = frozenset({"join", "leave", "catch_up"})
_SOCKETS = "sg_activity_sockets"  # app.extensions: socket id -> its session's activity id (this process)
_STAMPED = "sg_activity_stamped"  # app.extensions: activity id -> when the heartbeat last stamped it


def now() -> int:
    return int(clock())


def session_is_idle() -> bool:
    """Has this session been unused for longer than the idle timeout? (Also checked at socket connect.)

    The cookie's stamp first; only when that is too old, the stamp its sockets left on the server."""
    seen = session.get(LAST_SEEN)
    if seen is None:
        return True
    limit = current_app.config["IDLE_TIMEOUT_MINUTES"] * 60
    if now() - seen <= limit:
        return False
    stamped = activity_stamps().last(session.get(ACTIVITY_ID))
    return stamped is None or now() - stamped > limit


def note_socket_activity(event: str | None = None) -> None:
    """A deliberate socket event of this session counts as activity: stamp it on the server, at most once a
    minute. `event`: its name; the automatic ones (`AUTOMATIC_EVENTS`) do not count.

    Runs in a socket event (its session is the socket's own copy of the cookie's, kept in this process), so
    the socket's copy of `LAST_SEEN` records when this socket last stamped. A failed stamp (Redis away) is
    tried again on the next event."""
    activity_id, current = session.get(ACTIVITY_ID), now()
    if activity_id is None or event in AUTOMATIC_EVENTS or current - session.get(LAST_SEEN, 0) < REFRESH_SECONDS:
        return
    try:
        activity_stamps().touch(activity_id, current)
    except redis.RedisError:
        return
    session[LAST_SEEN] = current


def remember_socket() -> None:
    """At connect: which session this socket belongs to, for the heartbeat's stamps of joined sockets
    (`stamp_sockets`). Once per socket, not on every event; `forget_socket` at its disconnect."""
    if (activity_id := session.get(ACTIVITY_ID)) is not None:
        current_app.extensions.setdefault(_SOCKETS, {})[socket_id()] = activity_id


def forget_socket(sid: str) -> None:
    current_app.extensions.setdefault(_SOCKETS, {}).pop(sid, None)


def stamp_sockets(sids) -> int:
    """The heartbeat: these sockets are joined to open meetings, which counts as activity of their sessions.
    At most once a minute per session, all in one write (one pipeline). Returns how many sessions it stamped."""
    sockets: dict[str, str] = current_app.extensions.setdefault(_SOCKETS, {})
    stamped: dict[str, int] = current_app.extensions.setdefault(_STAMPED, {})
    current = now()
    due = {a for sid in sids if (a := sockets.get(sid)) is not None and current - stamped.get(a, 0) >= REFRESH_SECONDS}
    if due:
        activity_stamps().touch_many(sorted(due), current)
        stamped.update(dict.fromkeys(due, current))
    for activity_id in [a for a, at in stamped.items() if current - at >= REFRESH_SECONDS and a not in due]:
        stamped.pop(activity_id, None)  # due again anyway: keep the map small
    return len(due)


def forget_sockets(connected) -> None:
    """Drop the sockets that `connected(sid)` says are gone from this process's socket -> session map."""
    sockets: dict[str, str] = current_app.extensions.setdefault(_SOCKETS, {})
    for sid in [sid for sid in list(sockets) if not connected(sid)]:
        sockets.pop(sid, None)


class MemoryStamps:
    """Activity stamps of one process (the embedded deployment has only one)."""

    def __init__(self, lifetime: int) -> None:
        self._lifetime = lifetime
        self._stamps: dict[str, int] = {}
        self._lock = threading.Lock()

    def touch(self, activity_id: str, at: int) -> None:
        with self._lock:
            self._stamps[activity_id] = at
            if len(self._stamps) > 10_000:  # forget stamps that no session can use any more
                self._stamps = {k: v for k, v in self._stamps.items() if at - v <= self._lifetime}

    def touch_many(self, activity_ids: list[str], at: int) -> None:
        for activity_id in activity_ids:
            self.touch(activity_id, at)

    def last(self, activity_id: str | None) -> int | None:
        with self._lock:
            return self._stamps.get(activity_id) if activity_id else None


class RedisStamps:
    """Activity stamps shared by every process: `<prefix>:active:<activity id>` = unix seconds."""

    def __init__(self, client: redis.Redis, prefix: str, lifetime: int) -> None:
        self._redis = client
        self._prefix = f"{prefix}:active:"
        self._lifetime = lifetime

    def touch(self, activity_id: str, at: int) -> None:
        self._redis.set(self._prefix + activity_id, at, ex=self._lifetime)

    def touch_many(self, activity_ids: list[str], at: int) -> None:
        pipe = self._redis.pipeline(transaction=False)
        for activity_id in activity_ids:
            pipe.set(self._prefix + activity_id, at, ex=self._lifetime)
        pipe.execute()

    def last(self, activity_id: str | None) -> int | None:
        value = self._redis.get(self._prefix + activity_id) if activity_id else None
        return int(value) if value is not None else None


def activity_stamps() -> MemoryStamps | RedisStamps:
    return current_app.extensions["sg_activity_stamps"]
