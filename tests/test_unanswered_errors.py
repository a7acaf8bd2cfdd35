"""Issue #12: errors that were not answered, long meetings, superseded joins.

- During a database outage every socket event is answered (`unavailable`) within the client's timeout: an
  error ack never needs the database (the socket's language is chosen at connect); a connect is refused
  with `unavailable`, never left without an answer (a private PostgreSQL and Redis that the test stops).
- An unknown event name is answered `unknown_event`; a malformed frame closes only its own connection, with
  one log line and no traceback.
- A join whose rights keep changing answers `rights_changed` (retry), not `internal_error`; a join replaced
  by a newer join of the same socket for the same meeting answers `superseded` and does nothing.
- Socket events count as activity for the idle timeout: a session that chatted is let in at reconnect.
"""

from __future__ import annotations

import threading
import time

import pytest
import socketio
import websocket
from flask_migrate import upgrade

from supportgroup.extensions import db as _db
from supportgroup.realtime import activity as idle
from tests.chat_helpers import join
from tests.conftest import DEFAULT_PASSWORD, Backend, make_app, socket_test_client
from tests.factories import Factory
from tests.faults import RedisProcess
from tests.live import LiveServer
from tests.private_postgres import PrivatePostgres

ACK_TIMEOUT = 5.0  # js/chat/config.js's ACK_TIMEOUT_MS


# --- the database and Redis away (real server, private PostgreSQL and Redis) --------------------------------


@pytest.fixture
def private_stores(tmp_path):
    postgres, redis_server = PrivatePostgres(), RedisProcess(tmp_path / "redis.log")
    yield postgres, redis_server
    redis_server.stop()
    postgres.remove()


def cookie_of(http) -> str:
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def connect_answer(server: LiveServer, http) -> tuple[str | None, float]:
    """What a connect is answered (`connect_error`'s message, or "connected"), and how long it took."""
    client, answers = socketio.Client(reconnection=False), []
    client.on("connect_error", lambda data=None: answers.append(data))
    started = time.monotonic()
    try:
        client.connect(server.url, headers={"Cookie": cookie_of(http)}, transports=["websocket"], wait_timeout=5)
        answers.append({"message": "connected"})
    except socketio.exceptions.ConnectionError:
        pass
    finally:
        client.disconnect()
    took = time.monotonic() - started
    return (answers[0] or {}).get("message") if answers else None, took


def fire(sock, events: list[tuple[str, dict]]) -> list[tuple[float, dict | None]]:
    """Emit every event at once with an ack callback; wait the client's timeout; (answered after, ack) each."""
    done = [threading.Event() for _ in events]
    answers: list = [(None, None)] * len(events)
    started = time.monotonic()
    for i, (name, payload) in enumerate(events):

        def answered(ack=None, i=i):
            answers[i] = (time.monotonic() - started, ack)
            done[i].set()

        sock.client.emit(name, payload, callback=answered)
    for event in done:
        event.wait(max(0.0, started + ACK_TIMEOUT - time.monotonic()))
    return answers


