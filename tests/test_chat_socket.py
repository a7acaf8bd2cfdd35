"""The live chat over Socket.IO: connect, join, send, receive, acknowledge, and every refusal."""

import pytest

from supportgroup.models import MeetingState, Membership, MembershipStatus, Message
from tests.chat_helpers import join, present_scene, received, send
from tests.conftest import AuthActions, socket_test_client


def test_connect_refused_without_login(app):
    sio = socket_test_client(app)
    assert not sio.is_connected()


def test_connect_accepted_when_logged_in(factory, socket_client):
    factory.user("alice")
    assert socket_client("alice").is_connected()


def test_join_refused_for_non_member(factory, socket_client):
    scene = factory.scene()
    eve = socket_client("eve")
    ack = eve.emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "meeting_not_found"
    assert ack["error"]["message"]


def test_join_refused_for_unknown_meeting(factory, socket_client):
    factory.scene()
    ack = socket_client("alice").emit("join", {"meeting_id": 999999}, callback=True)
    assert ack["error"]["code"] == "meeting_not_found"


@pytest.mark.parametrize(
    "status,code",
    [
        (MembershipStatus.BANNED, "banned"),
        (MembershipStatus.REMOVED, "membership_inactive"),
        (MembershipStatus.LEFT, "membership_inactive"),
    ],
)
def test_join_refused_for_inactive_membership(factory, socket_client, db, status, code):
    scene = factory.scene()
    scene.memberships["alice"].status = status
    db.session.commit()
    ack = socket_client("alice").emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert ack["error"]["code"] == code


def test_join_returns_recent_messages_and_people_present(factory, socket_client):
    scene = factory.scene()
    expert = socket_client("expert")
    join(expert, scene.meeting)
    assert send(expert, scene.meeting, "Welcome, everyone")["ok"]

    alice = socket_client("alice")
    ack = join(alice, scene.meeting)
    alias = scene.memberships["alice"].alias
    assert ack["me"] == {"id": scene.memberships["alice"].public_id, "name": alias, "role": "participant"}
    assert [m["text"] for m in ack["messages"]] == ["Welcome, everyone"]
    assert ack["messages"][0]["author"]["name"] == "Sam"
    assert ack["messages"][0]["author"]["role"] == "peer_expert"
    names = {(p["name"], p["role"]) for p in ack["present"]}
    assert names == {("Sam", "peer_expert"), (alias, "participant")}
    # The peer expert sees the participant arrive, under the alias.
    presence = received(expert, "presence")
    assert any(alias in {p["name"] for p in event["present"]} for event in presence)


def test_payloads_never_carry_account_ids_or_usernames(factory, socket_client, db):
    scene = present_scene(factory, socket_client)
    alice, bob = socket_client("alice"), socket_client("bob")
    join_ack = join(alice, scene.meeting)
    join(bob, scene.meeting)
    send(alice, scene.meeting, "hi")
    received_by_bob = bob.get_received()
    everything = repr(join_ack) + repr(alice.get_received()) + repr(received_by_bob)
    for username in ("alice", "bob", "expert"):
        assert f"'{username}'" not in everything
    assert "user_id" not in everything
    # Every person in a payload is identified by a membership's public id, never an account id.
    public_ids = {m.public_id for m in db.session.query(Membership)}
    messages = [e["args"] for e in received_by_bob if e["name"] == "message"]
    people = [*join_ack["present"], join_ack["me"], *[m["author"] for m in messages]]
    people += [
        p for event in [e["args"][0] for e in received_by_bob if e["name"] == "presence"] for p in event["present"]
    ]
    assert people and all(person["id"] in public_ids for person in people)
    assert all(set(person) == {"id", "name", "role"} for person in people)


def test_send_is_stored_delivered_and_acknowledged(factory, socket_client, db):
    scene = present_scene(factory, socket_client)
    alice, bob, expert = socket_client("alice"), socket_client("bob"), socket_client("expert")
    for sio in (alice, bob, expert):
        join(sio, scene.meeting)
        sio.get_received()

    ack = send(alice, scene.meeting, "I made it through the week.")
    assert ack["ok"] is True and ack["id"] == 1 and ack["duplicate"] is False

    stored = db.session.query(Message).one()
    assert stored.text == "I made it through the week." and stored.seq == 1
    for sio in (alice, bob, expert):
        messages = received(sio, "message")
        assert len(messages) == 1
        assert messages[0]["id"] == 1
        assert messages[0]["author"]["name"] == scene.memberships["alice"].alias


