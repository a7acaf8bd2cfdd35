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

from flask import current_app, g, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room, leave_room
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..attendance import services as attendance
from ..auth.idle import forget_socket, note_socket_activity, remember_socket, session_is_idle
from ..extensions import db, socketio
from ..i18n import SOCKET_LOCALE_KEY
from ..models import Meeting, Membership, Message, User
from ..moderation import services as moderation
from ..permissions import (Denied, check_can_post, last_chat_at, posting_facts, removed_refusal,
                           require_authenticated, require_joinable, require_meeting_member, require_meeting_open,
                           require_not_removed, require_rules_accepted, require_unlocked_for)
from ..realtime.unavailable import outage
from ..safety import services as safety
from . import rights, services
from .coalesce import request_presence_push
from .gap_marks import marks
from .payloads import ClientId, Int, Member, PayloadError, Reason, Text, parse
from .rooms import meeting_room, moderators_room, user_room
from .state import emit_meeting_state, meeting_state
from .stores import stores

log = logging.getLogger("supportgroup.chat")

JOINED = "sg_joined_meetings"  # socket-session key: the meetings this socket has joined
SOCKET_USER = "sg_socket_user"  # socket-session key: the account that opened this socket
SOCKET_LOCALE = SOCKET_LOCALE_KEY  # socket-session key: the language chosen at connect (i18n.py)


# Used when even the translation of an error fails: an error acknowledgement must always go out.
_PLAIN_ENGLISH = "Something went wrong on our side. Please try again."


def error_ack(code: str, message, **extra) -> dict:
    """`{"ok": false, "error": ...}`. Never needs the database: a socket's language was chosen at connect and
    is kept in its session (`i18n.select_locale`); if the message still cannot be rendered, plain English."""
    try:
        text = str(message)
    except Exception:
        text = _PLAIN_ENGLISH
    return {"ok": False, "error": {"code": code, "message": text, **extra}}


def _rollback_quietly() -> None:
    """Roll back; when the database is gone the rollback fails too, and the error ack must still go out."""
    try:
        db.session.rollback()
    except Exception:
        try:
            db.session.close()  # gives the broken connection back (invalidated)
        except Exception:
            pass


def failure_ack(name: str, error: Exception) -> dict:
    """The ack for an unexpected failure: `unavailable` when the database or Redis cannot be reached (one log
    line, no traceback: an outage would write one per event), else `internal_error` with the traceback."""
    if outage(error):
        log.warning("socket event %s failed: %s unreachable (%s)", name, outage(error), type(error).__name__)
        return error_ack("unavailable", _l("The service is unavailable for a moment. Please try again."))
    log.exception("socket event %s failed", name)
    return error_ack("internal_error", _l("Something went wrong on our side. Please try again."))


def rate_limited_ack() -> dict:
    return error_ack("rate_limited", _l("You are sending too fast. Please wait a moment."))


class OverBudget(Exception):
    """Raised by a handler that counts its own event (`counts_itself`) when the account is over budget."""


