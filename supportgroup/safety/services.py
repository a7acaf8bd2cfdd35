"""Safeguarding in the live chat: crisis alerts, the author's crisis note, incidents and handover notes.

Services change models and flush, never commit; the socket edge commits once, then emits. Incidents and
handover notes are audited (`audit.py`) (ids and the action only, never the text).
"""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import AuditAction, record
from ..extensions import db
from ..models import Alert, HandoverNote, Incident, Meeting, Membership, Message, MessageStatus, utcnow
from ..permissions import Denied, PostingFacts
from ..realtime.describe import AUTHOR_AS_PERSON, message_payload, person
from . import detection
from .resources import crisis_resources, tel_href

HANDOVER_NOTES = 5  # notes shown to the moderators when they join
SELF_HARM_CATEGORIES = ("suicide", "self_harm")


# --- the send path -----------------------------------------------------------------------------------


def hold_reason(facts: PostingFacts, text: str) -> str | None:
    """Why a new message must wait for a peer expert, or None. Moderators' messages are never held."""
    if facts.is_moderator:
        return None
    if facts.hold_identifying and detection.identifying_details(text):
        return "identifying_details"
    if facts.premoderated:
        return "premoderation"
    return None


def crisis_categories(facts: PostingFacts, text: str) -> list[str]:
    """Crisis signals in a participant's message (peer experts' messages are not scanned)."""
    if facts.is_moderator:
        return []
    return detection.crisis_categories(text)


def record_alerts(message, categories: list[str]) -> list[Alert]:
    """One alert per category found in the message (a `Message` or the send path's `StoredMessage`), in the
    storing transaction."""
    alerts = [Alert(meeting_id=message.meeting_id, message_id=message.id, category=c) for c in categories]
    if alerts:
        db.session.add_all(alerts)
        db.session.flush()
    return alerts


def alert_payload(alert: Alert, message: Message | None = None, *, message_json: dict | None = None) -> dict:
    """An alert for the moderators; `message_json` is the message's payload when the caller has built it."""
    if message_json is None:
        message_json = message_payload(message or db.session.get(Message, alert.message_id))
    return {
        "id": alert.id,
        "category": alert.category,
        "message": message_json,
        "created_at": alert.created_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
    }


def open_alerts(meeting: Meeting) -> list[dict]:
    rows = db.session.execute(
        select(Alert, Message)
        .join(Message, Message.id == Alert.message_id)
        .where(Alert.meeting_id == meeting.id, Alert.resolved_at.is_(None))
        .options(AUTHOR_AS_PERSON)
        .order_by(Alert.id)
    )
    return [alert_payload(alert, message) for alert, message in rows]


def resolve_alert(meeting: Meeting, alert_id: int, actor: Membership) -> Alert:
    alert = db.session.scalar(select(Alert).where(Alert.id == alert_id, Alert.meeting_id == meeting.id))
    if alert is None:
        raise Denied("alert_not_found", _l("This alert does not exist."), status=404)
    if alert.resolved_at is None:
        alert.resolved_at = utcnow()
        record(
            actor.user,
            AuditAction.RESOLVE_ALERT,
            "alert",
            alert.id,
            group_id=meeting.group_id,
            meeting_id=meeting.id,
            reason=alert.category,
        )
        db.session.flush()
    return alert


SUICIDE_LINE_TEL = "tel:08000113"  # 113 Zelfmoordpreventie


def _locale_resources(locale: str) -> list[dict]:
    """Helplines for the author's language from the deployment's resources files (`safety/resources.py`),
    without 113: the help panel lists it always, a crisis note only for self-harm (with its own words)."""
    return [
        {"name": r["name"], "phone": r["phone"], "description": r["description"]}
        for r in crisis_resources(locale)
        if tel_href(r["phone"]) != SUICIDE_LINE_TEL
    ]


