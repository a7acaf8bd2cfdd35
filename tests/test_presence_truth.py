"""Presence that tells the truth (issue #12): a moderator counts only while its client proves it is alive,
reserved event names from clients never reach a handler, and a disconnect removes what the store holds.

In-process tests set the proof clock (`presence.proofs.clock`) and call the heartbeat round (`beat`)
themselves; live tests run real `serve.py` processes (two over Redis on the scale-out backend) and measure.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from supportgroup.chat.heartbeat import beat
from supportgroup.extensions import db, socketio
from supportgroup.models import Membership
from supportgroup.realtime.stores import stores
from tests.chat_helpers import join, present_scene, received, send
from tests.conftest import DEFAULT_PASSWORD

READ_ONLY_WITHIN = 10.0  # seconds: the protocol's promise


def sid_of(sio) -> str:
    return socketio.server.manager.sid_from_eio_sid(sio.eio_sid, "/")


def expert_membership(scene) -> Membership:
    return db.session.scalar(
        select(Membership).where(Membership.group_id == scene.group.id, Membership.user_id == scene.expert.id)
    )


def later(presence, seconds: float) -> None:
    """Move the proof clock forward: every proof given so far is `seconds` older."""
    base = presence.proofs.clock
    presence.proofs.clock = lambda: base() + seconds


# --- in-process, both backends -------------------------------------------------------------------------


def test_heartbeat_asks_only_moderator_sockets_for_proof_of_life(factory, socket_client):
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    alice.get_received()
    beat({})
    assert received(scene.expert_socket, "alive") == [{}]
    assert received(alice, "alive") == []


def test_a_moderator_without_proof_turns_the_chat_read_only_and_an_answer_opens_it(app, factory, socket_client):
    scene = present_scene(factory, socket_client)
    meeting_id = scene.meeting.id
    presence = stores().presence
    alice = socket_client("alice")
    joined = join(alice, meeting_id)
    assert joined["state"]["moderator_present"] is True  # the join itself is proof
    seen = beat({})
    assert seen[meeting_id] is True
    alice.get_received()

    later(presence, app.config["PRESENCE_TTL"] + 1)  # the expert's device froze: no answer since
    seen = beat(seen)
    assert seen[meeting_id] is False
    assert [s["moderator_present"] for s in received(alice, "meeting_state")] == [False]
    assert not presence.moderator_present(meeting_id)
    assert expert_membership(scene).id not in presence.membership_ids(meeting_id)
    refused = send(alice, scene.meeting, "anyone?", "frozen-0001")
    assert refused["ok"] is False and refused["error"]["code"] == "no_moderator"
    assert beat(seen)[meeting_id] is False  # it stays gone while it does not answer

    # The device wakes up and answers `alive`: it counts again, and the chat is writable.
    expert_sid = sid_of(scene.expert_socket)
    assert presence.prove(expert_sid) == {meeting_id}
    assert presence.prove(expert_sid) == set()  # already counted: nothing to push again
    assert beat(seen)[meeting_id] is True
    assert [s["moderator_present"] for s in received(alice, "meeting_state")] == [True]
    assert send(alice, scene.meeting, "you are back", "frozen-0002")["ok"]


@pytest.mark.committed  # the answer is handled in background tasks that read the database
def test_an_answer_to_alive_pushes_state_at_once(app, factory, socket_client):
    from supportgroup.chat.alive import _answered

    scene = present_scene(factory, socket_client)
    meeting_id = scene.meeting.id
    presence = stores().presence
    alice = socket_client("alice")
    join(alice, meeting_id)
    later(presence, app.config["PRESENCE_TTL"] + 1)
    beat({meeting_id: True})
    alice.get_received()
    _answered(app, presence, sid_of(scene.expert_socket), {"ok": True})  # what the ack callback runs
    deadline = time.monotonic() + 5
    states: list = []
    while not states and time.monotonic() < deadline:  # pushed from a background task
        states = received(alice, "meeting_state")
        time.sleep(0.01)
    assert [s["moderator_present"] for s in states] == [True]


def test_participants_need_no_proof(app, factory, socket_client):
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    later(stores().presence, app.config["PRESENCE_TTL"] + 1)
    beat({})
    assert scene.memberships["alice"].id in stores().presence.membership_ids(scene.meeting.id)


@pytest.mark.parametrize(
    "name", ["connect", "disconnect", "connect_error", "disconnecting", "newListener", "removeListener", "ping", "pong"]
)
def test_reserved_event_names_are_refused_and_reach_no_handler(factory, socket_client, name):
    scene = present_scene(factory, socket_client)
    meeting_id = scene.meeting.id
    ack = scene.expert_socket.emit(name, {"meeting_id": meeting_id}, callback=True)
    assert ack["ok"] is False and ack["error"]["code"] == "invalid_event"
    scene.expert_socket.emit(name, {"meeting_id": meeting_id})  # without an ack id: nothing at all
    # The socket is still in the meeting, as before: its session was not touched.
    assert stores().presence.moderator_present(meeting_id)
    assert send(scene.expert_socket, scene.meeting, "still here", "reserved-0001")["ok"]
    assert scene.expert_socket.emit("leave", {"meeting_id": meeting_id}, callback=True)["ok"]
    assert not stores().presence.moderator_present(meeting_id)


def test_a_connect_event_leaves_no_ghost(factory, socket_client):
    scene = present_scene(factory, socket_client)
    meeting_id = scene.meeting.id
    scene.expert_socket.emit("connect", {})
    scene.expert_socket.disconnect()
    presence = stores().presence
    assert presence.membership_ids(meeting_id) == set() and not presence.moderator_present(meeting_id)
    assert presence.local_entries() == set()


def test_disconnect_removes_what_the_store_holds_whatever_the_session_says(factory, socket_client):
    scene = factory.scene()
    meeting_id = scene.meeting.id
    expert = socket_client("expert")
    sid = sid_of(expert)
    # An entry the socket's session knows nothing about (what a session that lost its list leaves).
    stores().presence.add(meeting_id, sid, expert_membership(scene).id, is_moderator=True)
    expert.disconnect()
    assert not stores().presence.moderator_present(meeting_id)
    assert stores().presence.membership_ids(meeting_id) == set()
    assert stores().presence.meetings_of(sid) == set()


def test_the_heartbeat_sweeps_entries_whose_socket_is_gone(factory, socket_client):
    scene = present_scene(factory, socket_client)
    meeting_id = scene.meeting.id
    alice = socket_client("alice")
    join(alice, meeting_id)
    presence = stores().presence
    presence.add(meeting_id, "no-such-socket", scene.memberships["bob"].id)
    beat({})  # first seen: a disconnect handler may still be at work
    assert scene.memberships["bob"].id in presence.membership_ids(meeting_id)
    alice.get_received()
    beat({meeting_id: True})  # still there a round later: a ghost
    assert presence.membership_ids(meeting_id) == {expert_membership(scene).id, scene.memberships["alice"].id}
    assert presence.local_entries() == {(meeting_id, sid_of(scene.expert_socket)), (meeting_id, sid_of(alice))}
    assert received(alice, "presence")  # the others learn it


# --- live servers: real processes, real clients, real time ---------------------------------------------


def connect(server, username: str, sockets):
    http = server.login(username, DEFAULT_PASSWORD)
    sock = sockets(server.socket(http))
    return sock


class Freezable:
    """The moderator's client answers `alive` like js/chat/, until `freeze()`: then it answers nothing (a
    frozen device, a lost network) until `wake()`, which lets the held answer go out."""

    def __init__(self, sock):
        self.running = threading.Event()
        self.running.set()
        self.answered = 0

        def alive(_data=None):
            self.running.wait()
            self.answered += 1
            return {"ok": True}

        sock.client.on("alive", alive)

    def freeze(self) -> None:
        self.running.clear()

    def wake(self) -> None:
        self.running.set()


def two_servers(live_servers, backend_name: str):
    first = live_servers()
    return first, (live_servers() if backend_name == "scale-out" else first)


@pytest.mark.live
def test_live_a_frozen_moderator_turns_the_chat_read_only_within_10_s(factory, live_servers, sockets, schema):
    scene = factory.scene()
    meeting_id = scene.meeting.id
    first, second = two_servers(live_servers, schema.name)
    expert = connect(first, "expert", sockets)
    device = Freezable(expert)
    alice = connect(second, "alice", sockets)
    assert expert.call("join", {"meeting_id": meeting_id})["ok"]
    assert alice.call("join", {"meeting_id": meeting_id})["state"]["moderator_present"] is True
    deadline = time.monotonic() + 5
    while device.answered < 2 and time.monotonic() < deadline:  # it is asked, and answers
        time.sleep(0.05)
    assert device.answered >= 2
    time.sleep(3)  # answered for a while: an answering moderator stays present past PRESENCE_TTL
    assert alice.call("send", {"meeting_id": meeting_id, "client_id": "live-0001", "text": "hello"})["ok"]

    mark = alice.mark()
    device.freeze()
    frozen_at = time.monotonic()
    alice.wait_for("meeting_state", lambda s: s["moderator_present"] is False, timeout=READ_ONLY_WITHIN + 5, since=mark)
    read_only_after = time.monotonic() - frozen_at
    refused = alice.call("send", {"meeting_id": meeting_id, "client_id": "live-0002", "text": "anyone?"})
    refused_after = time.monotonic() - frozen_at
    print(
        f"\nTIMING ({schema.name}) frozen moderator: meeting_state read-only after {read_only_after:.2f}s, "
        f"send refused at {refused_after:.2f}s"
    )
    assert read_only_after < READ_ONLY_WITHIN
    assert refused["ok"] is False and refused["error"]["code"] == "no_moderator"
    assert expert.client.connected  # the socket itself stayed open all along

    mark = alice.mark()
    device.wake()
    woke_at = time.monotonic()
    alice.wait_for("meeting_state", lambda s: s["moderator_present"] is True, timeout=5, since=mark)
    print(f"TIMING ({schema.name}) writable again {time.monotonic() - woke_at:.2f}s after the device woke")
    assert alice.call("send", {"meeting_id": meeting_id, "client_id": "live-0003", "text": "welcome back"})["ok"]


@pytest.mark.live
def test_live_a_connect_event_leaves_no_ghost(factory, live_servers, sockets, schema):
    scene = factory.scene()
    meeting_id = scene.meeting.id
    first, second = two_servers(live_servers, schema.name)
    expert = connect(first, "expert", sockets)
    alice = connect(second, "alice", sockets)
    assert expert.call("join", {"meeting_id": meeting_id})["ok"]
    assert alice.call("join", {"meeting_id": meeting_id})["ok"]
    for name in ("connect", "disconnect"):
        ack = expert.call(name, {"meeting_id": meeting_id})
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_event", ack
    assert expert.call("send", {"meeting_id": meeting_id, "client_id": "ghost-0001", "text": "still here"})["ok"]

    mark = alice.mark()
    expert.close()
    closed_at = time.monotonic()
    alice.wait_for("meeting_state", lambda s: s["moderator_present"] is False, timeout=READ_ONLY_WITHIN, since=mark)
    alias = scene.memberships["alice"].alias
    alice.wait_for("presence", lambda p: [x["name"] for x in p["present"]] == [alias], timeout=5, since=mark)
    read_only_after = time.monotonic() - closed_at
    print(f"\nTIMING ({schema.name}) read-only {read_only_after:.2f}s after the moderator (who sent `connect`) left")
    assert read_only_after < READ_ONLY_WITHIN
    refused = alice.call("send", {"meeting_id": meeting_id, "client_id": "ghost-0002", "text": "anyone?"})
    assert refused["ok"] is False and refused["error"]["code"] == "no_moderator"
    time.sleep(5)  # several heartbeat rounds later, nobody has brought the ghost back
    refused = alice.call("send", {"meeting_id": meeting_id, "client_id": "ghost-0003", "text": "anyone?"})
    assert refused["ok"] is False and refused["error"]["code"] == "no_moderator"


@pytest.mark.committed  # a background task (its disconnect handler) writes attendance
def test_a_returning_moderator_is_checked_against_the_database_before_it_counts(app, factory, socket_client):
    """Its proof ran out, and meanwhile its right ended (here: untrained without `revoke_rooms`, as when
    Redis failed after the commit). Its next answer to `alive` must not make it count: it is disconnected."""
    from supportgroup.chat.alive import _answered

    scene = present_scene(factory, socket_client)
    presence = stores().presence
    later(presence, app.config["PRESENCE_TTL"] + 1)
    beat({})
    scene.expert.profile.trained = False
    db.session.commit()
    threads = threading.active_count()
    _answered(app, presence, sid_of(scene.expert_socket), {"ok": True})
    deadline = time.monotonic() + 5
    while scene.expert_socket.is_connected() and time.monotonic() < deadline:  # from a background task
        time.sleep(0.01)
    assert not scene.expert_socket.is_connected()
    assert not presence.moderator_present(scene.meeting.id)
    # The background task (its disconnect handler writes attendance) ends before the tables are emptied.
    while threading.active_count() > threads and time.monotonic() < deadline:
        time.sleep(0.01)
