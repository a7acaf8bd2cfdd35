"""A Redis that is alive but answers nothing (SIGSTOP: a frozen host, a full disk's stall) must not hang the chat:
every command gives up after REDIS_SOCKET_TIMEOUT and the socket event is answered `unavailable`."""

from __future__ import annotations

import os
import signal
import time

import pytest

from .chat_helpers import join, present_scene, send
from .faults import RedisProcess


@pytest.fixture
def private_redis(tmp_path):
    server = RedisProcess(tmp_path / "redis.log")
    yield server
    if server.process is not None and server.process.poll() is None:
        os.kill(server.process.pid, signal.SIGCONT)
    server.stop()


@pytest.fixture
def app_overrides(private_redis):
    return {"REDIS_URL": private_redis.url, "SOCKETIO_MESSAGE_QUEUE": None, "REDIS_SOCKET_TIMEOUT": 0.5}


def test_a_frozen_redis_is_answered_unavailable_not_waited_for(private_redis, factory, socket_client):
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    assert send(alice, scene.meeting, "before", "before-0001")["ok"]

    os.kill(private_redis.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    ack = send(alice, scene.meeting, "during", "during-0001")
    waited = time.monotonic() - started
    print(f"send answered {ack['error']['code'] if not ack['ok'] else 'ok'} after {waited:.2f} s of a frozen Redis")
    assert not ack["ok"] and ack["error"]["code"] == "unavailable"
    assert waited < 3

    os.kill(private_redis.process.pid, signal.SIGCONT)
    assert send(alice, scene.meeting, "after", "after-0001")["ok"]
