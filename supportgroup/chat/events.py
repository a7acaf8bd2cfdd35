"""Socket.IO events of the live chat.

Every event follows one shape (see `chat_event`): parse the payload, load the user from the database
(Flask-Login reloads it and checks its session token on every event), rate-limit, load the objects,
authorize through `permissions`, act through a service, commit, emit, and acknowledge with
`{"ok": true, ...}` or `{"ok": false, "error": {"code", "message"}}`. The protocol is in docs/protocol.md.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from flask import current_app, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from sqlalchemy.exc import IntegrityError

from ..attendance import services as attendance
from ..auth.idle import session_is_idle
from ..extensions import db, socketio
from ..models import Meeting
from ..permissions import (Denied, require_authenticated, require_joinable, require_meeting_member,
                           require_meeting_open, require_rules_accepted)
from . import services
from .payloads import ClientId, Int, PayloadError, Text, parse
from .rooms import meeting_room, moderators_room, user_room
from .stores import stores

log = logging.getLogger("supportgroup.chat")

JOINED = "sg_joined_meetings"  # socket-session key: the meetings this socket has joined
SOCKET_USER = "sg_socket_user"  # socket-session key: the account that opened this socket


def error_ack(code: str, message) -> dict:
    return {"ok": False, "error": {"code": code, "message": str(message)}}


def chat_event(name: str, fields: dict | Callable[[], dict] | None = None):
    """Register a socket event handler with parsing, authentication, rate limiting and error acks.

    `fields` is the payload schema, or a function that builds it (for limits read from config).
    """

    def decorator(fn):
        @functools.wraps(fn)
        def handler(data=None, *_extra):
            try:
                user = require_authenticated(current_user)
                if not stores().limiter.hit(user.id):
                    return error_ack("rate_limited", _("You are sending too fast. Please wait a moment."))
                schema = fields() if callable(fields) else (fields or {})
                payload = parse(data if data is not None else {}, schema)
                result = fn(user, **payload)
                return {"ok": True, **(result or {})}
            except (PayloadError, Denied) as refusal:
                db.session.rollback()
                return error_ack(refusal.code, refusal.message)
            except Exception:
                db.session.rollback()
                log.exception("socket event %s failed", name)
                return error_ack("internal_error", _("Something went wrong on our side. Please try again."))

        socketio.on_event(name, handler)
        return handler

    return decorator


@socketio.on("connect")
def on_connect(auth=None):
    if not current_user.is_authenticated or session_is_idle():
        raise ConnectionRefusedError("not_authenticated")
    session[SOCKET_USER] = current_user.id
    session[JOINED] = []
    join_room(user_room(current_user.id))
    stores().connections.add(current_user.id, request.sid)


@socketio.on("disconnect")
def on_disconnect(*_reason):
    # current_user may already be anonymous here (logout, ban): only the socket's own session data counts.
    user_id = session.get(SOCKET_USER)
    for meeting_id in list(session.get(JOINED, [])):
        try:
            _leave(meeting_id)
            db.session.commit()
            _broadcast_presence(meeting_id)
        except Exception:
            db.session.rollback()
            log.exception("leaving meeting %s on disconnect failed", meeting_id)
    if user_id is not None:
        stores().connections.remove(user_id, request.sid)
    db.session.rollback()


def load_meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise Denied("meeting_not_found", _l("This meeting does not exist."), status=404)
    return meeting


def _broadcast_presence(meeting_id: int) -> None:
    people = services.present_people(stores().presence.membership_ids(meeting_id))
    socketio.emit("presence", {"meeting_id": meeting_id, "present": people}, to=meeting_room(meeting_id))


def _leave(meeting_id: int) -> None:
    """Take this socket out of the meeting; end the member's stay if this was their last socket there.

    Works from the socket's own data (presence maps socket id to membership id), never from
    `current_user`, which may be gone on disconnect. The caller commits, then broadcasts presence.
    """
    membership_id = stores().presence.remove(meeting_id, request.sid)
    leave_room(meeting_room(meeting_id))
    leave_room(moderators_room(meeting_id))
    session[JOINED] = [m for m in session.get(JOINED, []) if m != meeting_id]
    if membership_id is not None:
        attendance.record_leave(
            meeting_id, membership_id,
            still_present=lambda: membership_id in stores().presence.membership_ids(meeting_id),
        )


@chat_event("join", {"meeting_id": Int(minimum=1), "after": Int(required=False)})
def join(user, meeting_id: int, after: int | None):
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    require_rules_accepted(membership)
    require_joinable(meeting, membership, current_app.config["LOBBY_MINUTES"])
    cfg = current_app.config
    messages = services.messages_for(meeting, after, cfg["REPLAY_LIMIT"] if after is not None else cfg["RECENT_MESSAGES"])
    # Built before the commit, which expires the loaded objects.
    reply = {
        "meeting": services.meeting_payload(meeting),
        "me": services.person(membership),
        "messages": [services.message_payload(m) for m in messages],
    }
    is_moderator = membership.is_moderator
    already_joined = meeting_id in session.get(JOINED, [])
    # Opens a stay unless this member has one open (another socket). Presence is written before the
    # commit releases the member's row lock, so a racing leave of their other socket sees this one.
    attendance.record_join(meeting, membership)
    stores().presence.add(meeting_id, request.sid, membership.id, membership.is_moderator)
    try:
        db.session.commit()
    except Exception:
        if not already_joined:
            stores().presence.remove(meeting_id, request.sid)
        raise
    join_room(meeting_room(meeting_id))
    if is_moderator:
        join_room(moderators_room(meeting_id))
    if not already_joined:
        session[JOINED] = [*session.get(JOINED, []), meeting_id]
    _broadcast_presence(meeting_id)
    return {**reply, "present": services.present_people(stores().presence.membership_ids(meeting_id))}


@chat_event("leave", {"meeting_id": Int(minimum=1)})
def leave(user, meeting_id: int):
    if meeting_id in session.get(JOINED, []):
        _leave(meeting_id)
        db.session.commit()
        _broadcast_presence(meeting_id)
    return {}


def _send_fields() -> dict:
    # The text limit comes from config, so this schema is built per call.
    return {"meeting_id": Int(minimum=1), "client_id": ClientId(),
            "text": Text(max_length=current_app.config["MAX_MESSAGE_LENGTH"])}


@chat_event("send", _send_fields)
def send(user, meeting_id: int, client_id: str, text: str):
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    # A retry of a stored message gets the same answer, even if the meeting closed since.
    if (sent := services.find_sent(meeting, membership, client_id)) is not None:
        return _send_ack(sent, duplicate=True)
    require_meeting_open(meeting)
    if meeting_id not in session.get(JOINED, []):
        raise Denied("not_joined", _l("Join the meeting before sending."), status=409)
    try:
        message = services.post_message(meeting, membership, client_id, text)
        db.session.commit()
    except IntegrityError:
        # The same client id arrived twice at once: the other copy won; answer as for a retry.
        db.session.rollback()
        if (sent := services.find_sent(meeting, membership, client_id)) is None:
            raise
        return _send_ack(sent, duplicate=True)
    socketio.emit("message", services.message_payload(message), to=meeting_room(meeting.id))
    return _send_ack(message, duplicate=False)


def _send_ack(message, duplicate: bool) -> dict:
    return {"id": message.seq, "client_id": message.client_id, "duplicate": duplicate}


def emit_meeting_state(meeting: Meeting) -> None:
    """Tell everyone in the meeting that its state changed (after the change is committed)."""
    socketio.emit("meeting_state", {"meeting_id": meeting.id, "state": meeting.state.value},
                  to=meeting_room(meeting.id))