def test_server_ids_grow_within_a_meeting(factory, socket_client):
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    ids = [send(alice, scene.meeting, f"line {n}", f"client-{n:04d}")["id"] for n in range(5)]
    assert ids == [1, 2, 3, 4, 5]


def test_same_client_id_is_stored_and_delivered_once(factory, socket_client, db):
    scene = present_scene(factory, socket_client)
    alice, bob = socket_client("alice"), socket_client("bob")
    for sio in (alice, bob):
        join(sio, scene.meeting)
    bob.get_received()
    first = send(alice, scene.meeting, "once", "retry-abcdef")
    again = send(alice, scene.meeting, "once", "retry-abcdef")
    assert again["ok"] and again["id"] == first["id"] and again["duplicate"] is True
    assert db.session.query(Message).count() == 1
    assert len(received(bob, "message")) == 1


def test_reconnect_replays_what_was_missed(factory, socket_client):
    scene = present_scene(factory, socket_client)
    alice, bob = socket_client("alice"), socket_client("bob")
    join(alice, scene.meeting)
    send(alice, scene.meeting, "one", "client-0001")
    bob_ack = join(bob, scene.meeting)
    last_seen = bob_ack["messages"][-1]["id"]
    bob.disconnect()
    send(alice, scene.meeting, "two", "client-0002")
    send(alice, scene.meeting, "three", "client-0003")
    bob = socket_client("bob")
    replay = join(bob, scene.meeting, after=last_seen)
    assert [m["text"] for m in replay["messages"]] == ["two", "three"]


def join_while(monkeypatch, sio, meeting, in_between):
    """`sio` joins `meeting` with a replay; `in_between()` runs once in the middle of that join (after the
    replay was read, before the join commits) and returns an ack. Returns the join's ack, that ack, and the
    message ids the joiner got (in the replay or live)."""
    from supportgroup.attendance import services as attendance

    original, done = attendance.record_join, {}

    def record_join(meeting_, membership, *args, **kwargs):
        if "ack" not in done:
            done["ack"] = in_between()
        return original(meeting_, membership, *args, **kwargs)

    monkeypatch.setattr(attendance, "record_join", record_join)
    ack = sio.emit("join", {"meeting_id": meeting.id, "after": 0}, callback=True)
    seen = {m["id"] for m in ack.get("messages", [])} | {m["id"] for m in received(sio, "message")}
    return ack, done["ack"], seen


def test_message_committed_during_a_join_reaches_the_joiner(factory, socket_client, monkeypatch):
    """A message stored after the join read its replay, but before the join finished, is not lost: the
    socket is in the room before the replay is read, so it arrives live (or in the replay, or both)."""
    scene = present_scene(factory, socket_client)
    alice, bob = socket_client("alice"), socket_client("bob")
    join(alice, scene.meeting)
    ack, sent, seen = join_while(
        monkeypatch, bob, scene.meeting, lambda: send(alice, scene.meeting, "while bob joins", "race-0001")
    )
    assert ack["ok"] and sent["ok"] and sent["id"] in seen


def test_a_whisper_sent_during_a_join_reaches_the_joiner(factory, socket_client, monkeypatch):
    """Whispers go to a person's sockets through presence: the joining socket is in presence before the
    replay is read, so a whisper stored in between reaches it live or in the replay."""
    scene = present_scene(factory, socket_client)
    bob = socket_client("bob")
    ack, sent, seen = join_while(
        monkeypatch,
        bob,
        scene.meeting,
        lambda: scene.expert_socket.emit(
            "whisper",
            {
                "meeting_id": scene.meeting.id,
                "to": scene.memberships["bob"].public_id,
                "client_id": "whisper-race-1",
                "text": "just for you",
            },
            callback=True,
        ),
    )
    assert ack["ok"] and sent["ok"] and sent["id"] in seen


