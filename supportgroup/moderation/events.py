"""Socket events of the meeting's moderators (docs/protocol.md §4a). Each one: the same pipeline as the chat
events (`realtime/pipeline.py`), authorized by `require_meeting_moderator` from the database, audited in the service,
committed once, then pushed to the people concerned within the second."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..errors import DomainError
from ..extensions import db
from ..models import Meeting, Membership, Message, MessageKind, MessageStatus
from ..permissions import Denied, require_meeting_moderator, require_meeting_open
from ..realtime import messages, push
from ..realtime.describe import message_payload, person
from ..realtime.loaders import load_meeting, load_member, present_members, require_joined, text_fields
from ..realtime.payloads import Bool, Int, Member, Reason
from ..realtime.pipeline import socket_event
from ..realtime.rooms import disconnect_member, disconnect_user
from ..safety import services as safety
from ..safety.payloads import IdList, Note
from ..scheduling.meetings import close_meeting
from . import services

MEETING = {"meeting_id": Int(minimum=1)}


def moderating(user, meeting_id: int) -> tuple[Meeting, Membership]:
    """Load the meeting and the acting moderator's membership, or refuse."""
    meeting = load_meeting(meeting_id)
    return meeting, require_meeting_moderator(user, meeting)


@socket_event("backchannel", text_fields())
def backchannel(user, meeting_id: int, client_id: str, text: str):
    meeting, me = moderating(user, meeting_id)
    return _moderator_text(meeting, me, client_id, text, MessageKind.BACKCHANNEL)


@socket_event("announce", text_fields())
def announce(user, meeting_id: int, client_id: str, text: str):
    meeting, me = moderating(user, meeting_id)
    return _moderator_text(meeting, me, client_id, text, MessageKind.ANNOUNCEMENT)


def _moderator_text(meeting: Meeting, me: Membership, client_id: str, text: str, kind: MessageKind) -> dict:
    if (sent := messages.find_sent(meeting, me, client_id)) is not None:
        return messages.send_ack(sent, duplicate=True)
    require_joined(meeting.id)
    require_meeting_open(meeting)
    message, created = messages.store_once(meeting, me, client_id, text, kind=kind)
    if created:
        push.deliver(message, message_payload(message, person(me)))
    return messages.send_ack(message, duplicate=not created)


@socket_event(
    "mute", {**MEETING, "member": Member(), "minutes": Int(required=False, minimum=1, maximum=240), "reason": Reason()}
)
def mute(user, meeting_id: int, member: str, minutes: int | None, reason: str):
    meeting, me = moderating(user, meeting_id)
    target = load_member(meeting, member)
    row = services.mute(meeting, target, minutes, reason, me)
    db.session.commit()
    push.to_member(
        meeting_id,
        target.id,
        "mute_state",
        {
            "meeting_id": meeting_id,
            "muted": True,
            "until": row.until.isoformat() if row.until else None,
            "reason": reason,
        },
    )
    _mute_changed(meeting_id, target, row.until.isoformat() if row.until else None)
    return {}


@socket_event("unmute", {**MEETING, "member": Member()})
def unmute(user, meeting_id: int, member: str):
    meeting, me = moderating(user, meeting_id)
    target = load_member(meeting, member)
    services.unmute(meeting, target, me)
    db.session.commit()
    push.to_member(
        meeting_id, target.id, "mute_state", {"meeting_id": meeting_id, "muted": False, "until": None, "reason": ""}
    )
    _mute_changed(meeting_id, target, None, muted=False)
    return {}


def _mute_changed(meeting_id: int, target: Membership, until: str | None, muted: bool = True) -> None:
    """The moderators' consoles show "Unmute" only for who is muted (docs/protocol.md §5a)."""
    payload = {"meeting_id": meeting_id, "member": target.public_id, "muted": muted, "until": until}
    push.to_moderators(meeting_id, "mute_changed", payload)


