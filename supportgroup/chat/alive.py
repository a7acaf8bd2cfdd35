"""Moderators' proof of life (`alive`, docs/protocol.md) and the sweep of presence entries without a socket.

An open socket does not prove that a peer expert is there: a device that froze or lost its network keeps
its socket open until Engine.IO's ping timeout (about 45 s), and the chat stayed writable for participants
all that time (issue #12). So each round the heartbeat of the process holding a moderator's socket sends it
`alive` with an acknowledgement callback, to the socket itself (never a room, never through the queue). The
client answers from an event handler (timers are throttled in background tabs, events are not). Each answer
stamps the socket's moderator entries as proven (`stores.Proofs`); an entry counts only while proven within
`PRESENCE_TTL`, so a frozen moderator turns the chat read-only within `PRESENCE_TTL + HEARTBEAT_SECONDS`. A
device that wakes up and answers again counts again at once (the answer pushes state and presence), once the
database says it may still moderate there (`rooms.may_stay`): a right may have ended while it was frozen.

The sweep: a presence entry whose socket this process no longer holds is a ghost the heartbeat would keep
stamping for ever (issue #12: a client event named `connect` emptied the socket's list of meetings, so its
disconnect removed nothing). Disconnect now removes what the store holds, whatever the session says; the
sweep is the net under that: an entry whose socket is unknown here for two rounds in a row is removed.
"""

from __future__ import annotations

import functools
import logging
from typing import cast

import redis
from flask import Flask, current_app
from werkzeug.local import LocalProxy

from ..attendance import services as attendance
from ..extensions import db, socketio
from ..realtime import push
from ..realtime.rooms import may_stay
from ..realtime.stores import stores

log = logging.getLogger("supportgroup.chat")

NAMESPACE = "/"
SUSPECTS = "sg_presence_ghost_suspects"


def ask_moderators() -> None:
    """Send `alive` to each socket of this process that is present as a moderator (proven or not)."""
    app = cast("LocalProxy[Flask]", current_app)._get_current_object()
    presence = stores().presence
    server = socketio.server
    for sid in presence.moderator_sids():
        if server.manager.is_connected(sid, NAMESPACE):
            push.ask_alive_locally(sid, functools.partial(_answered, app, presence, sid))


def _answered(app: Flask, presence, sid: str, *_answer) -> None:
    """The client answered (whatever it said: answering is the proof). A socket whose proof had run out
    counts again only after the database allows it (`_return`, in a background task: it queries)."""
    if not presence.proofs.live(sid):
        socketio.start_background_task(_return, app, presence, sid)
        return
    _prove(app, presence, sid)


def _prove(app: Flask, presence, sid: str) -> None:
    try:
        back = presence.prove(sid)
    except redis.RedisError as error:  # the heartbeat reports the outage; a later answer proves again
        log.warning("alive: Redis failed (%s)", type(error).__name__)
        return
    if back:  # a moderator who counted as gone is back: open the chat again now, not a round later
        socketio.start_background_task(_push, app, sorted(back))


def _return(app: Flask, presence, sid: str) -> None:
    """A moderator whose proof had run out answered: re-check its rights from the database first, and
    disconnect the socket if it may not stay in every meeting it entered (its disconnect handler leaves them)."""
    from ..models import Meeting, Membership

    with app.app_context():
        try:
            allowed = True
            for meeting_id, (membership_id, as_moderator) in presence.entries_of(sid).items():
                meeting, membership = db.session.get(Meeting, meeting_id), db.session.get(Membership, membership_id)
                if meeting is None or membership is None or not may_stay(meeting, membership, as_moderator):
                    allowed = False
                    break
        except Exception as error:  # the next answer tries again; meanwhile it does not count
            log.warning("alive: re-checking a returning moderator failed (%s)", type(error).__name__)
            return
        finally:
            db.session.remove()
    if allowed:
        _prove(app, presence, sid)
    else:
        socketio.server.disconnect(sid, namespace=NAMESPACE)


def _push(app: Flask, meeting_ids: list[int]) -> None:
    with app.app_context():
        try:
            for meeting_id in meeting_ids:
                push.push_presence(meeting_id)
                push.push_meeting_state(meeting_id)
        except Exception:
            log.exception("alive: pushing the state of a returning moderator failed")
        finally:
            db.session.remove()


def sweep_ghosts() -> None:
    """Remove presence entries whose socket this process no longer holds, seen so in two rounds in a row;
    first retry the revocations of rooms that failed in this process.

    Waiting a round leaves a disconnect handler (or a join undoing itself) time to do the work, with
    attendance, first. What this round found is kept for the next in `app.extensions`.
    """
    suspects: set[tuple[int, str]] = current_app.extensions.setdefault(SUSPECTS, set())
    presence = stores().presence
    manager = socketio.server.manager
    found = {
        (meeting_id, sid)
        for meeting_id, sid in presence.local_entries()
        if manager.eio_sid_from_sid(sid, NAMESPACE) is None
    }
    gone = found & suspects
    changed: set[int] = set()
    for meeting_id, sid in sorted(gone):
        membership_id = presence.remove(meeting_id, sid)
        if membership_id is None:
            continue
        log.warning("presence: removed an entry whose socket is gone (meeting %s)", meeting_id)
        try:

            def still_present(m: int = meeting_id, i: int = membership_id) -> bool:
                return i in stores().presence.membership_ids(m)

            attendance.record_leave(meeting_id, membership_id, still_present=still_present)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("presence: closing the stay of a swept entry failed")
        changed.add(meeting_id)
    if changed:
        for meeting_id in sorted(changed):
            push.push_presence(meeting_id)
            push.push_meeting_state(meeting_id)
    current_app.extensions[SUSPECTS] = found - gone
