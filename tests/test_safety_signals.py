"""Crisis alerts, the author's crisis note, holding identifying details, incidents and handover notes."""

import pytest
from sqlalchemy import event

from supportgroup.models import Alert, HandoverNote, Incident, Message, ModerationAction, Role
from tests.chat_helpers import join, mod, open_room, received, send
from tests.conftest import is_savepoint


@pytest.fixture
def room(factory, socket_client):
    """An open meeting with the peer expert, alice and bob all joined."""
    return open_room(factory, socket_client)


# --- crisis signals -----------------------------------------------------------------------------------


def test_alert_reaches_moderators_only_and_note_reaches_the_author_only(room, db):
    ack = send(room.alice_socket, room.meeting, "Ik wil  NIET meer leven", "alice-crisis1")
    assert ack["ok"] and ack["status"] == "visible"
    # Everyone gets the message as usual; bob gets nothing else.
    bob_events = room.bob_socket.get_received()
    assert [e["args"]["text"] for e in bob_events if e["name"] == "message"] == ["Ik wil  NIET meer leven"]
    assert {e["name"] for e in bob_events} == {"message"}

    expert_events = room.expert_socket.get_received()
    alerts = [e["args"][0] for e in expert_events if e["name"] == "alert"]
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["meeting_id"] == room.meeting.id
    assert alert["alert"]["category"] == "suicide"
    assert alert["alert"]["message"]["id"] == ack["id"]
    assert alert["alert"]["message"]["author"]["name"] == room.memberships["alice"].alias
    assert "crisis_note" not in {e["name"] for e in expert_events}

    alice_events = room.alice_socket.get_received()
    assert "alert" not in {e["name"] for e in alice_events}
    notes = [e["args"][0] for e in alice_events if e["name"] == "crisis_note"]
    assert len(notes) == 1
    note = notes[0]
    assert note["meeting_id"] == room.meeting.id and note["message_id"] == ack["id"]
    assert note["text"]
    phones = {r["phone"] for r in note["resources"]}
    assert "0800 2000" in phones and "112" in phones and "0800 0113" in phones  # 113 for suicide/self-harm
    assert all(set(r) == {"name", "phone", "description"} for r in note["resources"])

    row = db.session.query(Alert).one()
    assert row.category == "suicide" and row.resolved_at is None
    assert row.message_id == db.session.query(Message).filter_by(seq=ack["id"]).one().id


def test_danger_note_has_no_suicide_line_and_is_localised(room, db, socket_client):
    room.alice.locale = "nl"
    db.session.commit()
    # A socket keeps the language it connected with (changing it on the website reloads the page, so reconnects).
    alice = socket_client("alice")
    join(alice, room.meeting)
    alice.get_received()
    ack = send(alice, room.meeting, "hij weet waar ik ben", "alice-crisis2")
    assert ack["ok"]
    note = received(alice, "crisis_note")[0]
    phones = {r["phone"] for r in note["resources"]}
    assert "0800 0113" not in phones and "112" in phones
    assert "Bel 112" in note["text"]  # in the author's language
    alert = received(room.expert_socket, "alert")[0]
    assert alert["alert"]["category"] == "found"


def test_dutch_verb_final_threat_alerts_once_per_category(room, db):
    """Issue #14: "... dat hij een mes heeft en me gaat vermoorden" raised nothing with fixed phrases."""
    text = "Ik ben zo bang dat hij een mes heeft en me gaat vermoorden"
    ack = send(room.alice_socket, room.meeting, text, "alice-order01")
    assert ack["ok"] and ack["status"] == "visible"
    alerts = received(room.expert_socket, "alert")
    assert sorted(a["alert"]["category"] for a in alerts) == ["danger", "weapons"]
    assert {a["alert"]["message"]["id"] for a in alerts} == {ack["id"]}
    assert received(room.alice_socket, "crisis_note")
    assert sorted(row.category for row in db.session.query(Alert)) == ["danger", "weapons"]
    # Past tense in the group's own words is their work, not an alert.
    ack = send(room.alice_socket, room.meeting, "Vroeger zei hij dat hij me zou vermoorden", "alice-order02")
    assert ack["ok"] and received(room.expert_socket, "alert") == []


def test_ordinary_message_costs_no_alert_and_no_extra_sql(room, db):
    statements = []

    def count(_conn, _cursor, statement, *_args):
        if not is_savepoint(statement):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert send(room.alice_socket, room.meeting, "Hallo allemaal, fijn dat ik er ben", "alice-plain1")["ok"]
        plain = len(statements)
        statements.clear()
        assert send(room.alice_socket, room.meeting, "he has a knife", "alice-knife01")["ok"]
        crisis = len(statements)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert db.session.query(Alert).count() == 1
    # The alerts' INSERT and the author's account (the note is in their language); nothing per phrase.
    assert crisis <= plain + 2, statements
    assert received(room.alice_socket, "crisis_note") and received(room.expert_socket, "alert")


