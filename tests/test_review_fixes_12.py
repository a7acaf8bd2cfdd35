"""Review fixes for issue #12 (in-process, both backends): the heartbeat's Redis part never waits for the
database; only deliberate events and being joined to an open meeting keep a session from going idle; unknown and
reserved event names count against the event budget and log once; a packet is JSON-decoded once; the SQLite
checkpoint after a delete runs off the request's path, one at a time."""

from __future__ import annotations

import logging
import threading
import time

import pytest
import socketio as socketio_lib

from supportgroup.chat import heartbeat
from supportgroup.chat.heartbeat import DatabaseWork, DatabaseWorker, beat
from supportgroup.extensions import db
from supportgroup.realtime import activity as idle
from supportgroup.realtime import packets
from supportgroup.realtime.stores import stores
from supportgroup.safety import scrub
from tests.chat_helpers import join, open_room, present_scene, received, send
from tests.conftest import socket_test_client


@pytest.fixture
def app_overrides(request) -> dict:
    return getattr(request, "param", {})


# --- 1. the heartbeat: Redis first, the database apart ------------------------------------------------------


def test_a_round_whose_database_part_fails_still_refreshes_presence_and_asks_alive(
    app, factory, socket_client, monkeypatch
):
    scene = present_scene(factory, socket_client)
    meeting_id = scene.meeting.id
    seen_at_database_part = []

    def database_down(*_args):
        # What the Redis part had done by the time the database part began.
        seen_at_database_part.append(received(scene.expert_socket, "alive"))
        raise RuntimeError("the database is away")

    monkeypatch.setattr(heartbeat, "emit_sync", database_down)
    monkeypatch.setattr(heartbeat, "sweep_ghosts", database_down)
    assert beat({}) == {meeting_id: True}
    assert seen_at_database_part[0] == [{}]  # `alive` went out before any database work began
    assert stores().presence.moderator_present(meeting_id)


def test_the_database_worker_never_blocks_a_round_and_merges_work_while_busy(app, monkeypatch):
    release, calls, second_call = threading.Event(), [], threading.Event()

    def stalled_database(work: DatabaseWork) -> DatabaseWork:
        calls.append(work)
        if len(calls) == 1:
            release.wait(10)  # a stalled pool
        else:
            second_call.set()
        return DatabaseWork()

    monkeypatch.setattr(heartbeat, "database_round", stalled_database)
    worker = DatabaseWorker(app)
    started = time.monotonic()
    assert worker.submit(DatabaseWork({1}, set())) is True
    assert worker.submit(DatabaseWork({2}, {3})) is False  # the first still runs: handed over, not waited for
    assert worker.submit(DatabaseWork(set(), {4})) is False
    assert time.monotonic() - started < 0.5
    release.set()
    assert second_call.wait(10)
    assert calls[1] == DatabaseWork({2}, {3, 4})  # one batch for the rounds that came meanwhile


# --- 2. idle timeout: deliberate events and joined open meetings count, automatic events don't -------------


