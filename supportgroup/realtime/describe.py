"""How people, messages and a meeting's live state look to clients (docs/protocol.md §2, §5a).

Shared by every feature that pushes or answers (chat, moderation, safety): never an account id or a
username, only a member's public id, alias or a peer expert's first name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Admission, Hand, Meeting, Membership, MembershipRole, Message, MessageKind, PeerExpertProfile, User
from .stores import stores

# What `person` reads, loaded in the same query (all many-to-one: no rows are multiplied): one query where
# a chain of select-in loads took four. Joins and replays are what a reconnect storm costs.
MEMBER_AS_PERSON = joinedload(Membership.user).joinedload(User.profile)
AUTHOR_AS_PERSON = joinedload(Message.author).joinedload(Membership.user).joinedload(User.profile)


def person(membership: Membership) -> dict:
    """How a member appears to others: an alias for participants, a first name for peer experts.

    Never an account id or a username.
    """
    profile = membership.user.profile if membership.is_moderator else None
    return _person(
        membership.public_id, membership.alias, membership.is_moderator, profile.first_name if profile else None
    )


def _person(public_id: str, alias: str | None, is_moderator: bool, first_name: str | None) -> dict:
    if is_moderator:
        return {"id": public_id, "name": first_name or "", "role": "peer_expert"}
    return {"id": public_id, "name": alias, "role": "participant"}


def message_payload(message: Any, author: dict | None = None) -> dict:
    """A message (a `Message`, or a `messages.StoredMessage` just inserted) as clients see it; `author` is the
    author's `person` when the caller has it already (a `StoredMessage` has no loaded author)."""
    payload = {
        "id": message.seq,
        "meeting_id": message.meeting_id,
        "client_id": message.client_id,
        "author": author if author is not None else person(message.author),
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "kind": message.kind,
    }
    if message.kind == MessageKind.WHISPER and message.whisper_membership_id is not None:
        payload["to"] = person(db.session.get_one(Membership, message.whisper_membership_id))
    return payload


def present_people(membership_ids: set[int], meeting: Meeting | None = None, *, waiting: bool = False) -> list[dict]:
    """People present (or, with `waiting`, those in the waiting room) as Persons."""
    if not membership_ids:
        return []
    # Columns, not objects: every join and every presence push reads the whole room.
    rows = db.session.execute(
        select(Membership.id, Membership.public_id, Membership.alias, Membership.role, PeerExpertProfile.first_name)
        .outerjoin(PeerExpertProfile, PeerExpertProfile.user_id == Membership.user_id)
        .where(Membership.id.in_(membership_ids))
    ).all()
    members = [(row.id, row.role == MembershipRole.MODERATOR, row) for row in rows]
    if meeting is not None and meeting.group.waiting_room:
        admitted = set(db.session.scalars(select(Admission.membership_id).where(Admission.meeting_id == meeting.id)))
        members = [m for m in members if (m[1] or m[0] in admitted) != waiting]
    elif waiting:
        return []
    people = [_person(row.public_id, row.alias, moderator, row.first_name) for _id, moderator, row in members]
    # Peer experts first, then aliases alphabetically: a stable order that reveals nothing.
    people.sort(key=lambda p: (p["role"] != "peer_expert", (p["name"] or "").lower()))
    return people


def hand_queue(meeting: Meeting) -> list[dict]:
    """The raised hands, first raised first."""
    members = db.session.scalars(
        select(Membership)
        .join(Hand, Hand.membership_id == Membership.id)
        .where(Hand.meeting_id == meeting.id)
        .order_by(Hand.raised_at, Hand.id)
        .options(MEMBER_AS_PERSON)
    )
    return [person(m) for m in members]


def meeting_state(meeting: Meeting) -> dict:
    """The MeetingState snapshot (docs/protocol.md §5a)."""
    floor = db.session.get(Membership, meeting.floor_membership_id) if meeting.floor_membership_id else None
    pinned = None
    if meeting.pinned_seq is not None:
        message = db.session.scalar(
            select(Message).where(
                Message.meeting_id == meeting.id, Message.seq == meeting.pinned_seq, Message.deleted_at.is_(None)
            )
        )
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