def chat_event(name: str, fields: dict | Callable[[], dict] | None = None, *, load_account: bool = True,
               counts_itself: bool = False, on_arrival: Callable[[object], None] | None = None):
    """Register a socket event handler with parsing, authentication, rate limiting and error acks.

    `fields` is the payload schema, or a function that builds it (for limits read from config). The handler
    gets the account, reloaded and checked from the database; with `load_account=False` it gets the id of
    the account that opened the socket instead, and must check the account itself (`join` and `send` do,
    through `load_posting_rights`, whose answer a socket keeps only until the account changes).
    Every event counts against the account's budget (`chat/gate.py`); `counts_itself` handlers count a
    well-formed event themselves (`send`, in the same round trip as its other Redis reads) and raise
    `OverBudget`; a malformed one is counted here. `on_arrival(data)` runs first, before anything that waits
    (`join` numbers its requests there, see `take_join_ticket`). Every deliberate event (not the ones a page
    sends by itself: join, leave, catch_up) counts as activity of the session for its idle timeout
    (`auth/idle.py`).
    """

    def decorator(fn):
        @functools.wraps(fn)
        def handler(data=None, *_extra):
            try:
                if on_arrival is not None:
                    on_arrival(data)
                if load_account:
                    user = require_authenticated(current_user)
                elif (user := session.get(SOCKET_USER)) is None:
                    raise Denied("not_authenticated", _l("Please log in first."), status=401)
                note_socket_activity(name)  # deliberate events only count (auth/idle.py)
                gate = stores().gate
                if not counts_itself and not gate.hit(user.id if load_account else user):
                    return rate_limited_ack()
                schema = fields() if callable(fields) else (fields or {})
                try:
                    payload = parse(data if data is not None else {}, schema)
                except PayloadError:
                    if counts_itself and not gate.hit(user.id if load_account else user):
                        return rate_limited_ack()
                    raise
                result = fn(user, **payload)
                return {"ok": True, **(result or {})}
            except OverBudget:
                _rollback_quietly()
                return rate_limited_ack()
            except (PayloadError, Denied) as refusal:
                _rollback_quietly()
                return error_ack(refusal.code, refusal.message, **getattr(refusal, "extra", {}))
            except Exception as error:
                _rollback_quietly()
                return failure_ack(name, error)

        socketio.on_event(name, handler)
        return handler

    return decorator


@socketio.on("connect")
def on_connect(auth=None):
    """Refuse with `not_authenticated` (log in again) or `unavailable` (the session cannot be checked now: the
    database or Redis is down; the client retries), never with silence. The socket's language is chosen here
    and kept in its session, so that no error ack needs the database (`error_ack`)."""
    try:
        if not current_user.is_authenticated or session_is_idle():
            raise ConnectionRefusedError("not_authenticated")
        session[SOCKET_LOCALE] = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
        session[SOCKET_USER] = current_user.id
        session[JOINED] = []
        join_room(user_room(current_user.id))
        stores().connections.add(current_user.id, request.sid)
        remember_socket()
    except ConnectionRefusedError:
        _rollback_quietly()
        raise
    except Exception as error:
        _rollback_quietly()
        if outage(error):
            log.warning("socket connect refused: %s unreachable (%s)", outage(error), type(error).__name__)
        else:
            log.exception("socket connect failed")
        raise ConnectionRefusedError("unavailable") from None


@socketio.on("*")
def unknown_event(event, *_args):
    """Every event is acknowledged: a name the server does not know too (no database, no handler). It counts
    against the account's event budget like any other event, so a flood of them is limited too."""
    user_id = session.get(SOCKET_USER)
    try:
        if user_id is not None and not stores().gate.hit(user_id):
            return rate_limited_ack()
    except Exception as error:  # Redis away: the answer is the same, and costs nothing
        if not outage(error):
            log.exception("counting an unknown event failed")
    return error_ack("unknown_event", _l("The server does not know this request."))


@socketio.on("disconnect")
def on_disconnect(*_reason):
    # current_user may already be anonymous here (logout, ban): only the socket's own data counts. The
    # meetings to leave are every one the presence store holds this socket in, whatever the session says
    # (a session that lost its list left a ghost that the heartbeat kept present for good: issue #12).
    user_id = session.get(SOCKET_USER)
    held = stores().presence.meetings_of(request.sid)
    for meeting_id in [*session.get(JOINED, []), *sorted(held - set(session.get(JOINED, [])))]:
        try:
            moderator_left = _leave(meeting_id)
            db.session.commit()
            _after_leave(meeting_id, moderator_left)
        except Exception:
            db.session.rollback()
            log.exception("leaving meeting %s on disconnect failed", meeting_id)
    if user_id is not None:
        stores().connections.remove(user_id, request.sid)
    forget_socket(request.sid)
    db.session.rollback()


def load_meeting(meeting_id: int) -> Meeting:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise Denied("meeting_not_found", _l("This meeting does not exist."), status=404)
    return meeting


