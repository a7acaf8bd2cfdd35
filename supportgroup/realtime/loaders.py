"""Loading what an event names, or refusing with the protocol's error code (docs/protocol.md)."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, session
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Meeting, Membership
from ..permissions import Denied
from .payloads import ClientId, Int, Text
from .pipeline import JOINED
from .stores import stores


def load_meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise Denied("meeting_not_found", _l("This meeting does not exist."), status=404)
    return meeting


def load_member(meeting: Meeting, public_id: str) -> Membership:
    """A member of the meeting's group, by the public id clients know them by."""
    membership = db.session.scalar(
        select(Membership).where(Membership.group_id == meeting.group_id, Membership.public_id == public_id)
    )
    if membership is None:
        raise Denied("member_not_found", _l("This person is not in this group."), status=404)
    return membership


def present_members(meeting_id: int) -> list[Membership]:
    """The memberships present in the meeting now (waiting ones too), in any process."""
    ids = stores().presence.membership_ids(meeting_id)
    return list(db.session.scalars(select(Membership).where(Membership.id.in_(ids)))) if ids else []


def require_joined(meeting_id: int) -> None:
    if meeting_id not in session.get(JOINED, []):
        raise Denied("not_joined", _l("Join the meeting before sending."), status=409)


def text_fields(**more: object) -> Callable[[], dict]:
    """Schema of events that carry a chat text; the length limit comes from config, so it is built per call."""

    def fields() -> dict:
        return {
            "meeting_id": Int(minimum=1),
            "client_id": ClientId(),
            "text": Text(max_length=current_app.config["MAX_MESSAGE_LENGTH"]),
            **more,
        }

    return fields
