"""Who may hear the moderators (issue #11): a right that ends takes away the rooms that carry it, at once.

A socket is in a meeting's room, its moderators' room and its user's room because of rights it had when it
joined. Every way such a right ends (the peer expert untrained, unassigned from the group or given another
role; the account disabled; the participant leaving the group) must take the socket out, in every process,
so it hears no more whispers to the moderators, reports (with who reported) or chat. Over two real server
processes with PostgreSQL and Redis too (the last tests).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportgroup.extensions import db, socketio
from supportgroup.models import Membership
from supportgroup.realtime.rooms import meeting_room, moderators_room, revoke_rooms
from supportgroup.realtime.stores import stores
from tests.chat_helpers import join, open_room, received, send
from tests.conftest import DEFAULT_PASSWORD, csrf_token
from tests.live import wait_until


def post_form(http, page: str, action: str, data: dict | None = None):
    return http.post(action, data={"csrf_token": csrf_token(http, page), **(data or {})})


@pytest.fixture
def room(factory, socket_client):
    """The meeting with its peer expert, alice and bob joined, and one message (id 1) to report later."""
    scene = open_room(factory, socket_client)
    assert send(scene.alice_socket, scene.meeting, "a first line", "alice-0000")["id"] == 1
    for sio in (scene.expert_socket, scene.alice_socket, scene.bob_socket):
        sio.get_received()
    return scene


@pytest.fixture
def coordinator(room, login_client):
    return login_client("coord")


def untrain(http, expert) -> None:
    page = f"/groups/pool/{expert.id}/edit"
    response = post_form(http, page, page, {"first_name": "Sam", "story": "", "trained_on": ""})  # "trained" unticked
    assert response.status_code == 302


def whisper_to_moderators(room, text="I need help", client_id="whisper-0001") -> dict:
    ack = room.alice_socket.emit(
        "whisper", {"meeting_id": room.meeting.id, "client_id": client_id, "text": text}, callback=True
    )
    assert ack["ok"], ack
    return ack


def in_room(sio, room_name: str) -> bool:
    """Whether this test client's socket is in a room of the (in-process) server."""
    return any(eio == sio.eio_sid for _sid, eio in socketio.server.manager.get_participants("/", room_name))


def assert_hears_nothing_more(room, who: str = "expert") -> None:
    """`who`'s socket is out of the meeting's rooms and its presence (disconnected), and what only moderators
    hear (a whisper to them, a report with who reported) goes on without it."""
    sio = getattr(room, f"{who}_socket")
    user = getattr(room, who)
    membership = db.session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.group_id == room.group.id)
    )
    assert not sio.is_connected()
    assert membership.id not in stores().presence.membership_ids(room.meeting.id)
    others = [s for s in (room.alice_socket, room.bob_socket) if s is not sio]
    whisper = others[0].emit(
        "whisper", {"meeting_id": room.meeting.id, "client_id": "whisper-0001", "text": "I need help"}, callback=True
    )
    report = others[0].emit("report", {"meeting_id": room.meeting.id, "id": 1, "reason": "scared"}, callback=True)
    assert whisper["ok"] and report["ok"]
    for name in (meeting_room(room.meeting.id), moderators_room(room.meeting.id)):
        assert not in_room(sio, name)


def test_untrained_peer_expert_no_longer_hears_whispers_or_reports(room, coordinator, db):
    untrain(coordinator, room.expert)
    db.session.refresh(room.expert.profile)
    assert room.expert.profile.trained is False
    assert_hears_nothing_more(room)
    # No peer expert is present any more: the chat is read-only for participants at once.
    states = received(room.bob_socket, "meeting_state")
    assert states and states[-1]["moderator_present"] is False
    assert send(room.alice_socket, room.meeting, "anyone?", "alice-0002")["error"]["code"] == "no_moderator"


def test_editing_a_profile_without_taking_a_right_leaves_the_sockets_alone(room, coordinator):
    page = f"/groups/pool/{room.expert.id}/edit"
    assert (
        post_form(coordinator, page, page, {"first_name": "Sam", "story": "New story.", "trained": "y"}).status_code
        == 302
    )
    assert room.expert_socket.is_connected() and room.alice_socket.is_connected()
    whisper_to_moderators(room)
    assert [m["text"] for m in received(room.expert_socket, "message")] == ["I need help"]