def test_peer_experts_messages_are_not_scanned(room, db):
    assert send(room.expert_socket, room.meeting, "If you want to kill yourself, call 113", "expert-0001")["ok"]
    assert send(room.expert_socket, room.meeting, "Wie zegt: ik wil dood, bel 113", "expert-0002")["ok"]
    assert db.session.query(Alert).count() == 0


def test_duplicate_send_does_not_alert_twice(room, db):
    send(room.alice_socket, room.meeting, "I want to kill myself", "alice-dupl01")
    room.alice_socket.get_received()
    room.expert_socket.get_received()
    again = send(room.alice_socket, room.meeting, "I want to kill myself", "alice-dupl01")
    assert again["duplicate"] is True
    assert db.session.query(Alert).count() == 1
    assert received(room.expert_socket, "alert") == [] and received(room.alice_socket, "crisis_note") == []


def test_open_alerts_in_moderators_join_and_resolve(room, db):
    ack = send(room.alice_socket, room.meeting, "my kids are not safe with him", "alice-child1")
    joined = join(room.expert_socket, room.meeting)
    alerts = joined["moderation"]["alerts"]
    assert [a["category"] for a in alerts] == ["child"] and alerts[0]["message"]["id"] == ack["id"]
    assert "moderation" not in join(room.alice_socket, room.meeting)
    room.alice_socket.get_received()
    room.bob_socket.get_received()
    room.expert_socket.get_received()

    alert_id = alerts[0]["id"]
    refused = room.alice_socket.emit(
        "resolve_alert", {"meeting_id": room.meeting.id, "alert_id": alert_id}, callback=True
    )
    assert refused["error"]["code"] == "not_moderator"
    done = mod(room, "resolve_alert", alert_id=alert_id)
    assert done["ok"] and done["resolved_at"]
    resolved = received(room.expert_socket, "alert_resolved")
    assert resolved == [{"meeting_id": room.meeting.id, "alert_id": alert_id, "resolved_at": done["resolved_at"]}]
    assert received(room.alice_socket, "alert_resolved") == [] and received(room.bob_socket, "alert_resolved") == []
    assert db.session.query(Alert).one().resolved_at is not None
    assert join(room.expert_socket, room.meeting)["moderation"]["alerts"] == []
    assert mod(room, "resolve_alert", alert_id=9999)["error"]["code"] == "alert_not_found"
    audit = db.session.query(ModerationAction).filter_by(action="resolve_alert").one()
    assert audit.target_id == str(alert_id)


# --- identifying details --------------------------------------------------------------------------------


def test_identifying_details_are_held_when_the_group_says_so(room, db):
    room.group.hold_identifying = True
    db.session.commit()
    ack = send(room.alice_socket, room.meeting, "bel me maar op 06-12345678", "alice-phone1")
    assert ack["ok"] and ack["status"] == "pending" and ack["held_reason"] == "identifying_details"
    assert received(room.bob_socket, "message") == []
    pending = received(room.expert_socket, "pending")
    assert len(pending) == 1 and pending[0]["reason"] == "identifying_details"
    message = db.session.query(Message).filter_by(seq=ack["id"]).one()
    assert message.status == "pending" and message.held_reason == "identifying_details"
    joined = join(room.expert_socket, room.meeting)
    assert [p["held_reason"] for p in joined["moderation"]["pending"]] == ["identifying_details"]
    room.bob_socket.get_received()

    # The existing approve flow applies.
    approved = mod(room, "approve", id=ack["id"])
    assert approved["ok"]
    assert [m["text"] for m in received(room.bob_socket, "message")] == ["bel me maar op 06-12345678"]

    # Ordinary numbers are not held.
    ok = send(room.alice_socket, room.meeting, "ik ben 34 en heb 3 kinderen, om 19:30 thuis", "alice-nums01")
    assert ok["status"] == "visible"
    # Peer experts are never held.
    assert (
        send(room.expert_socket, room.meeting, "Veilig Thuis: 0800 2000, of mail info@example.nl", "expert-0003")[
            "status"
        ]
        == "visible"
    )


def test_identifying_details_pass_when_the_group_does_not_hold(room):
    ack = send(room.alice_socket, room.meeting, "mijn insta is instagram.com/sanne", "alice-insta1")
    assert ack["status"] == "visible"


def test_a_held_message_with_a_crisis_signal_still_alerts(room, db):
    room.group.hold_identifying = True
    db.session.commit()
    ack = send(room.alice_socket, room.meeting, "hij weet waar ik woon: 1234 AB 12", "alice-found1")
    assert ack["status"] == "pending"
    assert received(room.expert_socket, "alert")[0]["alert"]["category"] == "found"
    assert received(room.alice_socket, "crisis_note")
    assert received(room.bob_socket, "message") == []


# --- incidents and handover -------------------------------------------------------------------------