def test_an_outage_answers_every_event_and_every_connect(private_stores, tmp_path, redis_prefix):
    postgres, redis_server = private_stores
    app = make_app(Backend("scale-out", postgres.url, redis_server.url), redis_prefix)
    with app.app_context():
        upgrade()
        scene = Factory(DEFAULT_PASSWORD).scene()
        meeting_id = scene.meeting.id
        _db.session.remove()
        _db.engine.dispose()
    server = LiveServer(
        postgres.url,
        redis_server.url,
        redis_prefix,
        tmp_path / "server.log",
        extra_env={"SOCKET_EVENT_RATE_LIMIT": "1000 per 10 seconds"},
    )
    opened = []
    try:
        expert_http, alice_http = server.login("expert", DEFAULT_PASSWORD), server.login("alice", DEFAULT_PASSWORD)
        expert, alice = server.socket(expert_http), server.socket(alice_http)
        opened += [expert, alice]
        assert expert.call("join", {"meeting_id": meeting_id})["ok"]
        assert alice.call("join", {"meeting_id": meeting_id})["ok"]
        assert alice.call("send", {"meeting_id": meeting_id, "client_id": "before-0001", "text": "hi"})["ok"]

        postgres.stop()
        events = [
            ("send", {"meeting_id": meeting_id, "client_id": f"outage-{i:04d}", "text": f"line {i}"}) for i in range(60)
        ]
        events += [("raise_hand", {"meeting_id": meeting_id})] * 10  # events that load the account
        answers = fire(alice, events)
        answered = [(after, ack) for after, ack in answers if ack is not None]
        codes = {ack["error"]["code"] for _after, ack in answered if not ack["ok"]}
        print(
            f"\ndatabase down: {len(events)} sent, {len(answered)} answered within {ACK_TIMEOUT}s, "
            f"slowest {max((a for a, _ in answered), default=0):.3f}s, codes {sorted(codes)}"
        )
        assert len(answered) == len(events)
        assert codes == {"unavailable"} and not any(ack["ok"] for _a, ack in answered)
        refusal, took = connect_answer(server, alice_http)
        print(f"database down: connect answered {refusal!r} after {took:.3f}s")
        assert refusal == "unavailable"

        postgres.start()
        deadline, ack = time.monotonic() + 10, None
        while time.monotonic() < deadline:
            ack = alice.call("send", {"meeting_id": meeting_id, "client_id": "after-0001", "text": "back"})
            if ack["ok"]:
                break
            time.sleep(0.2)
        assert ack["ok"], ack
        assert connect_answer(server, alice_http)[0] == "connected"

        redis_server.kill()
        answers = fire(
            alice, [("send", {"meeting_id": meeting_id, "client_id": f"redis-{i:04d}", "text": "x"}) for i in range(20)]
        )
        answered = [ack for _after, ack in answers if ack is not None]
        print(f"redis down: 20 sent, {len(answered)} answered")
        assert len(answered) == 20 and {a["error"]["code"] for a in answered} == {"unavailable"}
        refusal, took = connect_answer(server, alice_http)
        print(f"redis down: connect answered {refusal!r} after {took:.3f}s")
        assert refusal == "unavailable"
        # Events and connects that failed for the outage: one line each, no traceback.
        log = server.log()
        assert "socket event send failed: database unreachable" in log
        assert "ERROR in events: socket event" not in log and "ERROR in events: socket connect" not in log
    finally:
        for sock in opened:
            sock.close()
        server.stop()


# --- unknown events and malformed frames (real server, raw WebSocket) ---------------------------------------


def raw_socket(server: LiveServer, http) -> websocket.WebSocket:
    ws = websocket.create_connection(
        f"ws://127.0.0.1:{server.port}/socket.io/?EIO=4&transport=websocket",
        header=[f"Cookie: {cookie_of(http)}"],
        origin=server.url,
        timeout=5,
    )
    assert ws.recv().startswith("0")  # Engine.IO open
    ws.send("40")
    assert ws.recv().startswith("40")  # Socket.IO connect accepted
    return ws


def answer_to(ws: websocket.WebSocket, ack_id: int, within: float = 3.0) -> str | None:
    ws.settimeout(within)
    try:
        while True:
            frame = ws.recv()
            if isinstance(frame, str) and frame.startswith(f"43{ack_id}"):
                return frame
    except (websocket.WebSocketTimeoutException, websocket.WebSocketConnectionClosedException):
        return None


def closed_within(ws: websocket.WebSocket, within: float = 3.0) -> bool:
    ws.settimeout(within)
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE or data in (b"1", b""):  # WebSocket or Engine.IO close
                return True
    except websocket.WebSocketConnectionClosedException:
        return True
    except websocket.WebSocketTimeoutException:
        return False


MALFORMED = [
    "45",
    "46",
    '451-["send",{"_placeholder":true,"num":0}]',
    "42[",
    '42{"a":1}',
    "42[5]",
    "42[]",
    "42",
    "4",
    "43[]",
    "44",
    "47",
    '40"x"',
]


def test_unknown_events_are_answered_and_malformed_frames_close_only_their_socket(factory, live_servers, sockets):
    factory.user("alice")
    server = live_servers()
    http = server.login("alice", DEFAULT_PASSWORD)
    bystander = sockets(server.socket(http))

    ws = raw_socket(server, http)
    ws.send('427["no_such_event",{"x":1}]')
    answer = answer_to(ws, 7)
    assert answer is not None and '"code":"unknown_event"' in answer, answer
    ws.close()
    assert bystander.call("no_such_event", {})["error"]["code"] == "unknown_event"
    assert bystander.client.call("another one", timeout=5)["error"]["code"] == "unknown_event"  # no payload
    assert bystander.call("*", {})["error"]["code"] == "unknown_event"  # the wildcard's own name too

    for frame in MALFORMED:
        ws = raw_socket(server, http)
        ws.send(frame)
        ws.send('429["no_such_event",{}]')  # never answered: the connection is closed
        assert closed_within(ws), f"{frame!r} left its connection open"
        ws.close()
        # The other socket of the same account, and the server, go on as before.
        assert bystander.call("no_such_event", {})["error"]["code"] == "unknown_event"
    log = server.log()
    assert "Traceback" not in log
    assert log.count("malformed packet") == len(MALFORMED)


