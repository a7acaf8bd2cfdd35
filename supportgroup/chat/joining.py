"""Entering and leaving a meeting: `join`, `leave`, and leaving every meeting when a socket closes.

The protocol is in docs/protocol.md (§3, §7); the pipeline every event goes through in `realtime/pipeline.py`.
"""

from __future__ import annotations

import logging

from flask import current_app, g, session
from flask_babel import lazy_gettext as _l
from flask_socketio import join_room, leave_room

from ..attendance import services as attendance
from ..extensions import db, socketio
from ..models import Meeting, Membership
from ..permissions import Denied, removed_refusal, require_joinable, require_rules_accepted, require_unlocked_for
from ..realtime import push
from ..realtime.connection import on_socket_closed
from ..realtime.describe import hand_queue, meeting_state, message_payload, present_people
from ..realtime.payloads import Int
from ..realtime.pipeline import JOINED, socket_event
from ..realtime.rooms import lobby_room, meeting_room, moderators_room
from ..realtime.socket_id import socket_id
from ..realtime.stores import stores
from ..safety import services as safety
from . import rights, services
from .coalesce import request_presence_push
from .gap_marks import marks
from .posting import load_posting_rights

log = logging.getLogger("supportgroup.chat")


def moderation_snapshot(meeting: Meeting) -> dict:
    """What reaches only the moderators, as it is now (the `join` and `catch_up` acks' `moderation`)."""
    ids = stores().presence.membership_ids(meeting.id)
    return {
        "pending": safety.pending_with_reasons(meeting),
        "reports": services.open_reports(meeting),
        "waiting": present_people(ids, meeting, waiting=True),
        "alerts": safety.open_alerts(meeting),
        "handover": safety.recent_handover_notes(meeting.group_id),
        "muted": services.muted_members(meeting),
    }


class RightsChanged(Exception):
    """A rule the join had read changed while it ran (its scopes' epochs moved): read them again."""


# Refusals that pass while the page stays open: the socket waits in the lobby room (docs/protocol.md §5a, `lobby`).
LOBBY_REFUSALS = frozenset({"meeting_not_open", "meeting_locked", "rules_not_accepted"})

JOIN_TICKETS = "sg_join_tickets"  # socket-session key: meeting id -> number of the newest join of this socket


def take_join_ticket(data: object) -> None:
    """Number this join among the socket's joins of the same meeting, the moment it arrives.

    A socket lives in one process, and its session object is shared by its concurrent events, so a plain
    counter in it is enough: a join whose number is no longer the newest was replaced (`superseded`)."""
    meeting_id = data.get("meeting_id") if isinstance(data, dict) else None
    if isinstance(meeting_id, int) and not isinstance(meeting_id, bool):
        tickets = session.setdefault(JOIN_TICKETS, {})
        tickets[meeting_id] = g.sg_join_ticket = tickets.get(meeting_id, 0) + 1


def require_newest_join(meeting_id: int) -> None:
    ticket = g.get("sg_join_ticket")
    if ticket is not None and session.get(JOIN_TICKETS, {}).get(meeting_id) != ticket:
        raise Denied("superseded", _l("A newer join of this meeting replaced this one."), status=409)


@socket_event(
    "join",
    {"meeting_id": Int(minimum=1), "after": Int(required=False)},
    load_account=False,
    on_arrival=take_join_ticket,
)
def join(user_id: int, meeting_id: int, after: int | None) -> dict:
    """Enter the meeting: the rooms, presence and attendance; the ack carries the replay and the state.

    A join that a newer join of the same socket for the same meeting replaced before it began its database
    work answers `superseded` and does nothing. Rights that change while joining make it read them again
    (`JOIN_ATTEMPTS` times in all); should they keep changing, it answers `rights_changed` (retry)."""
    for _attempt in range(max(1, current_app.config["JOIN_ATTEMPTS"])):
        require_newest_join(meeting_id)
        try:
            return _join(user_id, meeting_id, after)
        except RightsChanged:
            db.session.rollback()
    raise Denied(
        "rights_changed", _l("Your rights in this meeting changed while you joined. Please try again."), status=409
    )