def crisis_note(meeting_id: int, message, categories: list[str]) -> dict:
    """The gentle, private note to the author, in their language (built in the author's socket event)."""
    locale = str(get_locale() or "en").split("_")[0]
    resources = _locale_resources(locale)
    if any(c in SELF_HARM_CATEGORIES for c in categories):
        resources.append(
            {
                "name": "113 Zelfmoordpreventie",
                "phone": "0800 0113",
                "description": _(
                    "Talk to someone about thoughts of suicide, anonymously, day and "
                    "night: call 0800 0113 (free) or 113, or chat on 113.nl."
                ),
            }
        )
    if any(c in SELF_HARM_CATEGORIES for c in categories):
        text = _(
            "It sounds like things are very hard right now. You are not alone: the peer experts in this "
            "meeting have seen your message and are here for you. If you want to talk to someone now, "
            "you can call one of these numbers, day and night."
        )
    else:
        text = _(
            "What you wrote sounds serious. The peer experts in this meeting have seen your message and "
            "are here for you. If you or a child are in danger right now, call 112. For advice and "
            "support you can call Veilig Thuis, day and night."
        )
    return {"meeting_id": meeting_id, "message_id": message.seq, "text": text, "resources": resources}


# --- incidents ------------------------------------------------------------------------------------------


def _snapshot_entry(message: Message) -> dict:
    shown = person(message.author)
    return {
        "id": message.seq,
        "author": shown["name"],
        "role": shown["role"],
        "kind": message.kind,
        "status": message.status,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
        "deleted": message.deleted_at is not None,
    }


def record_incident(meeting: Meeting, ids: list[int], note: str, actor: Membership) -> Incident:
    """A moderator's record with a snapshot of the messages (of this meeting only), deleted ones marked."""
    messages = list(
        db.session.scalars(
            select(Message)
            .where(Message.meeting_id == meeting.id, Message.seq.in_(set(ids)))
            .options(AUTHOR_AS_PERSON)
            .order_by(Message.seq)
        )
    )
    if not messages:
        raise Denied("message_not_found", _l("This message does not exist (any more)."), status=404)
    incident = Incident(
        group_id=meeting.group_id,
        meeting_id=meeting.id,
        created_by_user_id=actor.user_id,
        note=note,
        snapshot=[_snapshot_entry(m) for m in messages],
    )
    db.session.add(incident)
    db.session.flush()
    record(
        actor.user,
        AuditAction.RECORD_INCIDENT,
        "incident",
        incident.id,
        group_id=meeting.group_id,
        meeting_id=meeting.id,
    )
    db.session.flush()
    return incident


def incidents_for(group_ids: list[int] | None, group_id: int | None = None) -> list[Incident]:
    """Incidents, newest first: of the given groups (None: all), optionally of one group."""
    query = select(Incident).order_by(Incident.created_at.desc(), Incident.id.desc()).limit(500)
    if group_ids is not None:
        query = query.where(Incident.group_id.in_(group_ids or [-1]))
    if group_id is not None:
        query = query.where(Incident.group_id == group_id)
    return list(db.session.scalars(query))


# --- handover notes -------------------------------------------------------------------------------------


def add_handover_note(meeting: Meeting, note: str, actor: Membership) -> HandoverNote:
    row = HandoverNote(group_id=meeting.group_id, meeting_id=meeting.id, author_membership_id=actor.id, note=note)
    db.session.add(row)
    db.session.flush()
    record(
        actor.user, AuditAction.HANDOVER_NOTE, "handover_note", row.id, group_id=meeting.group_id, meeting_id=meeting.id
    )
    db.session.flush()
    return row


def handover_payload(row: HandoverNote) -> dict:
    author = db.session.get(Membership, row.author_membership_id) if row.author_membership_id else None
    return {
        "id": row.id,
        "meeting_id": row.meeting_id,
        "note": row.note,
        "author": person(author) if author is not None else None,
        "created_at": row.created_at.isoformat(),
    }


def recent_handover_notes(group_id: int, limit: int = HANDOVER_NOTES) -> list[dict]:
    rows = db.session.scalars(
        select(HandoverNote)
        .where(HandoverNote.group_id == group_id)
        .order_by(HandoverNote.created_at.desc(), HandoverNote.id.desc())
        .limit(limit)
    )
    return [handover_payload(r) for r in rows]


def pending_with_reasons(meeting: Meeting) -> list[dict]:
    """Held messages for the moderators, each with why it is held (`held_reason`)."""
    held = db.session.scalars(
        select(Message)
        .where(Message.meeting_id == meeting.id, Message.status == MessageStatus.PENDING, Message.deleted_at.is_(None))
        .order_by(Message.seq)
    )
    return [{**message_payload(m), "held_reason": m.held_reason} for m in held]