@pytest.mark.parametrize("app_overrides", [{"IDLE_TIMEOUT_MINUTES": 60}], indirect=True)
def test_automatic_events_do_not_keep_an_unattended_page_alive(app, factory, login_client, monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(idle, "clock", lambda: clock[0])
    scene = factory.scene()
    http = login_client("alice")
    sio = socket_test_client(app, http)
    join(sio, scene.meeting)
    for _minute in range(0, 71, 5):  # the page alone: catch_up after sync, join retries
        clock[0] += 5 * 60
        sio.emit("catch_up", {"meeting_id": scene.meeting.id, "after": 0}, callback=True)
        join(sio, scene.meeting, expect_ok=False)
    sio.disconnect()
    assert socket_test_client(app, http).is_connected() is False  # idle: nobody did anything


@pytest.mark.parametrize("app_overrides", [{"IDLE_TIMEOUT_MINUTES": 60}], indirect=True)
def test_a_listener_joined_to_an_open_meeting_stays_logged_in(app, factory, socket_client, login_client, monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(idle, "clock", lambda: clock[0])
    scene = present_scene(factory, socket_client)
    http = login_client("alice")
    sio = socket_test_client(app, http)
    join(sio, scene.meeting)
    for _minute in range(0, 71, 5):  # only reads; the heartbeat runs
        clock[0] += 5 * 60
        beat({})
    sio.disconnect()  # a network blip
    again = socket_test_client(app, http)
    assert again.is_connected()  # let in: being in an open meeting was activity
    again.disconnect()
    clock[0] += 61 * 60
    assert socket_test_client(app, http).is_connected() is False  # gone from the meeting, then idle


def test_the_heartbeat_stamps_a_session_at_most_once_a_minute(app, factory, socket_client, monkeypatch):
    clock = [time.time()]
    monkeypatch.setattr(idle, "clock", lambda: clock[0])
    room = open_room(factory, socket_client)
    writes = []
    stamps = idle.activity_stamps()
    real = stamps.touch_many
    monkeypatch.setattr(stamps, "touch_many", lambda ids, at: (writes.append(ids), real(ids, at)))
    beat({})
    beat({})
    clock[0] += 61
    beat({})
    assert [len(w) for w in writes] == [3, 3]  # three sessions in one write per round, not every round
    assert room.meeting.id


# --- 3. unknown and reserved names count against the budget, and log once ------------------------------------


@pytest.mark.parametrize("app_overrides", [{"SOCKET_EVENT_RATE_LIMIT": "4 per 10 seconds"}], indirect=True)
def test_unknown_event_names_count_against_the_event_budget(app, factory, socket_client):
    factory.user("alice")
    sio = socket_client("alice")
    codes = [sio.emit("no_such_event", {}, callback=True)["error"]["code"] for _ in range(6)]
    assert codes[:4] == ["unknown_event"] * 4 and codes[4:] == ["rate_limited"] * 2


@pytest.mark.parametrize("app_overrides", [{"SOCKET_EVENT_RATE_LIMIT": "4 per 10 seconds"}], indirect=True)
def test_reserved_event_names_count_against_the_budget_and_log_once(app, factory, socket_client, caplog):
    scene = factory.scene()
    sio = socket_client("alice")
    caplog.set_level(logging.WARNING, "supportgroup.realtime")
    for _ in range(4):
        assert sio.emit("pong", {}, callback=True)["error"]["code"] == "invalid_event"
    ack = sio.emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert ack["error"]["code"] == "rate_limited"  # the budget went on reserved names
    assert sum("reserved name" in r.getMessage() for r in caplog.records) == 1


# --- 4. a packet is decoded once -------------------------------------------------------------------------------


def test_a_packet_is_json_decoded_once():
    decodes = []

    class CountingPacket(socketio_lib.packet.Packet):
        def decode(self, encoded_packet):
            decodes.append(encoded_packet)
            return super().decode(encoded_packet)

    server = socketio_lib.Server(async_mode="threading")
    server.packet_class = CountingPacket
    handled = []
    server._handle_event = lambda eio_sid, namespace, id, data: handled.append(data)  # noqa: A006
    packets.install(server)
    server._handle_eio_message("eio-1", '21["send",{"text":"hello"}]')
    server._handle_eio_message("eio-1", '22["*",{}]')
    assert handled == [["send", {"text": "hello"}], ["(*)", {}]]
    assert len(decodes) == 2  # one per packet (python-socketio alone decodes each once)


# --- 6. the SQLite checkpoint after a delete: off the request's path, coalesced --------------------------------


@pytest.mark.committed  # the checkpoint, on a connection of its own
def test_the_checkpoint_after_a_delete_runs_off_the_request_and_one_at_a_time(app, factory, socket_client, monkeypatch):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("checkpoints are SQLite's")
    room = open_room(factory, socket_client)
    release, runs = threading.Event(), []
    real = scrub.checkpoint

    def slow_checkpoint(engine, *args):
        runs.append(threading.get_ident())
        release.wait(10)  # a reader holds an old snapshot
        return real(engine, *args)

    monkeypatch.setattr(scrub, "checkpoint", slow_checkpoint)
    started = time.monotonic()
    for number in range(3):
        sent = send(room.alice_socket, room.meeting, f"secret {number}", f"gone-{number:04d}")
        deleted = room.alice_socket.emit(
            "delete_message", {"meeting_id": room.meeting.id, "id": sent["id"]}, callback=True
        )
        assert deleted["ok"]
    assert time.monotonic() - started < 5  # the acks did not wait for the checkpoint
    release.set()
    assert scrub.wait_for_checkpoints(db.engine)
    assert threading.get_ident() not in runs
    assert 1 <= len(runs) <= 2  # three commits: one running, at most one more after it


# --- 8. in-process tests do not expire a moderator's proof ---------------------------------------------------


def test_in_process_presence_outlives_a_slow_test(app, factory, socket_client):
    scene = present_scene(factory, socket_client)
    presence = stores().presence
    base = presence.proofs.clock
    presence.proofs.clock = lambda: base() + 60  # a minute without a heartbeat on a busy machine
    assert app.config["PRESENCE_TTL"] >= 60
    assert presence.moderator_present(scene.meeting.id)


def test_the_database_parts_time_limit_is_not_swallowed_by_a_steps_except_exception():
    """Under gevent the heartbeat's database part is stopped after its time limit even when each step catches
    `Exception` (as `database_round` does): the limit must be a BaseException, as gevent.Timeout is."""
    import subprocess
    import sys
    from pathlib import Path

    script = """
from gevent import monkey; monkey.patch_all()
import time, gevent
from supportgroup.chat.heartbeat import _TimeLimit, _time_limit
started, caught, steps = time.monotonic(), False, 0
try:
    with _time_limit(0.2):
        for _ in range(3):
            try:
                gevent.sleep(0.5)
            except Exception:
                pass
            steps += 1
except _TimeLimit:
    caught = True
print(caught, steps, round(time.monotonic() - started, 2))
"""
    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=60)
    caught, steps, seconds = out.stdout.split()
    assert caught == "True" and steps == "0" and float(seconds) < 1.0, out.stdout + out.stderr
