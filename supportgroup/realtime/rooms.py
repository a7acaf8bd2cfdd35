"""Room names, and taking rooms away. Rooms: one per meeting, one for its moderators, one per user.

A socket sits in rooms because of rights it had when it joined: the meeting's room (an active member, not
removed, let in), the moderators' room (a trained peer expert moderating the group), its user's room (a
logged-in, enabled account). When a right ends, the rooms that carry it must go at once, in every process
(docs/architecture.md, "Who may hear what"): `revoke_rooms` does that after the change is committed.
"""

from __future__ import annotations

import logging

import redis
from flask import current_app
from sqlalchemy import select

from ..extensions import db, socketio
from ..models import Meeting, Membership, User
from ..permissions import Denied, is_removed_from, require_group_in_use, require_meeting_member
from .stores import stores
from .unavailable import outage

log = logging.getLogger("supportgroup.chat")  # the name operators filter on (unchanged by the move)

PENDING = "sg_pending_revocations"  # app.extensions: scopes whose revocation failed, retried by the heartbeat


def meeting_room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}"


def moderators_room(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:moderators"


def lobby_room(meeting_id: int) -> str:
    """Sockets waiting to get in (refused for now: not open yet, locked, house rules; or in the waiting
    room). They hear only `lobby` (the state and the lock, never content or people), then join again."""
    return f"meeting:{meeting_id}:lobby"


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def disconnect_user(user_id: int) -> None:
    """End every socket of this user, in every server process (after logout, ban, password change)."""
    for sid in stores().connections.sids(user_id):
        socketio.server.disconnect(sid, namespace="/")


def disconnect_member(meeting_id: int, membership_id: int) -> None:
    """End a person's sockets in this meeting, in whichever process holds them.

    Only the owning process may take a socket out of presence (its heartbeat would write it back), so this
    disconnects through Socket.IO; the owner's disconnect handler then leaves the meeting properly.
    """
    for sid in stores().presence.sids_of(meeting_id, membership_id):
        socketio.server.disconnect(sid, namespace="/")


def may_stay(meeting: Meeting, membership: Membership, entered_as_moderator: bool) -> bool:
    """Whether a socket that joined `meeting` through `membership` may still be in the rooms it entered.

    The same rules as `join` (through `permissions`), read from the database now, except the conditions of
    *entering* only: the lobby time, a locked meeting, house rules changed since consent ("accepted before
    their next meeting") and a waiting room switched on later. A socket that entered as moderator and is no
    longer one may not stay either, even if it may still take part."""
    try:
        require_meeting_member(membership.user, meeting)  # enabled account, active membership, still trained
        require_group_in_use(meeting)  # not archived
    except Denied:
        return False
    if entered_as_moderator and not membership.is_moderator:
        return False
    return membership.is_moderator or not is_removed_from(meeting, membership)


def revoke_rooms(*, user_id: int | None = None, group_id: int | None = None) -> int:
    """Take away the rooms a right carried: call it after the commit of any change that may end one.

    Re-evaluates, from the database, every socket present in a live meeting (of this user, of this group, or
    of this user in this group) and disconnects each one that may no longer stay (`may_stay`), in whichever
    process holds it: python-socketio forwards `disconnect` through the message queue, and that process's
    disconnect handler then leaves the meeting properly (rooms, presence, attendance, the kept posting
    rights). A `leave_room` from here would leave the socket's presence (which only its holder may remove),
    its joined list and its kept rights behind. The client reconnects and joins with the rights it has now.
    An account that is disabled or gone loses every socket, joined or not (its user room too).

    Cheap when nothing ended (one Redis read, a query, one Redis pipeline), so callers need not know whether
    anything did; for a user, only the live meetings of that user's groups are read, whatever the platform's
    size. A join racing this is safe: it enters presence before it re-reads the epochs that the change bumped
    before its commit, so either the join starts over or this finds its socket.

    The change is committed already, so a failure here (Redis down) must not fail the page: it is logged
    (class name only), the scope is kept in this process, and the heartbeat retries it every round
    (`retry_revocations`) until it succeeds, so within a round of Redis answering again. Until then the
    socket's own events are refused (each re-checks its rights from the database; `unavailable` while Redis
    is down) and a moderator whose proof of life ran out is re-checked before it counts again (chat/alive.py),
    but the socket still hears its rooms. Returns how many sockets were disconnected (0 when it failed;
    `pending_revocations()` then holds the scope).
    """
    if user_id is None and group_id is None:
        raise ValueError("revoke_rooms needs a user, a group or both")
    try:
        ended = _revoke(user_id, group_id)
    except Exception as error:  # Redis or the database failing, or anything else: never fail the committed page
        db.session.rollback()  # only reads happened; the session must be usable for the page
        if isinstance(error, (redis.RedisError, OSError)) or outage(error):
            log.warning("revoke_rooms: failed (%s), retried by the heartbeat", type(error).__name__)
        else:
            log.exception("revoke_rooms: failed, retried by the heartbeat")
        pending_revocations().add((user_id, group_id))
        return 0
    pending_revocations().discard((user_id, group_id))  # done: no retry needed any more
    return ended


def pending_revocations() -> set[tuple[int | None, int | None]]:
    """This process's (user id, group id) scopes whose revocation failed and waits for a retry."""
    return current_app.extensions.setdefault(PENDING, set())


def retry_revocations() -> None:
    """Retry the revocations that failed in this process (the heartbeat calls it every round)."""
    pending = pending_revocations()
    for user_id, group_id in sorted(pending, key=lambda scope: (scope[0] or 0, scope[1] or 0)):
        revoke_rooms(user_id=user_id, group_id=group_id)  # keeps the scope if it fails again


def _revoke(user_id: int | None, group_id: int | None) -> int:
    store = stores()
    if user_id is not None:
        user = db.session.get(User, user_id)
        if user is None or not user.is_active:
            sids = store.connections.sids(user_id)
            disconnect_user(user_id)
            return len(sids)
    live = store.presence.live_meetings()
    if not live:
        return 0
    query = select(Meeting).where(Meeting.id.in_(live))
    if group_id is not None:
        query = query.where(Meeting.group_id == group_id)
    else:  # the user's groups only (any membership status: a removed one may still hold a socket)
        query = query.where(Meeting.group_id.in_(select(Membership.group_id).where(Membership.user_id == user_id)))
    meetings = list(db.session.scalars(query))
    holders = store.presence.holders([m.id for m in meetings]) if meetings else {}
    membership_ids = {mid for entries in holders.values() for mid, _mod in entries.values()}
    if not membership_ids:
        return 0
    memberships = {m.id: m for m in db.session.scalars(select(Membership).where(Membership.id.in_(membership_ids)))}
    ended = 0
    for meeting in meetings:
        for sid, (membership_id, as_moderator) in holders[meeting.id].items():
            membership = memberships.get(membership_id)
            if membership is not None and user_id is not None and membership.user_id != user_id:
                continue  # someone else's socket: not this change's business
            if membership is None or not may_stay(meeting, membership, as_moderator):
                socketio.server.disconnect(sid, namespace="/")
                ended += 1
    return ended