@pytest.mark.committed  # two transactions that race: one connection cannot play both
def test_a_removal_committed_during_a_join_refuses_it(factory, socket_client, monkeypatch):
    """The join read "not removed", then the peer expert removed the person before the socket was in
    presence (so the removal found no socket to disconnect): the join notices the changed rules and
    refuses, instead of leaving a removed person reading the chat."""
    from supportgroup.realtime import stores as chat_stores

    scene = present_scene(factory, socket_client)
    bob = socket_client("bob")
    removed = {}

    def removing_first(original):
        def add(self, meeting_id, sid, membership_id, is_moderator=False):
            if "ack" not in removed and not is_moderator:
                removed["ack"] = scene.expert_socket.emit(
                    "remove",
                    {"meeting_id": scene.meeting.id, "member": scene.memberships["bob"].public_id, "reason": "test"},
                    callback=True,
                )
            return original(self, meeting_id, sid, membership_id, is_moderator)

        return add

    for cls in (chat_stores.MemoryPresence, chat_stores.RedisPresence):
        monkeypatch.setattr(cls, "add", removing_first(cls.add))
    ack = bob.emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert removed["ack"]["ok"], removed
    assert ack["ok"] is False and ack["error"]["code"] == "removed"
    # Bob is neither in the room nor present: a message does not reach him.
    assert send(scene.expert_socket, scene.meeting, "after the removal", "after-rm-01")["ok"]
    assert received(bob, "message") == []


@pytest.mark.parametrize("state", [MeetingState.CLOSED, MeetingState.CANCELLED])
def test_join_refused_when_meeting_is_over(factory, socket_client, state):
    scene = factory.scene(state)
    ack = socket_client("alice").emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert ack["error"]["code"] == "meeting_not_open"


def test_send_refused_when_meeting_closed_meanwhile(factory, socket_client, db):
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    scene.meeting.state = MeetingState.CLOSED
    db.session.commit()
    ack = send(alice, scene.meeting, "too late")
    assert ack["ok"] is False and ack["error"]["code"] == "meeting_not_open"
    assert "not open" in ack["error"]["message"]
    assert db.session.query(Message).count() == 0


def test_send_refused_in_scheduled_lobby(factory, socket_client, db):
    scene = factory.scene(MeetingState.SCHEDULED)
    alice = socket_client("alice")
    join(alice, scene.meeting)  # the lobby
    assert send(alice, scene.meeting)["error"]["code"] == "meeting_not_open"


def test_lobby_not_yet_open_far_before_start(factory, socket_client):
    from datetime import timedelta

    scene = factory.scene(MeetingState.SCHEDULED)
    scene.meeting.starts_at = scene.meeting.starts_at + timedelta(days=2)
    from supportgroup.extensions import db

    db.session.commit()
    assert (
        socket_client("alice").emit("join", {"meeting_id": scene.meeting.id}, callback=True)["error"]["code"]
        == "meeting_not_open"
    )
    # The peer expert may come in early to prepare.
    join(socket_client("expert"), scene.meeting)


def test_send_refused_without_joining(factory, socket_client):
    scene = present_scene(factory, socket_client)
    assert send(socket_client("alice"), scene.meeting)["error"]["code"] == "not_joined"


def test_send_refused_for_non_member(factory, socket_client):
    scene = factory.scene()
    assert send(socket_client("eve"), scene.meeting)["error"]["code"] == "meeting_not_found"


def test_removed_member_cannot_send_any_more(factory, socket_client, db):
    """Authorization is read from the database on every event, not remembered from the join."""
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    scene.memberships["alice"].status = MembershipStatus.REMOVED
    db.session.commit()
    assert send(alice, scene.meeting)["error"]["code"] == "membership_inactive"


MEETING = object()  # stands for the scene's meeting id in parametrized payloads


