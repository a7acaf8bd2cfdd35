"""Every moderator control and participant action in the live chat: who may, who may not, and the effect."""

import pytest

from supportgroup.models import (
    Admission,
    Hand,
    Meeting,
    MeetingRemoval,
    Membership,
    MembershipStatus,
    Message,
    ModerationAction,
    Mute,
    Report,
)
from tests.chat_helpers import join, mod, open_room, present_scene, received, send

MODERATOR_EVENTS = {
    "mute": lambda m, s: {"meeting_id": m, "member": s.memberships["bob"].public_id, "minutes": 5, "reason": "r"},
    "unmute": lambda m, s: {"meeting_id": m, "member": s.memberships["bob"].public_id},
    "remove": lambda m, s: {"meeting_id": m, "member": s.memberships["bob"].public_id, "reason": "r"},
    "ban": lambda m, s: {"meeting_id": m, "member": s.memberships["bob"].public_id, "reason": "r"},
    "set_slow_mode": lambda m, s: {"meeting_id": m, "seconds": 10},
    "set_premoderation": lambda m, s: {"meeting_id": m, "on": True},
    "set_floor_only": lambda m, s: {"meeting_id": m, "on": True},
    "lock": lambda m, s: {"meeting_id": m, "locked": True},
    "pin": lambda m, s: {"meeting_id": m, "id": None},
    "give_floor": lambda m, s: {"meeting_id": m, "member": None},
    "close": lambda m, s: {"meeting_id": m},
    "admit_all": lambda m, s: {"meeting_id": m},
    "backchannel": lambda m, s: {"meeting_id": m, "client_id": "back-00001", "text": "hi"},
    "announce": lambda m, s: {"meeting_id": m, "client_id": "anno-00001", "text": "hi"},
    "resolve_report": lambda m, s: {"meeting_id": m, "report_id": 1},
    "approve": lambda m, s: {"meeting_id": m, "id": 1},
    "reject": lambda m, s: {"meeting_id": m, "id": 1},
    "admit": lambda m, s: {"meeting_id": m, "member": s.memberships["bob"].public_id},
}


@pytest.fixture
def room(factory, socket_client):
    """An open meeting with the peer expert, alice and bob all joined."""
    return open_room(factory, socket_client)