def broadcast_presence(meeting_id: int) -> None:
    """Who is present to the meeting; who waits in the waiting room to its moderators."""
    meeting = db.session.get(Meeting, meeting_id)
    ids = stores().presence.membership_ids(meeting_id)
    people = services.present_people(ids, meeting)
    socketio.emit("presence", {"meeting_id": meeting_id, "present": people}, to=meeting_room(meeting_id))
    if meeting is not None and meeting.group.waiting_room:
        waiting = services.present_people(ids, meeting, waiting=True)
        socketio.emit("waiting", {"meeting_id": meeting_id, "waiting": waiting}, to=moderators_room(meeting_id))


def emit_to_member(meeting_id: int, membership_id: int, event: str, payload: dict) -> None:
    """To one person's sockets in this meeting, whichever process holds them."""
    for sid in stores().presence.sids_of(meeting_id, membership_id):
        socketio.emit(event, payload, to=sid)


def _leave(meeting_id: int) -> bool:
    """Take this socket out of the meeting; end the member's stay if this was their last socket there.

    Works from the socket's own data (presence maps socket id to membership id), never from
    `current_user`, which may be gone on disconnect. The caller commits, then broadcasts presence.
    Returns whether a moderator left (then the meeting's state must be pushed: maybe none is left).
    """
    membership_id = stores().presence.remove(meeting_id, request.sid)
    rights.forget(meeting_id)
    leave_room(meeting_room(meeting_id))
    leave_room(moderators_room(meeting_id))
    session[JOINED] = [m for m in session.get(JOINED, []) if m != meeting_id]
    if membership_id is None:
        return False
    attendance.record_leave(
        meeting_id, membership_id,
        still_present=lambda: membership_id in stores().presence.membership_ids(meeting_id),
    )
    membership = db.session.get(Membership, membership_id)
    return membership is not None and membership.is_moderator


def _after_leave(meeting_id: int, moderator_left: bool) -> None:
    request_presence_push(meeting_id, broadcast_presence)
    if moderator_left:
        emit_meeting_state(meeting_id)


def _moderation_snapshot(meeting: Meeting) -> dict:
    ids = stores().presence.membership_ids(meeting.id)
    return {"pending": safety.pending_with_reasons(meeting), "reports": services.open_reports(meeting),
            "waiting": services.present_people(ids, meeting, waiting=True),
            "alerts": safety.open_alerts(meeting), "handover": safety.recent_handover_notes(meeting.group_id)}


class RightsChanged(Exception):
    """A rule the join had read changed while it ran (its scopes' epochs moved): read them again."""


JOIN_TICKETS = "sg_join_tickets"  # socket-session key: meeting id -> number of the newest join of this socket


def take_join_ticket(data) -> None:
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


@chat_event("join", {"meeting_id": Int(minimum=1), "after": Int(required=False)}, load_account=False,
            on_arrival=take_join_ticket)
def join(user_id: int, meeting_id: int, after: int | None):
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
    raise Denied("rights_changed", _l("Your rights in this meeting changed while you joined. Please try again."),
                 status=409)