@socket_event("remove", {**MEETING, "member": Member(), "reason": Reason()})
def remove(user, meeting_id: int, member: str, reason: str):
    meeting, me = moderating(user, meeting_id)
    target = load_member(meeting, member)
    services.remove_from_meeting(meeting, target, reason, me)
    db.session.commit()
    push.to_member(meeting_id, target.id, "removed", {"meeting_id": meeting_id, "reason": reason, "banned": False})
    disconnect_member(meeting_id, target.id)
    push.push_presence(meeting_id)
    return {}


@socket_event("ban", {**MEETING, "member": Member(), "reason": Reason()})
def ban(user, meeting_id: int, member: str, reason: str):
    meeting, me = moderating(user, meeting_id)
    target = load_member(meeting, member)
    services.ban(meeting, target, reason, me)
    db.session.commit()
    push.to_member(meeting_id, target.id, "removed", {"meeting_id": meeting_id, "reason": reason, "banned": True})
    disconnect_member(meeting_id, target.id)
    disconnect_user(target.user_id)  # every socket, in every process: they cannot come back
    push.push_presence(meeting_id)
    return {}


def _pending_message(meeting: Meeting, seq: int) -> Message:
    message = messages.find_message(meeting, seq)
    if message.status != MessageStatus.PENDING:
        raise Denied("not_pending", _l("This message is no longer waiting."), status=409)
    return message


@socket_event("approve", {**MEETING, "id": Int(minimum=1)})
def approve(user, meeting_id: int, id: int):  # noqa: A002
    meeting, me = moderating(user, meeting_id)
    message = _pending_message(meeting, id)
    services.approve(meeting, message, me)
    db.session.commit()
    push.deliver(message)  # under its new server id; the author's client matches it by client_id
    push.to_moderators(
        meeting_id,
        "pending_resolved",
        {"meeting_id": meeting_id, "id": id, "status": MessageStatus.VISIBLE, "new_id": message.seq},
    )
    return {"id": message.seq}


@socket_event("reject", {**MEETING, "id": Int(minimum=1), "reason": Reason()})
def reject(user, meeting_id: int, id: int, reason: str):  # noqa: A002
    meeting, me = moderating(user, meeting_id)
    message = _pending_message(meeting, id)
    services.reject(meeting, message, reason, me)
    author_id = message.author_membership_id
    db.session.commit()
    push.to_member(meeting_id, author_id, "message_rejected", {"meeting_id": meeting_id, "id": id, "reason": reason})
    push.to_moderators(
        meeting_id, "pending_resolved", {"meeting_id": meeting_id, "id": id, "status": MessageStatus.REJECTED}
    )
    return {}


def _setting(user, meeting_id: int, **changes) -> dict:
    meeting, me = moderating(user, meeting_id)
    services.set_setting(meeting, me, **changes)
    db.session.commit()
    push.push_meeting_state(meeting_id)
    return {}


@socket_event("set_slow_mode", {**MEETING, "seconds": Int(minimum=0, maximum=3600)})
def set_slow_mode(user, meeting_id: int, seconds: int):
    return _setting(user, meeting_id, slow_mode_seconds=seconds)


@socket_event("set_premoderation", {**MEETING, "on": Bool()})
def set_premoderation(user, meeting_id: int, on: bool):
    return _setting(user, meeting_id, premoderation=on)


@socket_event("set_floor_only", {**MEETING, "on": Bool()})
def set_floor_only(user, meeting_id: int, on: bool):
    return _setting(user, meeting_id, floor_only=on)


@socket_event("lock", {**MEETING, "locked": Bool()})
def lock(user, meeting_id: int, locked: bool):
    return _setting(user, meeting_id, locked=locked)


