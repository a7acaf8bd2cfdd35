"""Draining a serving process on SIGTERM (serve.py, and the gunicorn worker in `drain_worker.py`).

Before, `serve.py` died at once on SIGTERM and gunicorn cut its sockets after the grace period without a
Socket.IO disconnect: the process's presence entries stayed in Redis until `PRESENCE_TTL`, so the other
processes saw its members (and its moderators) for up to 8 s after they were gone, and the chat stayed open
without a moderator meanwhile. `drain` instead:

1. stops accepting connections (the caller's `stop_accepting`), so clients come back to another process;
2. sends `server_shutdown` `{"reconnect_in_ms": DRAIN_RECONNECT_MS}` to every socket of this process (locally,
   not through the message queue: the other processes' clients stay), and waits `NOTICE_SECONDS` for the
   notices to go out and for clients that act on them to leave by themselves;
3. closes every remaining socket of this process at once. Closing runs the Socket.IO disconnect handler
   (`realtime/connection.py`, with `chat/joining.py`'s hook): presence entry removed, the stay ended,
   presence and MeetingState pushed. The socket
   is closed with a WebSocket close frame and no Engine.IO CLOSE packet, so a client that missed the notice
   takes it as a lost connection and reconnects by itself;
4. removes any presence entry of this process still left (a disconnect handler that failed, e.g. with the
   database away) and pushes presence and MeetingState to every meeting it served, at once, through the
   queue: the other processes' clients see who left (and whether a moderator is still there) now, not
   after `PRESENCE_TTL`.

Closing a socket whose client stopped reading waits for its writer; that wait is bounded by the TCP
options of `tcp_bounds.bound_connection` and, here, by `timeout`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask

log = logging.getLogger("supportgroup.server")

NOTICE_SECONDS = 0.3  # after server_shutdown, before closing: the notices go out first
# The most closing the sockets may take. A socket whose close does not finish in that time has a client that
# stopped reading or a writer already gone: the process exits anyway, and the kernel closes the connection.
DRAIN_SECONDS = float(os.environ.get("DRAIN_SECONDS", "2"))
# When the clients come back (plus their own jitter): long enough for this process to have closed its
# listener and sockets, short enough that members miss little.
DRAIN_RECONNECT_MS = int(os.environ.get("DRAIN_RECONNECT_MS", "1000"))


@dataclass
class DrainReport:
    sockets: int  # Engine.IO sockets this process held when the drain began
    closed: int  # of them, closed within the timeout
    meetings: int  # meetings whose presence and state were pushed
    leftover_presence: int  # presence entries removed here (the disconnect handler had not)
    seconds: float


def drain(
    app: Flask,
    stop_accepting: Callable[[], None],
    timeout: float = DRAIN_SECONDS,
    reconnect_in_ms: int = DRAIN_RECONNECT_MS,
) -> DrainReport:
    """Drain this process (see the module's docstring). Call it from a greenlet; it returns within about
    `NOTICE_SECONDS + timeout` plus the final pushes (one Redis/database round per meeting)."""
    import gevent

    from ..extensions import socketio
    from .push import shutdown_locally

    started = time.monotonic()
    try:
        stop_accepting()
    except Exception:
        log.exception("drain: could not stop accepting")
    server = socketio.server
    if server is None:  # no Socket.IO in this process (a bare WSGI app under the worker): nothing to drain
        return DrainReport(0, 0, 0, 0, time.monotonic() - started)
    eio_sockets = dict(server.eio.sockets)
    local_sids = {sid for eio_sid in eio_sockets if (sid := server.manager.sid_from_eio_sid(eio_sid, "/"))}
    meetings = _local_meetings(app)
    log.warning(
        "drain: %d sockets in %d meetings; clients reconnect in %d ms", len(eio_sockets), len(meetings), reconnect_in_ms
    )
    try:
        shutdown_locally(server, reconnect_in_ms)
    except Exception:
        log.exception("drain: could not send server_shutdown")
    gevent.sleep(NOTICE_SECONDS)

    closers = [gevent.spawn(_close, server, eio_sid, socket) for eio_sid, socket in eio_sockets.items()]
    gevent.joinall(closers, timeout=timeout)
    closed = sum(1 for closer in closers if closer.ready())
    for closer in closers:
        if not closer.ready():
            closer.kill(block=False)  # a frozen client: the process exits anyway, and the kernel closes it

    leftover = _remove_leftover_presence(app, meetings, local_sids)
    _push(app, meetings)
    report = DrainReport(len(eio_sockets), closed, len(meetings), leftover, time.monotonic() - started)
    log.warning(
        "drain: done in %.2fs (%d of %d sockets closed, %d presence entries left over)",
        report.seconds,
        report.closed,
        report.sockets,
        report.leftover_presence,
    )
    return report


def _close(server, eio_sid: str, socket) -> None:
    # abort=True: no Engine.IO CLOSE packet (a client that gets one thinks it was sent away and stays away);
    # the writer still sends what is queued (server_shutdown), then closes the WebSocket.
    try:
        socket.close(wait=True, abort=True, reason=server.eio.reason.SERVER_DISCONNECT)
    except Exception:
        log.exception("drain: closing a socket failed")
    server.eio.sockets.pop(eio_sid, None)


def _local_meetings(app: Flask) -> set[int]:
    from .stores import stores

    with app.app_context():
        try:
            return set(stores().presence.local_meetings())
        except Exception:
            log.exception("drain: could not read this process's meetings")
            return set()


def _remove_leftover_presence(app: Flask, meetings: set[int], local_sids: set[str]) -> int:
    """Remove the presence entries of this process's sockets that are still in the store."""
    from .stores import stores

    removed = 0
    with app.app_context():
        try:
            presence = stores().presence
            for meeting_id, holders in presence.holders(sorted(meetings)).items():
                for sid in set(holders) & local_sids:
                    presence.remove(meeting_id, sid)
                    removed += 1
        except Exception:
            log.exception("drain: could not remove presence entries")
    return removed


def _push(app: Flask, meetings: set[int]) -> None:
    """Presence and MeetingState to each meeting this process served, through the queue, now."""
    from ..extensions import db
    from .push import push_meeting_state, push_presence

    with app.app_context():
        for meeting_id in sorted(meetings):
            try:
                push_presence(meeting_id)
                push_meeting_state(meeting_id)
            except Exception:
                db.session.rollback()
                log.exception("drain: pushing meeting %s failed", meeting_id)
        db.session.remove()