def _join(user_id: int, meeting_id: int, after: int | None) -> dict:
    """One attempt at `join`.

    The socket enters its rooms and presence *before* the replay is read: a message committed meanwhile then
    reaches it live, in the replay, or both (clients drop ids they have), never neither; and whispers and
    other events sent to this person (through presence) reach it too. Then the epochs of what was read are
    checked again: a removal, ban or mute committed after they were first read either changed them (this
    attempt is undone and the join reads everything again) or comes after this socket was in presence (its
    author then finds and disconnects it). The rights read here are kept for the socket's first messages."""
    entry, _user, meeting, membership = load_posting_rights(meeting_id, user_id)
    facts = entry.facts
    require_rules_accepted(membership)
    require_joinable(meeting, membership, current_app.config["LOBBY_MINUTES"])
    if facts.removed:
        raise removed_refusal()
    require_unlocked_for(meeting, membership)
    waiting, is_moderator = facts.waiting, membership.is_moderator
    if not waiting:
        join_room(meeting_room(meeting_id))
    if is_moderator:
        join_room(moderators_room(meeting_id))
    try:
        # Presence is written before `record_join` takes the member's row lock and before the commit, so a
        # racing leave of their other socket sees this one.
        stores().presence.add(meeting_id, request.sid, membership.id, is_moderator)
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
            "messages": [services.message_payload(m) for m in messages],
            "waiting": waiting,
            "muted": {"until": facts.mute_until.isoformat() if facts.mute_until else None,
                      "reason": facts.mute_reason} if facts.muted else None,
            "hands": services.hand_queue(meeting),
            "last_id": last_id,
            "deleted": deleted,
        }
        if is_moderator:
            reply["moderation"] = _moderation_snapshot(meeting)
        if not waiting:
            attendance.record_join(meeting, membership)  # a stay, unless one is open (another socket)
        reply["state"] = meeting_state(meeting)
        reply["present"] = services.present_people(stores().presence.membership_ids(meeting_id), meeting)
        db.session.commit()
    except Exception:
        # Undo only what no other join of this socket has completed meanwhile (events run concurrently).
        if meeting_id not in session.get(JOINED, []):
            stores().presence.remove(meeting_id, request.sid)
            leave_room(meeting_room(meeting_id))
            leave_room(moderators_room(meeting_id))
        raise
    rights.remember(meeting_id, entry)
    if meeting_id not in session.get(JOINED, []):
        session[JOINED] = [*session.get(JOINED, []), meeting_id]
    if not socketio.server.manager.is_connected(request.sid, "/"):
        # Disconnected while joining (a right taken away meanwhile, `rooms.revoke_rooms`): the disconnect
        # handler may have run before this meeting was in JOINED, and the presence entry written above would
        # then be stamped by the heartbeat for ever (a moderator "present" who is gone). Leave it here.
        moderator_left = _leave(meeting_id)
        db.session.commit()
        _after_leave(meeting_id, moderator_left)
        raise Denied("not_authenticated", _l("Please log in first."), status=401)
    request_presence_push(meeting_id, broadcast_presence)
    if is_moderator:
        emit_meeting_state(meeting_id)  # a moderator is present (again): the chat is open for participants
    return reply


@chat_event("leave", {"meeting_id": Int(minimum=1)})
def leave(user, meeting_id: int):
    if meeting_id in session.get(JOINED, []):
        moderator_left = _leave(meeting_id)
        db.session.commit()
        _after_leave(meeting_id, moderator_left)
    return {}


def text_fields(**more) -> Callable[[], dict]:
    """Schema of events that carry a chat text; the length limit comes from config, so it is built per call."""
    def fields() -> dict:
        return {"meeting_id": Int(minimum=1), "client_id": ClientId(),
                "text": Text(max_length=current_app.config["MAX_MESSAGE_LENGTH"]), **more}
    return fields


def require_joined(meeting_id: int) -> None:
    if meeting_id not in session.get(JOINED, []):
        raise Denied("not_joined", _l("Join the meeting before sending."), status=409)


def store_message(meeting: Meeting, membership: Membership, client_id: str, text: str, *,
                  also: Callable[[Message], object] | None = None, **kind) -> tuple[Message, bool]:
    """Store once per client id (retries and simultaneous copies resolve to one message) and commit.

    `also` runs in the same transaction after the message is flushed (e.g. storing crisis alerts)."""
    try:
        message = services.post_message(meeting, membership, client_id, text, **kind)
        if also is not None:
            also(message)
        db.session.commit()
    except IntegrityError:
        # The same client id arrived twice at once: the other copy won; answer as for a retry.
        db.session.rollback()
        if (sent := services.find_sent(meeting, membership, client_id)) is None:
            raise
        return sent, False
    return message, True


