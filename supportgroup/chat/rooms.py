"""Room names and pushing to rooms. Rooms: one per meeting, one for its moderators, one per user."""
from __future__ import annotations

from ..extensions import socketio
from .stores import stores


def meeting_room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def moderators_room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:moderators"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def disconnect_user(user_id: int) -> None:
    """End every socket of this user, in every server process (after logout, ban, password change)."""
    for sid in stores().connections.sids(user_id):
        socketio.server.disconnect(sid, namespace="/")