@pytest.mark.parametrize(
    "payload,code",
    [
        (None, "invalid_payload"),
        ("a string", "invalid_payload"),
        ({}, "invalid_payload"),
        ({"meeting_id": "1", "client_id": "client-0001", "text": "x"}, "invalid_payload"),
        ({"meeting_id": True, "client_id": "client-0001", "text": "x"}, "invalid_payload"),
        ({"meeting_id": MEETING, "client_id": "short", "text": "x"}, "invalid_payload"),
        ({"meeting_id": MEETING, "client_id": "client-0001", "text": 42}, "invalid_payload"),
        ({"meeting_id": MEETING, "client_id": "client-0001", "text": "   "}, "empty_message"),
        ({"meeting_id": MEETING, "client_id": "client-0001", "text": "x" * 2001}, "message_too_long"),
        ({"meeting_id": MEETING, "client_id": "client-0001", "text": "nul\x00byte"}, "invalid_characters"),
        ({"meeting_id": MEETING, "client_id": "client-0001", "text": "bell\x07"}, "invalid_characters"),
        ({"meeting_id": MEETING, "client_id": "client-0001", "text": "x", "role": "moderator"}, "invalid_payload"),
    ],
)
def test_bad_send_payloads_get_an_error_ack(factory, socket_client, db, payload, code):
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    if isinstance(payload, dict) and payload.get("meeting_id") is MEETING:
        payload = {**payload, "meeting_id": scene.meeting.id}
    ack = alice.emit("send", payload, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == code and ack["error"]["message"]
    assert db.session.query(Message).count() == 0


def test_multiline_text_is_kept(factory, socket_client):
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    assert send(alice, scene.meeting, "line one\r\nline two")["ok"]
    assert received(alice, "message")[-1]["text"] == "line one\nline two"


@pytest.fixture
def app_overrides(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_overrides", [{"SOCKET_EVENT_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_socket_events_are_rate_limited_per_user(factory, socket_client):
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    acks = [send(alice, scene.meeting, f"n{n}", f"client-{n:04d}") for n in range(3)]
    assert [a["ok"] for a in acks] == [True, True, False]
    assert acks[-1]["error"]["code"] == "rate_limited"


def test_logout_ends_the_socket_session(factory, socket_client, login_client, app):
    """After logging out over HTTP, the old socket can do nothing more."""
    scene = factory.scene()
    http = login_client("alice")
    sio = socket_test_client(app, http)
    join(sio, scene.meeting)
    AuthActions(http).logout()
    assert not sio.is_connected()  # disconnected by the server at once


def test_old_socket_session_is_refused_after_logout_elsewhere(factory, socket_client, login_client, app, db):
    """Even a socket the server could not reach is refused: the account's session token has changed."""
    scene = present_scene(factory, socket_client)
    http = login_client("alice")
    sio = socket_test_client(app, http)
    join(sio, scene.meeting)
    scene.alice.rotate_session_token()  # what logout and password change do
    db.session.commit()
    assert send(sio, scene.meeting)["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "goes_away",
    [
        lambda sio, meeting: sio.emit("leave", {"meeting_id": meeting.id}, callback=True),
        lambda sio, meeting: sio.disconnect(),
    ],
    ids=["leave", "disconnect"],
)
def test_going_away_updates_presence(factory, socket_client, goes_away):
    scene = factory.scene()
    alice, expert = socket_client("alice"), socket_client("expert")
    join(expert, scene.meeting)
    join(alice, scene.meeting)
    expert.get_received()
    goes_away(alice, scene.meeting)
    last = received(expert, "presence")[-1]
    assert [p["role"] for p in last["present"]] == ["peer_expert"]


def test_retry_after_the_meeting_closed_still_gets_its_ack(factory, socket_client, db):
    """The ack was lost, the meeting closed, the client retries: it learns the message was stored."""
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    first = send(alice, scene.meeting, "stored before closing", "client-lost-ack")
    scene.meeting.state = MeetingState.CLOSED
    db.session.commit()
    retry = send(alice, scene.meeting, "stored before closing", "client-lost-ack")
    assert retry == {
        "ok": True,
        "id": first["id"],
        "client_id": "client-lost-ack",
        "duplicate": True,
        "status": "visible",
    }


def test_same_client_id_from_two_authors_is_two_messages(factory, socket_client, db):
    scene = present_scene(factory, socket_client)
    alice, bob = socket_client("alice"), socket_client("bob")
    for sio in (alice, bob):
        join(sio, scene.meeting)
    assert send(alice, scene.meeting, "a", "same-client-id")["id"] == 1
    assert send(bob, scene.meeting, "b", "same-client-id")["id"] == 2


@pytest.mark.parametrize("app_overrides", [{"IDLE_TIMEOUT_MINUTES": 0}], indirect=True)
def test_idle_session_cannot_open_a_socket(factory, login_client, app, monkeypatch):
    from supportgroup.realtime import activity as idle

    factory.user("alice")
    http = login_client("alice")
    later = idle.clock() + 2
    monkeypatch.setattr(idle, "clock", lambda: later)
    assert not socket_test_client(app, http).is_connected()


def test_join_refused_until_the_house_rules_are_accepted(factory, socket_client, db):
    from supportgroup.groups.enrolment import accept_house_rules

    scene = factory.scene()
    scene.group.rules_version += 1  # the rules changed since alice accepted them
    db.session.commit()
    alice = socket_client("alice")
    ack = alice.emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert ack["error"]["code"] == "rules_not_accepted"
    accept_house_rules(scene.memberships["alice"])
    db.session.commit()
    join(alice, scene.meeting)
    # Peer experts lead the meeting; they are not held back by a participants' consent step.
    join(socket_client("expert"), scene.meeting)