def deliver(message: Message) -> None:
    """Send a stored, visible message to exactly the people who may see it."""
    payload = services.message_payload(message)
    if message.kind in ("chat", "announcement"):
        socketio.emit("message", payload, to=meeting_room(message.meeting_id))
        return
    socketio.emit("message", payload, to=moderators_room(message.meeting_id))
    if message.kind == "whisper":
        emit_to_member(message.meeting_id, message.whisper_membership_id, "message", payload)


def load_posting_rights(meeting_id: int, user_id: int) -> tuple[rights.Entry, User, Meeting, Membership]:
    """The account, the meeting, the membership and what it may post, read from the database now.

    The scopes' epochs are read before anything else (the meeting's group id never changes), so a change
    committed after that read invalidates the answer wherever it is kept."""
    group_id = db.session.scalar(select(Meeting.group_id).where(Meeting.id == meeting_id))
    if group_id is None:
        raise Denied("meeting_not_found", _l("This meeting does not exist."), status=404)
    epochs = rights.read_epochs(meeting_id, group_id, user_id)
    user = require_authenticated(current_user)  # the account and its session token, read now
    if user.id != user_id:
        raise Denied("not_authenticated", _l("Please log in first."), status=401)
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    entry = rights.Entry(epochs, user_id, posting_facts(meeting, membership), services.person(membership))
    return entry, user, meeting, membership


def posting_rights(meeting_id: int, user_id: int) -> tuple[rights.Entry, bool]:
    """What this socket's account may post in the meeting, and whether a peer expert is present.

    One Redis round trip counts the event against the account's budget and reads the epochs of the answer
    this socket keeps (since `join` or its last message) and, for a participant, moderator presence. The
    kept answer is used while no scope it was read from has changed; else it is read from the database now.
    """
    kept = rights.kept(meeting_id)
    ask_presence = kept is None or not kept.facts.is_moderator  # without a kept answer: maybe a participant
    answer = stores().gate.check(user_id, rights.scopes_of(kept) if kept else [], meeting_id if ask_presence else None)
    if not answer.allowed:
        raise OverBudget()
    if kept is not None and answer.epochs == kept.epochs:
        entry = kept
    else:
        entry = load_posting_rights(meeting_id, user_id)[0]
        rights.remember(meeting_id, entry)
    present = answer.moderator_present
    if present is None:  # not asked: a kept moderator's answer, or one that is a moderator's now
        present = entry.facts.is_moderator or stores().presence.moderator_present(meeting_id)
    return entry, present


@chat_event("send", text_fields(), load_account=False, counts_itself=True)
def send(user_id: int, meeting_id: int, client_id: str, text: str):
    """The hot path: at steady state one Redis round trip and one SQL statement (two on SQLite), then the
    commit."""
    try:
        entry, moderator_present = posting_rights(meeting_id, user_id)
        require_joined(meeting_id)
        facts = entry.facts
        check_can_post(facts, moderator_present, lambda: last_chat_at(meeting_id, facts.membership_id))
    except Denied:
        # A retry of a stored message gets the same answer, even if the meeting closed since.
        db.session.rollback()
        if (sent := services.find_sent_by_account(meeting_id, user_id, client_id)) is not None:
            return send_ack(sent, duplicate=True)
        raise
    # Pure Python checks before storing: identifying details may hold the message; crisis signals add alerts
    # in the same transaction (one INSERT per alert, only when something matched).
    held_reason = safety.hold_reason(facts, text)
    categories = safety.crisis_categories(facts, text)
    try:
        message = services.insert_message(meeting_id, facts.membership_id, client_id, text, held_reason=held_reason,
                                          status="pending" if held_reason else "visible")
        payload = services.message_payload(message, entry.person)
        alert_payloads, note = [], None
        if categories:  # rare: one INSERT for the alerts, in the same transaction
            alerts = safety.record_alerts(message, categories)
            alert_payloads = [safety.alert_payload(a, message_json=payload) for a in alerts]
            note = safety.crisis_note(meeting_id, message, categories)
        db.session.commit()
    except IntegrityError:
        # The same client id arrived twice at once, or again after a lost ack: answer as for a retry.
        db.session.rollback()
        if (sent := services.find_sent_by_account(meeting_id, user_id, client_id)) is None:
            raise
        return send_ack(sent, duplicate=True)
    if held_reason:
        socketio.emit("pending", {"meeting_id": meeting_id, "message": payload, "reason": held_reason},
                      to=moderators_room(meeting_id))
    else:
        socketio.emit("message", payload, to=meeting_room(meeting_id))
    for alert in alert_payloads:
        socketio.emit("alert", {"meeting_id": meeting_id, "alert": alert}, to=moderators_room(meeting_id))
    if note is not None:
        socketio.emit("crisis_note", note, to=user_room(user_id))
    ack = {"id": payload["id"], "client_id": client_id, "duplicate": False,
           "status": "pending" if held_reason else "visible"}
    return {**ack, "held_reason": held_reason} if held_reason else ack