@pytest.mark.parametrize("event", sorted(MODERATOR_EVENTS))
def test_participants_cannot_use_moderator_controls(room, db, event):
    ack = room.alice_socket.emit(event, MODERATOR_EVENTS[event](room.meeting.id, room), callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "not_moderator"
    assert db.session.query(ModerationAction).count() == 0


@pytest.mark.parametrize("event", sorted(MODERATOR_EVENTS))
def test_outsiders_cannot_use_moderator_controls(room, socket_client, event):
    ack = socket_client("eve").emit(event, MODERATOR_EVENTS[event](room.meeting.id, room), callback=True)
    assert ack["error"]["code"] == "meeting_not_found"


def test_mute_disables_sending_until_unmuted_and_is_audited(room, db):
    bob = room.memberships["bob"]
    assert mod(room, "mute", member=bob.public_id, minutes=None, reason="take a breath")["ok"]
    state = received(room.bob_socket, "mute_state")[-1]
    assert state["muted"] is True and state["until"] is None and state["reason"] == "take a breath"
    refused = send(room.bob_socket, room.meeting, "still talking")
    assert refused["error"]["code"] == "muted"
    assert send(room.alice_socket, room.meeting, "I can", "alice-0001")["ok"]  # others are not muted
    assert mod(room, "unmute", member=bob.public_id)["ok"]
    assert received(room.bob_socket, "mute_state")[-1]["muted"] is False
    assert send(room.bob_socket, room.meeting, "back", "bob-00002")["ok"]
    actions = [a.action for a in db.session.query(ModerationAction).order_by(ModerationAction.id)]
    assert actions == ["mute", "unmute"]
    audit = db.session.query(ModerationAction).filter_by(action="mute").one()
    assert audit.reason == "take a breath" and audit.target_id == str(bob.id)


def test_mute_for_minutes_expires(room, db):
    from datetime import timedelta

    bob = room.memberships["bob"]
    mod(room, "mute", member=bob.public_id, minutes=5, reason="")
    assert received(room.bob_socket, "mute_state")[-1]["until"] is not None
    mute = db.session.query(Mute).one()
    mute.until = mute.until - timedelta(minutes=6)
    db.session.commit()
    assert send(room.bob_socket, room.meeting, "after the mute", "bob-00003")["ok"]


def test_the_moderators_learn_who_is_muted_live_and_from_the_snapshot(room, db):
    """The console shows "Unmute" only for who is muted: `mute_changed` to the moderators, and the join and
    catch_up snapshot's `muted` (a timed mute that ran out is not in it); participants hear neither."""
    from datetime import timedelta

    bob, alice = room.memberships["bob"], room.memberships["alice"]
    assert mod(room, "mute", member=bob.public_id, minutes=None, reason="a pause")["ok"]
    assert mod(room, "mute", member=alice.public_id, minutes=5, reason="")["ok"]
    changed = received(room.expert_socket, "mute_changed")
    assert changed[0] == {"meeting_id": room.meeting.id, "member": bob.public_id, "muted": True, "until": None}
    assert changed[1]["member"] == alice.public_id and changed[1]["until"] is not None
    assert received(room.alice_socket, "mute_changed") == [] and received(room.bob_socket, "mute_changed") == []
    muted = join(room.expert_socket, room.meeting)["moderation"]["muted"]
    assert [m["member"] for m in muted] == [bob.public_id, alice.public_id] and muted[0]["until"] is None

    timed = db.session.query(Mute).filter_by(membership_id=alice.id).one()
    timed.until = timed.until - timedelta(minutes=6)  # ran out
    db.session.commit()
    assert mod(room, "unmute", member=bob.public_id)["ok"]
    assert received(room.expert_socket, "mute_changed")[-1] == {
        "meeting_id": room.meeting.id,
        "member": bob.public_id,
        "muted": False,
        "until": None,
    }
    assert join(room.expert_socket, room.meeting)["moderation"]["muted"] == []


def test_a_peer_expert_cannot_be_muted(room, db):
    me = join(room.expert_socket, room.meeting)["me"]
    assert mod(room, "mute", member=me["id"], reason="")["error"]["code"] == "not_allowed"
    assert db.session.query(Mute).count() == 0
    assert db.session.query(ModerationAction).count() == 0


def test_remove_takes_someone_out_of_this_meeting_only(room, db, socket_client):
    bob = room.memberships["bob"]
    assert mod(room, "remove", member=bob.public_id, reason="needs a break")["ok"]
    assert not room.bob_socket.is_connected()  # out of the meeting at once
    # The test client refuses get_received() once disconnected; what arrived before is in its queue.
    removed = [p["args"][0] for p in room.bob_socket.queue if p["name"] == "removed"]
    assert removed == [{"meeting_id": room.meeting.id, "reason": "needs a break", "banned": False}]
    assert send(room.alice_socket, room.meeting, "after", "alice-0002")["ok"]
    again = socket_client("bob")
    assert again.emit("join", {"meeting_id": room.meeting.id}, callback=True)["error"]["code"] == "removed"
    db.session.refresh(bob)
    assert bob.status == MembershipStatus.ACTIVE  # still in the group
    last = received(room.alice_socket, "presence")[-1]
    assert bob.alias not in {p["name"] for p in last["present"]}


def test_ban_disconnects_at_once_and_for_good(room, db):
    bob = room.memberships["bob"]
    assert mod(room, "ban", member=bob.public_id, reason="threats")["ok"]
    assert not room.bob_socket.is_connected()
    db.session.refresh(bob)
    assert bob.status == MembershipStatus.BANNED
    assert db.session.query(ModerationAction).filter_by(action="ban_member").one().reason == "threats"


def test_deleted_message_is_gone_for_everyone_late_joiners_and_replays(room, socket_client, db):
    sent = send(room.alice_socket, room.meeting, "something I regret", "alice-0003")
    keep = send(room.alice_socket, room.meeting, "something else", "alice-0004")
    assert mod(room, "delete_message", id=sent["id"])["ok"]
    for sio in (room.alice_socket, room.bob_socket):
        assert {"meeting_id": room.meeting.id, "id": sent["id"]} in received(sio, "message_deleted")
    late = socket_client("bob")
    texts = [m["text"] for m in join(late, room.meeting)["messages"]]
    assert "something I regret" not in texts and "something else" in texts
    replay = join(late, room.meeting, after=0)["messages"]
    assert [m["id"] for m in replay] == [keep["id"]]
    assert db.session.query(ModerationAction).filter_by(action="delete_message").one().target_id == str(sent["id"])
    assert "regret" not in repr([a.reason for a in db.session.query(ModerationAction)])  # never the text


def test_participants_delete_only_their_own_messages(room):
    mine = send(room.alice_socket, room.meeting, "mine", "alice-0005")
    theirs = send(room.bob_socket, room.meeting, "theirs", "bob-00005")
    assert (
        room.alice_socket.emit("delete_message", {"meeting_id": room.meeting.id, "id": theirs["id"]}, callback=True)[
            "error"
        ]["code"]
        == "not_allowed"
    )
    assert room.alice_socket.emit("delete_message", {"meeting_id": room.meeting.id, "id": mine["id"]}, callback=True)[
        "ok"
    ]


def test_premoderation_holds_messages_until_approved_or_rejected(room, db):
    assert mod(room, "set_premoderation", on=True)["ok"]
    assert received(room.alice_socket, "meeting_state")[-1]["premoderation"] is True
    held = send(room.alice_socket, room.meeting, "please approve", "alice-0006")
    assert held["ok"] and held["status"] == "pending"
    assert received(room.bob_socket, "message") == []
    pending = received(room.expert_socket, "pending")
    assert pending[-1]["message"]["text"] == "please approve"
    assert mod(room, "approve", id=held["id"])["ok"]
    assert [m["text"] for m in received(room.bob_socket, "message")] == ["please approve"]
    other = send(room.alice_socket, room.meeting, "not this one", "alice-0007")
    assert mod(room, "reject", id=other["id"], reason="off topic")["ok"]
    assert received(room.alice_socket, "message_rejected")[-1]["reason"] == "off topic"
    assert db.session.query(Message).filter_by(status="rejected").count() == 1
    # Moderators are never held.
    assert send(room.expert_socket, room.meeting, "welcome", "expert-001")["status"] == "visible"


def test_group_setting_premoderation_applies_without_a_live_switch(factory, socket_client, db):
    scene = present_scene(factory, socket_client)
    scene.group.premoderation = True
    db.session.commit()
    alice = socket_client("alice")
    join(alice, scene.meeting)
    assert send(alice, scene.meeting, "held", "alice-0008")["status"] == "pending"


def test_slow_mode_limits_each_participant(room):
    assert mod(room, "set_slow_mode", seconds=60)["ok"]
    assert send(room.alice_socket, room.meeting, "one", "alice-0009")["ok"]
    refused = send(room.alice_socket, room.meeting, "two", "alice-0010")
    assert refused["error"]["code"] == "slow_mode" and 0 < refused["error"]["retry_after"] <= 60
    assert send(room.bob_socket, room.meeting, "bob may", "bob-00010")["ok"]
    assert send(room.expert_socket, room.meeting, "moderators are never slowed", "exp-00010")["ok"]
    assert send(room.expert_socket, room.meeting, "again", "exp-00011")["ok"]


def test_pin_and_announcement(room):
    agenda = send(room.expert_socket, room.meeting, "Agenda: check-in, theme, close", "exp-00020")
    assert mod(room, "pin", id=agenda["id"])["ok"]
    assert received(room.alice_socket, "meeting_state")[-1]["pinned"]["text"].startswith("Agenda")
    ack = mod(room, "announce", client_id="anno-00002", text="Five minutes break")
    assert ack["ok"]
    announcement = [m for m in received(room.bob_socket, "message") if m["kind"] == "announcement"]
    assert announcement[-1]["author"]["role"] == "peer_expert"
    assert mod(room, "pin", id=None)["ok"]
    assert received(room.alice_socket, "meeting_state")[-1]["pinned"] is None


def test_hands_and_the_floor(room, db):
    for sio in (room.alice_socket, room.bob_socket):
        assert sio.emit("raise_hand", {"meeting_id": room.meeting.id}, callback=True)["ok"]
    queue = received(room.expert_socket, "hands")[-1]["queue"]
    assert [p["name"] for p in queue] == [room.memberships["alice"].alias, room.memberships["bob"].alias]
    assert mod(room, "give_floor", member=room.memberships["bob"].public_id)["ok"]
    events = room.alice_socket.get_received()
    state = [e["args"][0] for e in events if e["name"] == "meeting_state"][-1]
    assert state["floor"]["name"] == room.memberships["bob"].alias
    hands = [e["args"][0] for e in events if e["name"] == "hands"][-1]
    assert [p["name"] for p in hands["queue"]] == [room.memberships["alice"].alias]
    assert mod(room, "set_floor_only", on=True)["ok"]
    assert send(room.alice_socket, room.meeting, "me too", "alice-0011")["error"]["code"] == "floor_only"
    assert send(room.bob_socket, room.meeting, "my turn", "bob-00011")["ok"]
    assert room.alice_socket.emit("lower_hand", {"meeting_id": room.meeting.id}, callback=True)["ok"]
    assert db.session.query(Hand).count() == 0


def test_whisper_and_reply_reach_only_that_participant_and_the_moderators(room, socket_client):
    alice = room.memberships["alice"]
    ack = room.expert_socket.emit(
        "whisper",
        {"meeting_id": room.meeting.id, "to": alice.public_id, "client_id": "whisp-0001", "text": "How are you doing?"},
        callback=True,
    )
    assert ack["ok"]
    got = received(room.alice_socket, "message")
    assert got[-1]["kind"] == "whisper" and got[-1]["to"]["name"] == alice.alias
    assert received(room.bob_socket, "message") == []
    reply = room.alice_socket.emit(
        "whisper", {"meeting_id": room.meeting.id, "client_id": "whisp-0002", "text": "Not great"}, callback=True
    )
    assert reply["ok"]
    assert [m["text"] for m in received(room.expert_socket, "message")][-1] == "Not great"
    assert received(room.bob_socket, "message") == []
    # Replays keep whispers private too.
    bob_replay = join(room.bob_socket, room.meeting, after=0)["messages"]
    assert all(m["kind"] != "whisper" for m in bob_replay)
    alice_replay = join(room.alice_socket, room.meeting, after=0)
    assert [m["text"] for m in alice_replay["messages"]] == ["How are you doing?", "Not great"]


def test_backchannel_is_for_moderators_only(room, factory, socket_client):
    co = factory.user("coexpert", first_name="Noor", role=__import__("supportgroup").models.Role.PEER_EXPERT)
    factory.moderator(room.group, co)
    co_socket = socket_client("coexpert")
    join(co_socket, room.meeting)
    co_socket.get_received()
    assert mod(room, "backchannel", client_id="back-00002", text="Bob seems upset")["ok"]
    assert [m["text"] for m in received(co_socket, "message")] == ["Bob seems upset"]
    assert received(room.bob_socket, "message") == [] and received(room.alice_socket, "message") == []
    assert (
        room.alice_socket.emit(
            "backchannel", {"meeting_id": room.meeting.id, "client_id": "back-00003", "text": "x"}, callback=True
        )["error"]["code"]
        == "not_moderator"
    )


def test_report_reaches_moderators_and_hides_the_reporter(room, db):
    sent = send(room.bob_socket, room.meeting, "something hurtful", "bob-00020")
    ack = room.alice_socket.emit(
        "report", {"meeting_id": room.meeting.id, "id": sent["id"], "reason": "hurtful"}, callback=True
    )
    assert ack["ok"]
    report = received(room.expert_socket, "report")[-1]["report"]
    assert report["reporter"]["name"] == room.memberships["alice"].alias and report["reason"] == "hurtful"
    assert received(room.bob_socket, "report") == []
    assert "report" not in {e["name"] for e in room.bob_socket.get_received()}
    assert mod(room, "resolve_report", report_id=ack["report_id"])["ok"]
    assert db.session.query(Report).one().resolved_at is not None
    empty = room.alice_socket.emit(
        "report", {"meeting_id": room.meeting.id, "id": sent["id"], "reason": " "}, callback=True
    )
    assert empty["error"]["code"] == "reason_required"


def test_lock_refuses_new_joiners_but_lets_people_back(room, factory, socket_client, db):
    carol = factory.user("carol")
    factory.member(room.group, carol)
    assert mod(room, "lock", locked=True)["ok"]
    assert (
        socket_client("carol").emit("join", {"meeting_id": room.meeting.id}, callback=True)["error"]["code"]
        == "meeting_locked"
    )
    room.alice_socket.disconnect()
    join(socket_client("alice"), room.meeting)


def test_close_from_the_console(room, db):
    assert mod(room, "close")["ok"]
    assert received(room.alice_socket, "meeting_state")[-1]["state"] == "closed"
    assert send(room.alice_socket, room.meeting, "too late", "alice-0030")["error"]["code"] == "meeting_not_open"


def test_waiting_room_admits_one_by_one_or_all(factory, socket_client, db):
    scene = present_scene(factory, socket_client)
    scene.group.waiting_room = True
    db.session.commit()
    alice, bob = socket_client("alice"), socket_client("bob")
    first = join(alice, scene.meeting)
    assert first["waiting"] is True and first["messages"] == []
    join(bob, scene.meeting)
    waiting = received(scene.expert_socket, "waiting")[-1]["waiting"]
    assert {p["name"] for p in waiting} == {scene.memberships["alice"].alias, scene.memberships["bob"].alias}
    assert send(alice, scene.meeting, "hello?", "alice-0040")["error"]["code"] == "waiting"
    assert mod(scene, "admit", member=scene.memberships["alice"].public_id)["ok"]
    assert received(alice, "admitted") == [{"meeting_id": scene.meeting.id}]
    again = join(alice, scene.meeting)
    assert again["waiting"] is False
    assert send(alice, scene.meeting, "hello", "alice-0041")["ok"]
    assert mod(scene, "admit_all")["admitted"] == 1
    assert db.session.query(Admission).count() == 2


def test_no_moderator_means_read_only_for_participants(factory, socket_client, db):
    scene = factory.scene()
    alice = socket_client("alice")
    joined = join(alice, scene.meeting)
    assert joined["state"]["moderator_present"] is False
    assert send(alice, scene.meeting)["error"]["code"] == "no_moderator"
    expert = socket_client("expert")
    join(expert, scene.meeting)
    assert received(alice, "meeting_state")[-1]["moderator_present"] is True
    assert send(alice, scene.meeting, "now I can", "alice-0050")["ok"]
    expert.disconnect()
    assert received(alice, "meeting_state")[-1]["moderator_present"] is False
    assert send(alice, scene.meeting, "and now not", "alice-0051")["error"]["code"] == "no_moderator"


def test_moderation_targets_must_be_in_this_group(room, factory):
    other_group = factory.group("Elsewhere")
    stranger = factory.member(other_group, factory.user("stranger"))
    assert mod(room, "mute", member=stranger.public_id, reason="")["error"]["code"] == "member_not_found"
    assert mod(room, "delete_message", id=99999)["error"]["code"] == "message_not_found"


def test_removed_in_the_database_even_if_the_socket_was_missed(room, db):
    """Authorization is read on every event: a removal recorded anywhere stops sending everywhere."""
    db.session.add(MeetingRemoval(meeting_id=room.meeting.id, membership_id=room.memberships["bob"].id))
    db.session.commit()
    assert send(room.bob_socket, room.meeting, "x", "bob-00099")["error"]["code"] == "removed"
    assert db.session.get(Meeting, room.meeting.id) is not None and Membership


PARTICIPANT_EVENTS = {
    "join": lambda m: {"meeting_id": m},
    "send": lambda m: {"meeting_id": m, "client_id": "state-0001", "text": "hi"},
    "whisper": lambda m: {"meeting_id": m, "client_id": "state-0002", "text": "hi"},
    "raise_hand": lambda m: {"meeting_id": m},
    "lower_hand": lambda m: {"meeting_id": m},
    "report": lambda m: {"meeting_id": m, "id": 1, "reason": "r"},
    "delete_message": lambda m: {"meeting_id": m, "id": 1},
}


@pytest.mark.parametrize(
    "status,code",
    [
        (None, "meeting_not_found"),
        (MembershipStatus.BANNED, "banned"),
        (MembershipStatus.REMOVED, "membership_inactive"),
        (MembershipStatus.LEFT, "membership_inactive"),
        (MembershipStatus.WAITLISTED, "membership_inactive"),
        (MembershipStatus.PENDING, "membership_inactive"),
    ],
)
@pytest.mark.parametrize("event", sorted(PARTICIPANT_EVENTS))
def test_participant_events_need_an_active_membership(room, factory, socket_client, db, status, code, event):
    if status is None:
        sio = socket_client("eve")
    else:
        room.memberships["bob"].status = status
        db.session.commit()
        sio = room.bob_socket
    ack = sio.emit(event, PARTICIPANT_EVENTS[event](room.meeting.id), callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == code


def test_an_approved_message_reaches_a_client_that_reconnects_later(room, socket_client):
    """Approval gives a new server id, so "replay after the last id I saw" includes it."""
    assert mod(room, "set_premoderation", on=True)["ok"]
    held = send(room.alice_socket, room.meeting, "held for a while", "alice-0060")
    later = send(room.expert_socket, room.meeting, "meanwhile", "exp-00060")
    assert later["id"] > held["id"]
    room.bob_socket.disconnect()
    approved = mod(room, "approve", id=held["id"])
    assert approved["id"] > later["id"]
    bob = socket_client("bob")
    replay = join(bob, room.meeting, after=later["id"])["messages"]
    assert [m["text"] for m in replay] == ["held for a while"]
