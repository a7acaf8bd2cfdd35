"""The app served by the real gevent server, with real Socket.IO clients over WebSocket.

On the scale-out backend the servers use PostgreSQL and Redis as the Socket.IO message queue, and a
second server process proves that a message sent through one reaches clients of the other.
"""

import pytest
import socketio

from tests.conftest import DEFAULT_PASSWORD

pytestmark = pytest.mark.live


def test_chat_over_the_real_server(factory, live_servers, sockets):
    scene = factory.scene()
    server = live_servers()
    alice = sockets(server.socket(server.login("alice", DEFAULT_PASSWORD)))
    expert = sockets(server.socket(server.login("expert", DEFAULT_PASSWORD)))
    assert expert.call("join", {"meeting_id": scene.meeting.id})["ok"]
    joined = alice.call("join", {"meeting_id": scene.meeting.id})
    assert joined["ok"] and {p["role"] for p in joined["present"]} == {"peer_expert", "participant"}

    ack = alice.call("send", {"meeting_id": scene.meeting.id, "client_id": "live-0001", "text": "Hello <b>all</b>"})
    assert ack["ok"] and ack["id"] == 1
    message = expert.wait_for("message", lambda m: m["id"] == 1)
    assert message["text"] == "Hello <b>all</b>"  # stored and sent as plain text; escaped on output
    assert message["author"]["name"] == scene.memberships["alice"].alias


def test_foreign_origin_is_refused(factory, live_servers):
    factory.user("alice")
    server = live_servers()
    http = server.login("alice", DEFAULT_PASSWORD)
    with pytest.raises(socketio.exceptions.ConnectionError):
        server.socket(http, origin="https://evil.example")
    logged = [line for line in server.log().splitlines() if not line.startswith("supportgroup serving on")]
    assert logged and not any("127.0.0.1" in line for line in logged)  # no client address in the log


def test_connection_without_login_is_refused(app, live_servers):
    server = live_servers()
    with pytest.raises(socketio.exceptions.ConnectionError):
        server.socket(None)


@pytest.mark.scaleout_only
def test_two_processes_share_one_meeting(factory, live_servers, sockets):
    scene = factory.scene()
    first, second = live_servers(), live_servers()
    expert = sockets(first.socket(first.login("expert", DEFAULT_PASSWORD)))
    assert expert.call("join", {"meeting_id": scene.meeting.id})["ok"]  # participants write while a peer expert is in
    alice = sockets(first.socket(first.login("alice", DEFAULT_PASSWORD)))
    bob = sockets(second.socket(second.login("bob", DEFAULT_PASSWORD)))
    assert alice.call("join", {"meeting_id": scene.meeting.id})["ok"]
    assert bob.call("join", {"meeting_id": scene.meeting.id})["ok"]
    # Presence is shared through Redis: the process serving alice sees bob, who is on the other one.
    alias_bob = scene.memberships["bob"].alias
    alice.wait_for("presence", lambda p: alias_bob in {x["name"] for x in p["present"]})

    ack = bob.call("send", {"meeting_id": scene.meeting.id, "client_id": "cross-0001", "text": "across processes"})
    assert ack["ok"]
    assert alice.wait_for("message", lambda m: m["id"] == ack["id"])["text"] == "across processes"