@chat_event("whisper", text_fields(to=Member(required=False)))
def whisper(user, meeting_id: int, client_id: str, text: str, to: str | None):
    """A moderator writes privately to one participant; a participant answers the moderators."""
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    if (sent := services.find_sent(meeting, membership, client_id)) is not None:
        return send_ack(sent, duplicate=True)
    require_joined(meeting_id)
    require_meeting_open(meeting)
    if membership.is_moderator:
        if to is None:
            raise PayloadError(_l("The field %(name)s is missing.", name="to"))
        other = services.find_member(meeting, to)
        if other.is_moderator:
            raise Denied("not_allowed", _l("Use the backchannel to write to other peer experts."))
    else:
        require_not_removed(meeting, membership)
        other = membership
    message, created = store_message(meeting, membership, client_id, text, kind="whisper",
                                     whisper_membership_id=other.id)
    if created:
        deliver(message)
    return send_ack(message, duplicate=not created)


@chat_event("delete_message", {"meeting_id": Int(minimum=1), "id": Int(minimum=1)})
def delete_message(user, meeting_id: int, id: int):  # noqa: A002  (the protocol's name)
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    message = services.find_message(meeting, id)
    if membership.is_moderator:
        moderation.delete_message(meeting, message, membership)
    else:
        services.delete_message(message, membership)
    db.session.commit()
    socketio.emit("message_deleted", {"meeting_id": meeting_id, "id": id}, to=meeting_room(meeting_id))
    if meeting.pinned_seq is None:
        emit_meeting_state(meeting_id)
    return {}


def _hand_event(raise_it: bool):
    def handler(user, meeting_id: int):
        meeting = load_meeting(meeting_id)
        membership = require_meeting_member(user, meeting)
        require_joined(meeting_id)
        require_meeting_open(meeting)
        if raise_it:
            services.raise_hand(meeting, membership)
        else:
            services.lower_hand(meeting, membership.id)
        db.session.commit()
        socketio.emit("hands", {"meeting_id": meeting_id, "queue": services.hand_queue(meeting)},
                      to=meeting_room(meeting_id))
        return {}
    return handler


chat_event("raise_hand", {"meeting_id": Int(minimum=1)})(_hand_event(True))
chat_event("lower_hand", {"meeting_id": Int(minimum=1)})(_hand_event(False))


@chat_event("report", {"meeting_id": Int(minimum=1), "id": Int(minimum=1), "reason": Reason(required=True)})
def report(user, meeting_id: int, id: int, reason: str):  # noqa: A002
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    report_row = services.report_message(services.find_message(meeting, id), membership, reason)
    db.session.commit()
    # Only the moderators learn who reported.
    socketio.emit("report", {"meeting_id": meeting_id, "report": services.report_payload(report_row)},
                  to=moderators_room(meeting_id))
    return {"report_id": report_row.id}


def send_ack(message, duplicate: bool) -> dict:
    ack = {"id": message.seq, "client_id": message.client_id, "duplicate": duplicate, "status": message.status}
    if message.status == "pending":
        ack["held_reason"] = message.held_reason
    return ack



