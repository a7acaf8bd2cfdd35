"""Socket.IO events of the live chat: sending, whispering, deleting, hands and reports.

Each goes through the pipeline of `realtime/pipeline.py` (parse, authenticate, rate-limit, ack), loads and
authorizes through `permissions`, acts through a service, commits once, then pushes (`realtime/push.py`).
Entering and leaving a meeting are in `chat/joining.py`. The protocol is in docs/protocol.md.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Membership, MessageKind, MessageStatus
from ..moderation import services as moderation
from ..permissions import (
    Denied,
    check_can_post,
    last_chat_at,
    require_may_whisper,
    require_meeting_member,
    require_meeting_open,
)
from ..realtime import messages, push
from ..realtime.describe import message_payload, person
from ..realtime.loaders import load_meeting, load_member, require_joined, text_fields
from ..realtime.payloads import Int, Member, PayloadError, Reason
from ..realtime.pipeline import socket_event
from ..safety import services as safety
from . import services
from .posting import posting_rights


@socket_event("send", text_fields(), load_account=False, counts_itself=True)
def send(user_id: int, meeting_id: int, client_id: str, text: str) -> dict:
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
        if (sent := messages.find_sent_by_account(meeting_id, user_id, client_id)) is not None:
            return messages.send_ack(sent, duplicate=True)
        raise
    # Pure Python checks before storing: identifying details may hold the message; crisis signals add alerts
    # in the same transaction (one INSERT per alert, only when something matched).
    held_reason = safety.hold_reason(facts, text)
    categories = safety.crisis_categories(facts, text)
    try:
        message = messages.insert_message(
            meeting_id,
            facts.membership_id,
            client_id,
            text,
            held_reason=held_reason,
            status=MessageStatus.PENDING if held_reason else MessageStatus.VISIBLE,
        )
        payload = message_payload(message, entry.person)
        alert_payloads, note = [], None
        if categories:  # rare: one INSERT for the alerts, in the same transaction
            alerts = safety.record_alerts(message, categories)
            alert_payloads = [safety.alert_payload(a, message_json=payload) for a in alerts]
            note = safety.crisis_note(meeting_id, message, categories)
        db.session.commit()
    except IntegrityError:
        # The same client id arrived twice at once, or again after a lost ack: answer as for a retry.
        db.session.rollback()
        if (sent := messages.find_sent_by_account(meeting_id, user_id, client_id)) is None:
            raise
        return messages.send_ack(sent, duplicate=True)
    if held_reason:
        push.to_moderators(meeting_id, "pending", {"meeting_id": meeting_id, "message": payload, "reason": held_reason})
    else:
        push.deliver(message, payload)
    for alert in alert_payloads:
        push.to_moderators(meeting_id, "alert", {"meeting_id": meeting_id, "alert": alert})
    if note is not None:
        push.to_user(user_id, "crisis_note", note)
    return messages.send_ack(message, duplicate=False)


@socket_event("whisper", text_fields(to=Member(required=False)))
def whisper(user: object, meeting_id: int, client_id: str, text: str, to: str | None) -> dict:
    """A moderator writes privately to one participant; a participant answers the moderators."""
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    if (sent := messages.find_sent(meeting, membership, client_id)) is not None:
        return messages.send_ack(sent, duplicate=True)
    require_joined(meeting_id)
    require_meeting_open(meeting)
    recipient: Membership | None = None
    if membership.is_moderator:
        if to is None:
            raise PayloadError(_l("The field %(name)s is missing.", name="to"))
        recipient = load_member(meeting, to)
    require_may_whisper(meeting, membership, recipient)
    message, created = messages.store_once(
        meeting,
        membership,
        client_id,
        text,
        kind=MessageKind.WHISPER,
        whisper_membership_id=(recipient or membership).id,
    )
    if created:
        push.deliver(message, message_payload(message, person(membership)))
    return messages.send_ack(message, duplicate=not created)


@socket_event("delete_message", {"meeting_id": Int(minimum=1), "id": Int(minimum=1)})
def delete_message(user: object, meeting_id: int, id: int) -> dict:  # noqa: A002  (the protocol's name)
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    message = messages.find_message(meeting, id)
    if membership.is_moderator:
        moderation.delete_message(meeting, message, membership)  # audited, and unpinned
    else:
        messages.delete_message(message, membership)
    db.session.commit()
    push.to_meeting(meeting_id, "message_deleted", {"meeting_id": meeting_id, "id": id})
    if meeting.pinned_seq is None:
        push.push_meeting_state(meeting_id)
    return {}


def _hand_event(raise_it: bool) -> Callable[..., dict]:
    def handler(user: object, meeting_id: int) -> dict:
        meeting = load_meeting(meeting_id)
        membership = require_meeting_member(user, meeting)
        require_joined(meeting_id)
        require_meeting_open(meeting)
        if raise_it:
            services.raise_hand(meeting, membership)
        else:
            services.lower_hand(meeting, membership.id)
        db.session.commit()
        push.push_hands(meeting)
        return {}

    return handler


socket_event("raise_hand", {"meeting_id": Int(minimum=1)})(_hand_event(True))
socket_event("lower_hand", {"meeting_id": Int(minimum=1)})(_hand_event(False))


@socket_event("report", {"meeting_id": Int(minimum=1), "id": Int(minimum=1), "reason": Reason(required=True)})
def report(user: object, meeting_id: int, id: int, reason: str) -> dict:  # noqa: A002
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(user, meeting)
    report_row = messages.report_message(messages.find_message(meeting, id), membership, reason)
    db.session.commit()
    # Only the moderators learn who reported.
    push.to_moderators(meeting_id, "report", {"meeting_id": meeting_id, "report": services.report_payload(report_row)})
    return {"report_id": report_row.id}
