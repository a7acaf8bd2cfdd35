"""The MeetingState snapshot (docs/protocol.md §5a) and pushing it to the meeting's room."""
from __future__ import annotations

from sqlalchemy import select

from ..extensions import db, socketio
from ..models import Meeting, Membership, Message
from .rooms import meeting_room
from .services import message_payload, person
from .stores import stores


def meeting_state(meeting: Meeting) -> dict:
    floor = db.session.get(Membership, meeting.floor_membership_id) if meeting.floor_membership_id else None
    pinned = None
    if meeting.pinned_seq is not None:
        message = db.session.scalar(select(Message).where(Message.meeting_id == meeting.id,
                                                          Message.seq == meeting.pinned_seq,
                                                          Message.deleted_at.is_(None)))
        pinned = message_payload(message) if message is not None else None
    return {
        "meeting_id": meeting.id,
        "state": meeting.state.value,
        "locked": meeting.locked,
        "slow_mode_seconds": meeting.slow_mode_seconds,
        "premoderation": meeting.premoderated,
        "floor": person(floor) if floor is not None else None,
        "floor_only": meeting.floor_only,
        "pinned": pinned,
        "moderator_present": stores().presence.moderator_present(meeting.id),
    }


def emit_meeting_state(meeting_id: int) -> None:
    """Push the current state to everyone in the meeting (call after the change is committed)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is not None:
        socketio.emit("meeting_state", meeting_state(meeting), to=meeting_room(meeting_id))