# --- joins (in-process, both backends) ----------------------------------------------------------------------


def test_a_join_whose_rights_keep_changing_answers_rights_changed(app, factory, socket_client):
    scene = factory.scene()
    sio = socket_client("expert")
    stores = app.extensions["chat_stores"]
    add = stores.presence.add
    attempts = []

    def add_then_change(meeting_id, *args, **kwargs):
        add(meeting_id, *args, **kwargs)
        attempts.append(meeting_id)
        stores.epochs.bump({f"meeting:{meeting_id}"})  # a rule of the meeting changed meanwhile

    stores.presence.add = add_then_change
    ack = sio.emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert not ack["ok"] and ack["error"]["code"] == "rights_changed", ack
    assert len(attempts) == app.config["JOIN_ATTEMPTS"]
    assert stores.presence.membership_ids(scene.meeting.id) == set()  # every attempt undone
    del stores.presence.add
    join(sio, scene.meeting)


def test_a_join_replaced_by_a_newer_one_answers_superseded_and_does_nothing(app, factory, socket_client):
    scene = factory.scene()
    sio = socket_client("expert")
    gate = app.extensions["chat_stores"].gate
    hit, newer = gate.hit, []
    presence_writes = []
    add = app.extensions["chat_stores"].presence.add

    def counting_add(*args, **kwargs):
        presence_writes.append(args)
        return add(*args, **kwargs)

    def hit_while_a_newer_join_arrives(user_id):
        del gate.hit  # only the first join waits here
        newer.append(sio.emit("join", {"meeting_id": scene.meeting.id}, callback=True))
        return hit(user_id)

    gate.hit = hit_while_a_newer_join_arrives
    app.extensions["chat_stores"].presence.add = counting_add
    first = sio.emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    del app.extensions["chat_stores"].presence.add
    assert newer[0]["ok"]
    assert not first["ok"] and first["error"]["code"] == "superseded", first
    assert len(presence_writes) == 1  # only the newer join did any work
    # A join of another meeting, or a later one, is not affected.
    join(sio, scene.meeting)


# --- the idle timeout counts socket activity (in-process, both backends, a clock the test sets) -------------


@pytest.mark.parametrize("app_overrides", [{"IDLE_TIMEOUT_MINUTES": 60}], indirect=True)
def test_socket_activity_keeps_its_session_alive_at_reconnect(app, factory, login_client, monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(idle, "clock", lambda: clock[0])
    scene = factory.scene()
    chatting, elsewhere = login_client("expert"), login_client("expert")  # two sessions of one account
    sio = socket_test_client(app, chatting)
    join(sio, scene.meeting)
    for _minute in range(0, 56, 5):  # moderates for 55 minutes without a page load (a join alone does not count)
        clock[0] += 5 * 60
        assert sio.emit("set_slow_mode", {"meeting_id": scene.meeting.id, "seconds": 0}, callback=True)["ok"]
    sio.disconnect()
    clock[0] += 20 * 60  # a network blip: 75 minutes after the last page load, 20 after the last event
    again = socket_test_client(app, chatting)
    assert again.is_connected()
    again.disconnect()
    assert socket_test_client(app, elsewhere).is_connected() is False  # the other session was idle
    assert chatting.get("/home").status_code == 200
    clock[0] += 61 * 60  # now idle for real
    assert socket_test_client(app, chatting).is_connected() is False


def test_error_acks_are_in_the_language_chosen_at_connect(app, factory, socket_client, login_client):
    factory.user("alice")
    http = login_client("alice")
    http.get("/home?lang=nl")
    sio = socket_test_client(app, http)
    ack = sio.emit("no_such_event", {}, callback=True)
    assert ack["error"]["code"] == "unknown_event"
    assert ack["error"]["message"] == "De server kent dit verzoek niet."
    sio.disconnect()