def _join(user_id: int, meeting_id: int, after: int | None) -> dict:
    """One attempt at `join`.

    The socket enters its rooms and presence *before* the replay is read: a message committed meanwhile then
    reaches it live, in the replay, or both (clients drop ids they have), never neither; and whispers and
    other events sent to this person (through presence) reach it too. Then the epochs of what was read are
    checked again: a removal, ban or mute committed after they were first read either changed them (this
    attempt is undone and the join reads everything again) or comes after this socket was in presence (its
    author then finds and disconnects it). The rights read here are kept for the socket's first messages."""
    try:
        entry, _user, meeting, membership = load_posting_rights(meeting_id, user_id)
        facts = entry.facts
        if facts.removed:
            raise removed_refusal()  # for good, whatever else holds: not a lobby refusal
        require_rules_accepted(membership)
        require_joinable(meeting, membership, current_app.config["LOBBY_MINUTES"])
        require_unlocked_for(meeting, membership)
    except Denied as refusal:
        if refusal.code in LOBBY_REFUSALS:
            join_room(lobby_room(meeting_id))  # `lobby` says when to try again: no reload, no polling
        else:  # banned, removed, no longer a member, the group archived: no longer one who may wait
            leave_room(lobby_room(meeting_id))
        raise
    waiting, is_moderator = facts.waiting, membership.is_moderator
    if waiting:
        join_room(lobby_room(meeting_id))  # the meeting may close (or lock) while they wait
    else:
        join_room(meeting_room(meeting_id))
        leave_room(lobby_room(meeting_id))
    if is_moderator:
        join_room(moderators_room(meeting_id))
    try:
        # Presence is written before `record_join` takes the member's row lock and before the commit, so a
        # racing leave of their other socket sees this one.
        stores().presence.add(meeting_id, socket_id(), membership.id, is_moderator)
        if stores().epochs.read(rights.scopes_of(entry)) != entry.epochs:
            raise RightsChanged()
        cfg = current_app.config
        limit = cfg["REPLAY_LIMIT"] if after is not None else cfg["RECENT_MESSAGES"]
        last_id, deleted = marks([meeting_id]).get(meeting_id, (0, 0))  # before the replay: docs/protocol.md §7
        messages = [] if waiting else services.messages_for(meeting, after, limit, membership)
        # Built before the commit, which expires the loaded objects.
        reply = {
            "meeting": services.meeting_payload(meeting),
            "me": entry.person,
            "messages": [message_payload(m) for m in messages],
            "waiting": waiting,
            "muted": {"until": facts.mute_until.isoformat() if facts.mute_until else None, "reason": facts.mute_reason}
            if facts.muted
            else None,
            "hands": hand_queue(meeting),
            "last_id": last_id,
            "deleted": deleted,
        }
        if is_moderator:
            reply["moderation"] = moderation_snapshot(meeting)
        if not waiting:
            attendance.record_join(meeting, membership)  # a stay, unless one is open (another socket)
        reply["state"] = meeting_state(meeting)
        reply["present"] = present_people(stores().presence.membership_ids(meeting_id), meeting)
        db.session.commit()
    except Exception:
        # Undo only what no other join of this socket has completed meanwhile (events run concurrently).
        if meeting_id not in session.get(JOINED, []):
            stores().presence.remove(meeting_id, socket_id())
            leave_room(meeting_room(meeting_id))
            leave_room(moderators_room(meeting_id))
            leave_room(lobby_room(meeting_id))
        raise
    rights.remember(meeting_id, entry)
    if meeting_id not in session.get(JOINED, []):
        session[JOINED] = [*session.get(JOINED, []), meeting_id]
    if not socketio.server.manager.is_connected(socket_id(), "/"):
        # Disconnected while joining (a right taken away meanwhile, `rooms.revoke_rooms`): the disconnect
        # handler may have run before this meeting was in JOINED, and the presence entry written above would
        # then be stamped by the heartbeat for ever (a moderator "present" who is gone). Leave it here.
        moderator_left = _leave(meeting_id)
        db.session.commit()
        _after_leave(meeting_id, moderator_left)
        raise Denied("not_authenticated", _l("Please log in first."), status=401)
    request_presence_push(meeting_id, push.push_presence)
    if is_moderator:
        push.push_meeting_state(meeting_id)  # a moderator is present (again): the chat is open for participants
    return reply


@socket_event("leave", {"meeting_id": Int(minimum=1)})
def leave(user: object, meeting_id: int) -> dict:
    if meeting_id in session.get(JOINED, []):
        moderator_left = _leave(meeting_id)
        db.session.commit()
        _after_leave(meeting_id, moderator_left)
    return {}


def _leave(meeting_id: int) -> bool:
    """Take this socket out of the meeting; end the member's stay if this was their last socket there.

    Works from the socket's own data (presence maps socket id to membership id), never from
    `current_user`, which may be gone on disconnect. The caller commits, then broadcasts presence.
    Returns whether a moderator left (then the meeting's state must be pushed: maybe none is left).
    """
    membership_id = stores().presence.remove(meeting_id, socket_id())
    rights.forget(meeting_id)
    leave_room(meeting_room(meeting_id))
    leave_room(moderators_room(meeting_id))
    leave_room(lobby_room(meeting_id))
    session[JOINED] = [m for m in session.get(JOINED, []) if m != meeting_id]
    if membership_id is None:
        return False
    attendance.record_leave(
        meeting_id,
        membership_id,
        still_present=lambda: membership_id in stores().presence.membership_ids(meeting_id),
    )
    membership = db.session.get(Membership, membership_id)
    return membership is not None and membership.is_moderator


def _after_leave(meeting_id: int, moderator_left: bool) -> None:
    request_presence_push(meeting_id, push.push_presence)
    if moderator_left:
        push.push_meeting_state(meeting_id)


@on_socket_closed
def leave_every_meeting() -> None:
    """The closing socket leaves every meeting the presence store holds it in, whatever its session says (a
    session that lost its list left a ghost that the heartbeat kept present for good: issue #12)."""
    held = stores().presence.meetings_of(socket_id())
    for meeting_id in [*session.get(JOINED, []), *sorted(held - set(session.get(JOINED, [])))]:
        try:
            moderator_left = _leave(meeting_id)
            db.session.commit()
            _after_leave(meeting_id, moderator_left)
        except Exception:
            db.session.rollback()
            log.exception("leaving meeting %s on disconnect failed", meeting_id)