def test_record_incident_snapshots_messages_of_this_meeting(room, db, factory):
    a = send(room.alice_socket, room.meeting, "first line", "alice-inc001")
    b = send(room.bob_socket, room.meeting, "a threat", "bob-inc0001")
    assert room.bob_socket.emit("delete_message", {"meeting_id": room.meeting.id, "id": b["id"]}, callback=True)["ok"]
    other = factory.meeting(room.group)
    ack = mod(room, "record_incident", ids=[a["id"], b["id"], 999], note="Bob threatened Alice.\nCalled VT.")
    assert ack["ok"], ack
    incident = db.session.get(Incident, ack["incident_id"])
    assert incident.group_id == room.group.id and incident.meeting_id == room.meeting.id
    assert incident.note == "Bob threatened Alice.\nCalled VT."
    snap = {entry["id"]: entry for entry in incident.snapshot}
    assert set(snap) == {a["id"], b["id"]}
    assert snap[a["id"]]["author"] == room.memberships["alice"].alias and snap[a["id"]]["deleted"] is False
    # Deleted means gone: a snapshot made after the deletion marks it, without the text (one made before keeps
    # it: tests/test_data_gone.py).
    assert snap[b["id"]]["text"] == "" and snap[b["id"]]["deleted"] is True
    audit = db.session.query(ModerationAction).filter_by(action="record_incident").one()
    assert audit.target_id == str(incident.id) and "threat" not in audit.reason

    assert other.id != room.meeting.id
    assert mod(room, "record_incident", ids=[12345], note="x")["error"]["code"] == "message_not_found"
    assert mod(room, "record_incident", ids=[], note="x")["error"]["code"] == "invalid_payload"
    assert mod(room, "record_incident", ids=list(range(1, 52)), note="x")["error"]["code"] == "invalid_payload"
    assert mod(room, "record_incident", ids=[a["id"]], note="  ")["error"]["code"] == "note_required"
    assert mod(room, "record_incident", ids=[a["id"]], note="x" * 2001)["error"]["code"] == "invalid_payload"
    refused = room.alice_socket.emit(
        "record_incident", {"meeting_id": room.meeting.id, "ids": [a["id"]], "note": "x"}, callback=True
    )
    assert refused["error"]["code"] == "not_moderator"
    assert db.session.query(Incident).count() == 1


def test_handover_notes_reach_the_next_meetings_moderators(room, db, factory, socket_client):
    for i in range(7):
        assert mod(room, "handover_note", note=f"note {i}")["ok"]
    refused = room.alice_socket.emit("handover_note", {"meeting_id": room.meeting.id, "note": "x"}, callback=True)
    assert refused["error"]["code"] == "not_moderator"
    assert db.session.query(HandoverNote).count() == 7
    assert db.session.query(ModerationAction).filter_by(action="handover_note").count() == 7

    nxt = factory.meeting(room.group, title="Next week")
    expert = socket_client("expert")
    joined = join(expert, nxt)
    handover = joined["moderation"]["handover"]
    assert [h["note"] for h in handover] == ["note 6", "note 5", "note 4", "note 3", "note 2"]
    assert handover[0]["author"]["role"] == "peer_expert" and handover[0]["meeting_id"] == room.meeting.id
    alice = socket_client("alice")
    assert "moderation" not in join(alice, nxt)


# --- incident pages ---------------------------------------------------------------------------------


def _incident(room):
    sent = send(room.alice_socket, room.meeting, "something happened", "alice-page01")
    return mod(room, "record_incident", ids=[sent["id"]], note="Safeguarding note")["incident_id"]


def test_incident_pages_for_coordinators_and_the_groups_peer_experts(room, login_client):
    incident_id = _incident(room)
    for username in ("coord", "expert"):
        http = login_client(username)
        listing = http.get("/safety/incidents/")
        assert listing.status_code == 200 and "Safeguarding note" in listing.get_data(as_text=True)
        assert listing.headers["Cache-Control"] == "no-store"
        page = http.get(f"/safety/incidents/{incident_id}")
        assert page.status_code == 200
        body = page.get_data(as_text=True)
        assert "something happened" in body and room.memberships["alice"].alias in body
        assert http.get(f"/safety/incidents/?group={room.group.id}").status_code == 200


def test_participants_and_other_peer_experts_may_not_see_incidents(room, login_client, factory):
    incident_id = _incident(room)
    for username in ("alice", "eve"):
        http = login_client(username)
        assert http.get("/safety/incidents/").status_code == 403
        assert http.get(f"/safety/incidents/{incident_id}").status_code == 404
    factory.user("other_expert", Role.PEER_EXPERT)
    http = login_client("other_expert")
    listing = http.get("/safety/incidents/")
    assert listing.status_code == 200 and "Safeguarding note" not in listing.get_data(as_text=True)
    assert http.get(f"/safety/incidents/{incident_id}").status_code == 404
    assert http.get(f"/safety/incidents/?group={room.group.id}").status_code == 403
    factory.user("untrained", Role.PEER_EXPERT, trained=False)
    assert login_client("untrained").get("/safety/incidents/").status_code == 403
    assert login_client("coord").get("/safety/incidents/9999").status_code == 404
