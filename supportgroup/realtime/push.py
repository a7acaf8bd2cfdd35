"""The only module that sends anything to clients (`socketio.emit`): every push has a name here.

Event names, payloads and rooms are those of docs/protocol.md. Call a push after the change is committed.
Pushes go through the message queue to every process, except the `*_locally` ones, which each process sends
to its own sockets (`ignore_queue`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..extensions import db, socketio
from ..models import Meeting, MessageKind
from .describe import hand_queue, meeting_state, message_payload, present_people
from .rooms import lobby_room, meeting_room, moderators_room, user_room
from .stores import stores

NAMESPACE = "/"


def to_meeting(meeting_id: int, event: str, payload: dict) -> None:
    """To everyone in the meeting's room (let in, not removed)."""
    socketio.emit(event, payload, to=meeting_room(meeting_id))


def to_moderators(meeting_id: int, event: str, payload: dict) -> None:
    socketio.emit(event, payload, to=moderators_room(meeting_id))


def to_user(user_id: int, event: str, payload: dict) -> None:
    """To every socket of the account, joined or not."""
    socketio.emit(event, payload, to=user_room(user_id))


def to_socket(sid: str, event: str, payload: dict) -> None:
    socketio.emit(event, payload, to=sid)


def to_member(meeting_id: int, membership_id: int, event: str, payload: dict) -> None:
    """To one person's sockets in this meeting, whichever process holds them."""
    for sid in stores().presence.sids_of(meeting_id, membership_id):
        to_socket(sid, event, payload)


def deliver(message: Any, payload: dict | None = None) -> None:
    """Send a stored, visible message to exactly the people who may see it. `payload` is the message's
    (`describe.message_payload`) when the caller has built it already (`send`: no extra query)."""
    if payload is None:
        payload = message_payload(message)
    if message.kind in (MessageKind.CHAT, MessageKind.ANNOUNCEMENT):
        to_meeting(message.meeting_id, "message", payload)
        return
    to_moderators(message.meeting_id, "message", payload)
    if message.kind == MessageKind.WHISPER:
        to_member(message.meeting_id, message.whisper_membership_id, "message", payload)


def push_meeting_state(meeting_id: int) -> None:
    """The current MeetingState to everyone in the meeting; its state and lock to those waiting to get in
    (`lobby`: they join again when it lets them)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is not None:
        state = meeting_state(meeting)
        to_meeting(meeting_id, "meeting_state", state)
        lobby = {"meeting_id": meeting_id, "state": state["state"], "locked": state["locked"]}
        socketio.emit("lobby", lobby, to=lobby_room(meeting_id))


def push_presence(meeting_id: int) -> None:
    """Who is present to the meeting; who waits in the waiting room to its moderators."""
    meeting = db.session.get(Meeting, meeting_id)
    ids = stores().presence.membership_ids(meeting_id)
    to_meeting(meeting_id, "presence", {"meeting_id": meeting_id, "present": present_people(ids, meeting)})
    if meeting is not None and meeting.group.waiting_room:
        waiting = present_people(ids, meeting, waiting=True)
        to_moderators(meeting_id, "waiting", {"meeting_id": meeting_id, "waiting": waiting})


def push_hands(meeting: Meeting) -> None:
    to_meeting(meeting.id, "hands", {"meeting_id": meeting.id, "queue": hand_queue(meeting)})


def ask_alive_locally(sid: str, callback: Callable[..., None]) -> None:
    """`alive` to one socket of this process, straight to it (no queue, no Redis); `callback` gets the answer."""
    socketio.server.emit("alive", {}, to=sid, namespace=NAMESPACE, ignore_queue=True, callback=callback)


def sync_locally(meeting_id: int, last_id: int, deleted: int) -> None:
    """`sync` to this process's sockets in the meeting (docs/protocol.md §7)."""
    socketio.server.emit(
        "sync",
        {"meeting_id": meeting_id, "last_id": last_id, "deleted": deleted},
        to=meeting_room(meeting_id),
        namespace=NAMESPACE,
        ignore_queue=True,
    )


def shutdown_locally(server: Any, reconnect_in_ms: int) -> None:
    """`server_shutdown` to every socket of this process (`realtime/drain.py`)."""
    server.emit("server_shutdown", {"reconnect_in_ms": reconnect_in_ms}, namespace=NAMESPACE, ignore_queue=True)