@socket_event("pin", {**MEETING, "id": Int(required=False, minimum=1)})
def pin(user, meeting_id: int, id: int | None):  # noqa: A002
    meeting, _me = moderating(user, meeting_id)
    if id is not None:
        message = messages.find_message(meeting, id)
        if message.kind not in (MessageKind.CHAT, MessageKind.ANNOUNCEMENT) or message.status != MessageStatus.VISIBLE:
            raise Denied("not_allowed", _l("Only a message everyone can see can be pinned."))
    return _setting(user, meeting_id, pinned_seq=id)


@socket_event("give_floor", {**MEETING, "member": Member(nullable=True)})
def give_floor(user, meeting_id: int, member: str | None):
    meeting, me = moderating(user, meeting_id)
    target = load_member(meeting, member) if member else None
    services.give_floor(meeting, target, me)
    db.session.commit()
    push.push_meeting_state(meeting_id)
    push.push_hands(meeting)
    return {}


@socket_event("close", MEETING)
def close(user, meeting_id: int):
    meeting, _me = moderating(user, meeting_id)
    try:
        close_meeting(meeting, user)
    except DomainError as error:
        raise Denied("meeting_not_open", error.message, status=409) from None
    db.session.commit()
    push.push_meeting_state(meeting_id)
    return {}


def _admit(meeting: Meeting, me: Membership, targets: list[Membership]) -> int:
    admitted = services.admit(meeting, targets, me)
    db.session.commit()
    for target in admitted:
        push.to_member(meeting.id, target.id, "admitted", {"meeting_id": meeting.id})
    push.push_presence(meeting.id)
    return len(admitted)


@socket_event("admit", {**MEETING, "member": Member()})
def admit(user, meeting_id: int, member: str):
    meeting, me = moderating(user, meeting_id)
    _admit(meeting, me, [load_member(meeting, member)])
    return {}


@socket_event("admit_all", MEETING)
def admit_all(user, meeting_id: int):
    meeting, me = moderating(user, meeting_id)
    waiting = [m for m in present_members(meeting_id) if not m.is_moderator]
    return {"admitted": _admit(meeting, me, waiting)}


@socket_event("resolve_report", {**MEETING, "report_id": Int(minimum=1)})
def resolve_report(user, meeting_id: int, report_id: int):
    meeting, me = moderating(user, meeting_id)
    services.resolve_report(meeting, report_id, me)
    db.session.commit()
    push.to_moderators(meeting_id, "report_resolved", {"meeting_id": meeting_id, "report_id": report_id})
    return {}


# --- safeguarding: crisis alerts, incidents, handover notes (issue #5) -------------------------------------


@socket_event("resolve_alert", {**MEETING, "alert_id": Int(minimum=1)})
def resolve_alert(user, meeting_id: int, alert_id: int):
    meeting, me = moderating(user, meeting_id)
    alert = safety.resolve_alert(meeting, alert_id, me)
    assert alert.resolved_at is not None  # resolve_alert resolves it, or it was resolved already
    resolved_at = alert.resolved_at.isoformat()
    db.session.commit()
    push.to_moderators(
        meeting_id, "alert_resolved", {"meeting_id": meeting_id, "alert_id": alert_id, "resolved_at": resolved_at}
    )
    return {"resolved_at": resolved_at}


@socket_event("record_incident", {**MEETING, "ids": IdList(max_items=50), "note": Note(max_length=2000)})
def record_incident(user, meeting_id: int, ids: list[int], note: str):
    meeting, me = moderating(user, meeting_id)
    incident = safety.record_incident(meeting, ids, note, me)
    incident_id = incident.id
    db.session.commit()
    return {"incident_id": incident_id}


@socket_event("handover_note", {**MEETING, "note": Note(max_length=2000)})
def handover_note(user, meeting_id: int, note: str):
    meeting, me = moderating(user, meeting_id)
    row = safety.add_handover_note(meeting, note, me)
    payload = safety.handover_payload(row)
    db.session.commit()
    push.to_moderators(meeting_id, "handover", {"meeting_id": meeting_id, "note": payload})
    return {"handover_id": payload["id"]}
