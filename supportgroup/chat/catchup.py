"""Gap detection (docs/protocol.md §7): `sync` tells clients how far each meeting has come; `catch_up` fills
what they missed.

Live `message` events are at most once: one can be lost when Redis restarts (published into a channel the
other processes did not hear) or when a process dies between the commit and the emit (the sender's retry
is then answered as a duplicate, which does not broadcast again). So every process tells its own sockets,
every `HEARTBEAT_SECONDS` and at once when its queue listener subscribes again, the meeting's highest server
id and how many of its messages are deleted (`sync`, emitted locally: it must not depend on the queue it
repairs). A client that has not covered that far, or knows another number of deletions, asks `catch_up`
for the messages after the point it has covered and for the deleted ids.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from flask import Flask, current_app
from sqlalchemy import select

from ..extensions import db, socketio
from ..models import Meeting, Message
from ..permissions import is_removed_from, is_waiting, removed_refusal, require_meeting_member
from ..realtime import push
from ..realtime.describe import AUTHOR_AS_PERSON, message_payload
from ..realtime.loaders import load_meeting, require_joined
from ..realtime.payloads import Int
from ..realtime.pipeline import socket_event
from ..realtime.queue import queue_manager
from ..realtime.stores import stores
from . import services
from .gap_marks import marks
from .joining import moderation_snapshot

log = logging.getLogger("supportgroup.chat")


def emit_sync(meeting_ids: Iterable[int] | None = None) -> None:
    """Send `sync` to this process's sockets in each meeting (default: every meeting it holds sockets in).

    Emitted locally (`ignore_queue`): every process tells its own sockets. Never raises: the caller (the
    presence heartbeat, the queue listener's hook) must go on whatever happens here."""
    try:
        meetings = stores().presence.local_meetings() if meeting_ids is None else meeting_ids
        for meeting_id, (last_id, deleted) in marks(meetings).items():
            push.sync_locally(meeting_id, last_id, deleted)
    except Exception:
        log.exception("sending sync failed")
    finally:
        db.session.rollback()  # no transaction left open by a read


def _sync_in_context(app: Flask) -> None:
    with app.app_context():
        try:
            emit_sync()
        finally:
            db.session.remove()


def init_catchup(app: Flask) -> None:
    """When the queue's listener subscribes again (Redis is back: messages published meanwhile reached no
    other process), tell this process's sockets at once, in a task of its own (the hook runs in the
    listener, which must go back to listening)."""
    manager = queue_manager(app)
    if manager is not None:
        manager.on_subscribed.append(lambda: socketio.start_background_task(_sync_in_context, app))


@socket_event("catch_up", {"meeting_id": Int(minimum=1), "after": Int(minimum=0)})
def catch_up(user, meeting_id: int, after: int):
    """The messages the caller may see with `after < id <= last_id` (at most `REPLAY_LIMIT`), and every deleted
    id up to `last_id`. Same visibility as `join`'s replay: nothing deleted, held or rejected, no whisper for
    someone else; nothing while waiting to be let in.

    A moderator also gets the moderation snapshot (the `join` ack's `moderation`): what reaches only them
    (`pending`, `alert`, `report`, `pending_resolved`, ...) can be lost on the way as a `message` can, and
    part of it allocates no message id (a report, a resolved alert), so their client replaces its queues
    with it rather than waiting for an event that may never come."""
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    require_joined(meeting_id)
    if is_removed_from(meeting, membership):
        raise removed_refusal()
    # Read first, in a statement of its own: every id up to it is committed and seen by the reads below.
    last_id = db.session.scalar(select(Meeting.last_message_seq).where(Meeting.id == meeting_id)) or 0
    messages = []
    if not is_waiting(meeting, membership):
        messages = list(
            db.session.scalars(
                select(Message)
                .where(
                    Message.meeting_id == meeting_id,
                    services.visible_to(membership),
                    Message.seq > after,
                    Message.seq <= last_id,
                )
                .options(AUTHOR_AS_PERSON)
                .order_by(Message.seq)
                .limit(current_app.config["REPLAY_LIMIT"])
            )
        )
    deleted_ids = list(
        db.session.scalars(
            select(Message.seq)
            .where(Message.meeting_id == meeting_id, Message.deleted_at.is_not(None), Message.seq <= last_id)
            .order_by(Message.seq)
        )
    )
    reply = {"messages": [message_payload(m) for m in messages], "last_id": last_id, "deleted_ids": deleted_ids}
    if membership.is_moderator:
        reply["moderation"] = moderation_snapshot(meeting)
    return reply