def test_peer_expert_unassigned_from_the_group(room, coordinator, db):
    membership = db.session.query(Membership).filter_by(user_id=room.expert.id).one()
    response = post_form(
        coordinator,
        f"/groups/{room.group.id}",
        f"/groups/memberships/{membership.id}/remove",
        {"reason": "stepped down"},
    )
    assert response.status_code == 302
    assert_hears_nothing_more(room)


def test_unassigned_in_one_group_keeps_the_other_groups_meeting(room, coordinator, factory, socket_client, db):
    other = factory.group("Evening group")
    factory.moderator(other, room.expert)
    evening = factory.meeting(other, title="Evening")
    second = socket_client("expert")
    join(second, evening)
    membership = db.session.query(Membership).filter_by(user_id=room.expert.id, group_id=room.group.id).one()
    post_form(coordinator, f"/groups/{room.group.id}", f"/groups/memberships/{membership.id}/remove")
    assert not room.expert_socket.is_connected()
    assert second.is_connected()  # still moderates the evening group


def test_role_changed_from_the_command_line(room, runner):
    result = runner.invoke(args=["set-role", "expert", "participant", "--reason", "left"])
    assert result.exit_code == 0, result.output
    assert "Disconnected sockets: 1." in result.output
    assert_hears_nothing_more(room)


def test_disabled_account_loses_every_socket_joined_or_not(room, runner, socket_client, login_client, db):
    idle = socket_client("expert")  # connected, in no meeting: only its user room
    result = runner.invoke(args=["disable-user", "expert", "--reason", "left"])
    assert result.exit_code == 0, result.output
    assert not idle.is_connected()
    assert_hears_nothing_more(room)
    assert runner.invoke(args=["enable-user", "expert", "--reason", "back"]).exit_code == 0


def test_participant_who_leaves_the_group_hears_no_more(room, login_client):
    alice = login_client("alice")
    page = f"/groups/{room.group.id}/about"
    assert post_form(alice, page, f"/groups/{room.group.id}/leave").status_code == 302
    assert_hears_nothing_more(room, "alice")


def test_participant_removed_from_the_group(room, coordinator):
    membership = room.memberships["alice"]
    post_form(coordinator, f"/groups/{room.group.id}", f"/groups/memberships/{membership.id}/remove")
    assert not room.alice_socket.is_connected()
    assert room.bob_socket.is_connected() and room.expert_socket.is_connected()


def test_revocation_touches_no_one_who_keeps_their_rights(room, app):
    with app.test_request_context():
        assert revoke_rooms(group_id=room.group.id) == 0
        assert revoke_rooms(user_id=room.expert.id) == 0
    for sio in (room.expert_socket, room.alice_socket, room.bob_socket):
        assert sio.is_connected()


# --- two real server processes over PostgreSQL and Redis ----------------------------------------------


@pytest.mark.live
@pytest.mark.scaleout_only
def test_untrained_in_one_process_leaves_the_moderators_room_in_the_other(factory, live_servers, sockets):
    """The coordinator's page runs on one process, the peer expert's socket lives on another."""
    from tests.test_scaleout import connect

    scene = factory.scene()
    meeting_id, expert_id = scene.meeting.id, scene.expert.id
    first, second = live_servers(), live_servers()
    expert = connect(second, "expert", sockets)
    alice = connect(first, "alice", sockets)
    assert expert.call("join", {"meeting_id": meeting_id})["ok"]
    assert alice.call("join", {"meeting_id": meeting_id})["ok"]
    ack = alice.call("whisper", {"meeting_id": meeting_id, "client_id": "whisper-1", "text": "before"})
    assert ack["ok"], ack
    expert.wait_for("message", lambda m: m["text"] == "before")

    coordinator = first.login("coord", DEFAULT_PASSWORD)
    page = f"{first.url}/groups/pool/{expert_id}/edit"
    token = __import__("re").search(r'name="csrf_token"[^>]*value="([^"]+)"', coordinator.get(page).text).group(1)
    response = coordinator.post(page, data={"csrf_token": token, "first_name": "Sam"}, allow_redirects=False)
    assert response.status_code == 302

    wait_until(lambda: not expert.client.connected, 5.0, what="the untrained expert's socket ending")
    mark = expert.mark()
    assert alice.call("whisper", {"meeting_id": meeting_id, "client_id": "whisper-2", "text": "after"})["ok"]
    alice.wait_for("meeting_state", lambda s: s["moderator_present"] is False)
    assert not [e for e in expert.received[mark:] if e[0] in ("message", "report")]


@pytest.mark.live
@pytest.mark.scaleout_only
def test_disable_user_from_the_command_line_reaches_every_process(factory, live_servers, sockets, schema, redis_prefix):
    import os
    import subprocess
    import sys

    from tests.live import ROOT
    from tests.test_scaleout import connect

    scene = factory.scene()
    first, second = live_servers(), live_servers()
    on_first, on_second = connect(first, "expert", sockets), connect(second, "expert", sockets)
    assert on_second.call("join", {"meeting_id": scene.meeting.id})["ok"]
    env = {
        **os.environ,
        "SUPPORTGROUP_ENV": "development",
        "SECRET_KEY": "live-test-secret-key-0123456789abcdef",
        "DATABASE_URL": schema.database_url,
        "REDIS_URL": schema.redis_url,
        "REDIS_PREFIX": redis_prefix,
        "FLASK_APP": "wsgi.py",
    }
    env.pop("SOCKETIO_MESSAGE_QUEUE", None)
    done = subprocess.run(
        [sys.executable, "-m", "flask", "disable-user", "expert", "--reason", "left"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    wait_until(
        lambda: not on_first.client.connected and not on_second.client.connected, 5.0, what="both sockets ending"
    )


def test_a_socket_disconnected_while_it_joins_leaves_no_presence_behind(factory, socket_client):
    """A right taken away while the join runs (after it entered presence, before it listed the meeting as
    joined) disconnects the socket: no presence may stay behind, or a moderator who is gone counts as present
    and the heartbeat keeps the entry alive for ever."""
    scene = factory.scene()
    expert = socket_client("expert")
    presence = stores().presence
    add = presence.add

    def add_then_disconnected(meeting_id, sid, membership_id, is_moderator=False):
        add(meeting_id, sid, membership_id, is_moderator)
        socketio.server.disconnect(sid, namespace="/")  # as `revoke_rooms` does from any process

    presence.add = add_then_disconnected
    try:
        join(expert, scene.meeting, expect_ok=False)
    finally:
        del presence.add
    assert not expert.is_connected()
    assert not presence.moderator_present(scene.meeting.id)
    assert not presence.membership_ids(scene.meeting.id)


def test_archiving_a_group_ends_its_meetings_for_everyone(room, coordinator, socket_client):
    assert post_form(coordinator, f"/groups/{room.group.id}", f"/groups/{room.group.id}/archive").status_code == 302
    for sio in (room.expert_socket, room.alice_socket, room.bob_socket):
        assert not sio.is_connected()
    again = socket_client("alice").emit("join", {"meeting_id": room.meeting.id}, callback=True)
    assert again["error"]["code"] == "group_archived"


# --- review of #11/#12: a lapsed proof of life, the cost of a user's revocation, a Redis that fails ------


def _later(presence, seconds: float) -> None:
    """Move the proof clock forward: every proof of life given so far is `seconds` older."""
    base = presence.proofs.clock
    presence.proofs.clock = lambda: base() + seconds


@pytest.mark.scaleout_only
@pytest.mark.committed  # the revocation reads what the page committed, from a session of its own
def test_untrained_peer_expert_whose_proof_of_life_lapsed_is_still_taken_out(room, coordinator, app):
    """A frozen phone (no answer to `alive` for longer than PRESENCE_TTL) stops the expert counting as
    present, but its socket is still held: taking the right away must still find it (the heartbeat used to
    delete its entry from Redis, so `revoke_rooms` never saw it and it kept the moderators' room)."""
    from supportgroup.chat.heartbeat import beat

    _later(stores().presence, app.config["PRESENCE_TTL"] + 1)
    beat({})  # a heartbeat round: prunes, stamps, asks `alive` (the frozen client would not answer)
    room.expert_socket.get_received()
    untrain(coordinator, room.expert)
    assert_hears_nothing_more(room)  # disconnected, out of both rooms; alice's whisper goes on without it


def test_a_users_revocation_reads_only_the_live_meetings_of_their_groups(room, factory, app):
    """Without a group (profile saved, role changed) the cost follows the user, not the platform."""
    other = factory.group("Someone else's group")
    elsewhere = factory.meeting(other, title="Elsewhere")
    stranger = factory.member(other, factory.user("stranger"))
    presence = stores().presence
    presence.add(elsewhere.id, "stranger-sid", stranger.id)
    asked: list[list[int]] = []
    holders = presence.holders

    def recording(meeting_ids):
        asked.append(list(meeting_ids))
        return holders(meeting_ids)

    presence.holders = recording
    try:
        with app.test_request_context():
            assert revoke_rooms(user_id=room.expert.id) == 0
    finally:
        del presence.holders
        presence.remove(elsewhere.id, "stranger-sid")
    assert asked == [[room.meeting.id]]


def _refusing_redis():
    """A real Redis client to a port where nothing listens: every command fails with ConnectionError."""
    import socket

    import redis

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return redis.Redis(host="127.0.0.1", port=port, decode_responses=True, socket_connect_timeout=0.5)


@pytest.mark.scaleout_only
@pytest.mark.committed  # the heartbeat reads what the page committed, from a session of its own
def test_redis_failing_after_the_commit_answers_the_page_and_the_heartbeat_revokes_later(
    room, coordinator, app, caplog
):
    from supportgroup.chat.heartbeat import beat
    from supportgroup.realtime.rooms import pending_revocations

    presence = stores().presence
    working = presence._redis
    presence._redis = _refusing_redis()
    try:
        untrain(coordinator, room.expert)  # committed; the page answers as usual (302), not 500
    finally:
        presence._redis = working
    assert "revoke_rooms: failed (ConnectionError)" in caplog.text
    assert pending_revocations() == {(room.expert.id, None)}
    assert room.expert_socket.is_connected()  # not yet: Redis failed
    beat({})  # the next heartbeat round retries
    assert pending_revocations() == set()
    assert_hears_nothing_more(room)


@pytest.mark.scaleout_only
def test_set_role_says_when_redis_failed_after_the_commit(room, runner, app):
    presence = stores().presence
    working = presence._redis
    presence._redis = _refusing_redis()
    try:
        result = runner.invoke(args=["set-role", "expert", "participant", "--reason", "left"])
    finally:
        presence._redis = working
    assert result.exit_code == 1 and "could not be checked (Redis failed)" in result.output
    assert (
        "Disconnected sockets: 1."
        in runner.invoke(args=["set-role", "expert", "participant", "--reason", "left"]).output
    )
    assert_hears_nothing_more(room)


@pytest.mark.committed  # the heartbeat reads what the page committed, from a session of its own
def test_any_failure_after_the_commit_answers_the_page_and_the_heartbeat_revokes_later(
    room, coordinator, app, monkeypatch
):
    """Not only Redis: whatever fails in the revocation (here the live-meetings read raising), the committed
    page answers as usual and the scope waits for the heartbeat, whose round goes on with its other steps."""
    from supportgroup.chat.heartbeat import beat
    from supportgroup.realtime.rooms import pending_revocations

    presence = stores().presence

    def broken():
        raise RuntimeError("a fault that is neither Redis nor the database")

    monkeypatch.setattr(presence, "live_meetings", broken)
    untrain(coordinator, room.expert)  # the helper asserts the page's 302
    assert pending_revocations() == {(room.expert.id, None)}
    monkeypatch.undo()
    beat({})
    assert pending_revocations() == set()
    assert_hears_nothing_more(room)
