"""Shutdowns and frozen connections (issue #12), with real `serve.py` processes.

1. A client that stops reading while the server has a lot to send it (a frozen device: its kernel still ACKs,
   with a zero window) has its connection closed by the server within `TCP_USER_TIMEOUT` plus a little: the
   descriptor is gone from /proc/<pid>/fd (before, the writer blocked for ever and the descriptor stayed).
2. SIGTERM drains a process: it stops accepting, tells its clients `server_shutdown`, removes its presence
   and pushes it at once (the other process's members see who left well before `PRESENCE_TTL`), closes its
   sockets and exits within a bound. Its clients reconnect to the other process, join with `after` and,
   together with the live messages, have every message acknowledged to anyone: nothing is lost.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import struct
import threading
import time

import pytest

from supportgroup.extensions import db as _db
from supportgroup.models import Message
from tests.conftest import DEFAULT_PASSWORD
from tests.faults import holds_socket, server_socket_inode
from tests.live import Gunicorn, app_env

USER_TIMEOUT = 3.0  # TCP_USER_TIMEOUT_SECONDS of the servers in this module
CLOSED_WITHIN = USER_TIMEOUT + 9.0  # the buffers fill within a few seconds, then the timeout runs
EXIT_WITHIN = 6.0  # SIGTERM to the process's exit
PRESENCE_WITHIN = 1.5  # SIGTERM to the other process's members seeing who left (PRESENCE_TTL is 6 s)


@pytest.fixture
def live_server_env() -> dict:
    return {"SOCKET_EVENT_RATE_LIMIT": "1000 per 10 seconds", "TCP_USER_TIMEOUT_SECONDS": str(USER_TIMEOUT)}


# --- 1. a client that stops reading -----------------------------------------------------------------------


def _frame(text: str) -> bytes:
    """A masked WebSocket text frame (client to server)."""
    payload = text.encode()
    mask = os.urandom(4)
    length = len(payload)
    header = bytes([0x81]) + (
        bytes([0x80 | length]) if length < 126 else bytes([0x80 | 126]) + struct.pack("!H", length)
    )
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _read_frame(sock: socket.socket) -> str:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            assert chunk, "connection closed"
            data += chunk
        return data

    first, second = exactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", exactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", exactly(8))[0]
    return exactly(length).decode()


class FrozenClient:
    """A Socket.IO client over a raw socket with a tiny receive buffer, that joins and then never reads."""

    def __init__(self, port: int, cookie: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
        self.sock.connect(("127.0.0.1", port))
        self.local_port = self.sock.getsockname()[1]
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\nCookie: {cookie}\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        assert _read_frame(self.sock).startswith("0")  # Engine.IO open
        self.sock.sendall(_frame("40"))
        assert _read_frame(self.sock).startswith("40")  # Socket.IO connected

    def send_event(self, ack_id: int, name: str, data: dict) -> None:
        self.sock.sendall(_frame(f"42{ack_id}" + json.dumps([name, data])))


@pytest.mark.live
def test_a_client_that_stops_reading_has_its_connection_closed(factory, live_servers, app):
    scene = factory.scene()
    membership_id = scene.memberships["alice"].id
    for number in range(1, 1001):  # a replay of about 2 MB per join
        _db.session.add(
            Message(
                meeting_id=scene.meeting.id,
                seq=number,
                author_membership_id=membership_id,
                client_id=f"seed-{number}",
                text=f"{number:04d} " + "x" * 1995,
            )
        )
    scene.meeting.last_message_seq = 1000
    _db.session.commit()
    server = live_servers()
    http = server.login("alice", DEFAULT_PASSWORD)
    frozen = FrozenClient(server.port, "; ".join(f"{k}={v}" for k, v in http.cookies.items()))
    inode = server_socket_inode(server.port, frozen.local_port)
    assert holds_socket(server.process.pid, inode)
    for ack_id in range(8):  # one after the other (a newer join would supersede one not yet begun)
        frozen.send_event(ack_id, "join", {"meeting_id": scene.meeting.id, "after": 0})
        time.sleep(0.3)
    flooded = time.monotonic()
    try:
        while holds_socket(server.process.pid, inode) and time.monotonic() - flooded < CLOSED_WITHIN + 5:
            time.sleep(0.1)
        held_for = time.monotonic() - flooded
        print(f"\nfrozen client: the server closed its descriptor {held_for:.1f}s after the flood")
        assert not holds_socket(server.process.pid, inode), f"descriptor still open {held_for:.1f}s after the flood"
        assert held_for < CLOSED_WITHIN
        assert server.process.poll() is None
    finally:
        frozen.sock.close()


FROZEN_CLOSED_WITHIN = 25 + 20 + 5 + 10  # Engine.IO's ping interval and timeout, our close grace, slack


@pytest.mark.live
@pytest.mark.scaleout_only  # once, not per backend: it waits out Engine.IO's ping timeout (about 50 s)
def test_a_stopped_client_process_has_its_connection_closed(factory, live_servers):
    """SIGSTOP of a client process: its kernel still ACKs (no zero window, so no TCP_USER_TIMEOUT). Engine.IO's
    ping timeout ends the session; the connection must then close too, not wait for the client's close frame
    for as long as it stays stopped (`tcp_bounds.bound_websocket_close`)."""
    import subprocess
    import sys

    from bench.faults import FROZEN_CLIENT

    scene = factory.scene()
    server = live_servers()
    http = server.login("alice", DEFAULT_PASSWORD)
    cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items())
    http.close()
    client = subprocess.Popen(
        [sys.executable, "-c", FROZEN_CLIENT, server.url, cookie, str(scene.meeting.id), "python-requests"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = client.stdout.readline().strip()
        assert port.isdigit(), port
        inode = server_socket_inode(server.port, int(port))
        client.send_signal(signal.SIGSTOP)
        stopped = time.monotonic()
        while holds_socket(server.process.pid, inode) and time.monotonic() - stopped < FROZEN_CLOSED_WITHIN + 10:
            time.sleep(0.25)
        held_for = time.monotonic() - stopped
        print(f"\nstopped client: the server closed its descriptor {held_for:.1f}s after SIGSTOP")
        assert not holds_socket(server.process.pid, inode), f"descriptor still open {held_for:.1f}s after SIGSTOP"
        assert held_for < FROZEN_CLOSED_WITHIN
    finally:
        client.send_signal(signal.SIGCONT)
        client.kill()
        client.wait()
        client.stdout.close()


# --- 2. SIGTERM ---------------------------------------------------------------------------------------------


class Member:
    """A python-socketio client of one member that follows a drain as js/chat/ does: on `server_shutdown` it
    reconnects, to the next server given, and joins again with `after` = the highest id it has."""

    def __init__(self, servers, username: str, meeting_id: int, sockets) -> None:
        self.servers, self.username, self.meeting_id, self.sockets = list(servers), username, meeting_id, sockets
        self.http = self.servers[0].login(username, DEFAULT_PASSWORD)
        self.ids: set[int] = set()
        self.shutdown_notices: list[dict] = []
        self.refusals: list = []
        self.presence: list[tuple[float, list]] = []
        self.states: list[tuple[float, dict]] = []
        self.lock = threading.Lock()
        self.sock = None
        self.opened: list = []
        self.connect(self.servers[0])

    def close(self) -> None:
        """Close every connection, also those the drained server closed (websocket-client keeps their socket)."""
        for sock in self.opened:
            sock.close()
            if (ws := getattr(sock.client.eio, "ws", None)) is not None:
                ws.shutdown()
        self.http.close()

    def connect(self, server) -> None:
        sock = self.sockets(server.socket(self.http))
        sock.client.on("message", self._message)
        sock.client.on("server_shutdown", self._shutdown)
        sock.client.on("presence", lambda data: self.presence.append((time.monotonic(), data["present"])))
        sock.client.on("meeting_state", lambda data: self.states.append((time.monotonic(), data)))
        self.sock = sock
        self.opened.append(sock)
        after = max(self.ids, default=0)
        ack = sock.call("join", {"meeting_id": self.meeting_id, "after": after})
        assert ack["ok"], ack
        for message in ack["messages"]:
            self._message(message)

    def _message(self, data) -> None:
        with self.lock:
            self.ids.add(data["id"])

    def _shutdown(self, data) -> None:
        self.shutdown_notices.append(data)
        threading.Thread(target=self._move, args=(data["reconnect_in_ms"],), daemon=True).start()

    def _move(self, delay_ms: int) -> None:
        time.sleep(delay_ms / 1000)
        for _attempt in range(50):
            try:
                self.connect(self.servers[1])
                return
            except Exception:
                time.sleep(0.2)

    def send(self, client_id: str) -> dict | None:
        for _attempt in range(20):  # the same client id on every attempt
            try:
                ack = self.sock.call(
                    "send",
                    {"meeting_id": self.meeting_id, "client_id": client_id, "text": f"{self.username} {client_id}"},
                    timeout=2,
                )
                if ack.get("ok"):
                    return ack
                self.refusals.append(ack)
            except Exception as error:
                self.refusals.append(repr(error))
            time.sleep(0.2)
        return None


@pytest.mark.live
@pytest.mark.scaleout_only
def test_sigterm_drains_a_process_its_clients_move_and_nothing_is_lost(factory, live_servers, sockets):
    scene = factory.scene()
    meeting_id = scene.meeting.id
    first, second = live_servers(), live_servers()
    expert = Member([first, second], "expert", meeting_id, sockets)  # the only moderator, on `first`
    alice = Member([first, second], "alice", meeting_id, sockets)
    bob = Member([second, second], "bob", meeting_id, sockets)
    try:
        _drain_and_check(first, expert, alice, bob, meeting_id)
    finally:
        for member in (expert, alice, bob):
            member.close()


def _drain_and_check(first, expert: Member, alice: Member, bob: Member, meeting_id: int) -> None:
    acked: dict[str, int] = {}
    stop = threading.Event()

    def chat(member: Member) -> None:
        number = 0
        while not stop.is_set():
            number += 1
            client_id = f"{member.username}-{number:06d}"
            ack = member.send(client_id)
            if ack is not None:
                acked[client_id] = ack["id"]
            time.sleep(0.05)

    senders = [threading.Thread(target=chat, args=(m,), daemon=True) for m in (alice, bob)]
    for sender in senders:
        sender.start()
    time.sleep(1.0)
    bob_mark = len(bob.presence)
    term_at = time.monotonic()
    first.process.send_signal(signal.SIGTERM)
    first.process.wait(timeout=EXIT_WITHIN + 5)
    exited_after = time.monotonic() - term_at

    # The others see at once that the expert and alice left the first process (and the chat turn read-only).
    gone = next(
        (t - term_at for t, present in bob.presence[bob_mark:] if all(p.get("role") != "peer_expert" for p in present)),
        None,
    )
    time.sleep(3.0)  # the moved clients are back and chat on
    stop.set()
    for sender in senders:
        sender.join(timeout=10)
    time.sleep(1.0)
    lost = {
        name: sorted(set(acked.values()) - m.ids) for name, m in (("expert", expert), ("alice", alice), ("bob", bob))
    }
    print(
        f"\nSIGTERM: exited after {exited_after:.2f}s; the other process's member saw the expert leave after "
        f"{gone}s; acked {len(acked)}; lost per member { {k: len(v) for k, v in lost.items()} }"
    )
    assert acked, (alice.refusals[:3], bob.refusals[:3])
    assert exited_after < EXIT_WITHIN, first.log()
    assert first.process.returncode == 0, first.log()
    assert expert.shutdown_notices and alice.shutdown_notices
    assert all(isinstance(n["reconnect_in_ms"], int) for n in expert.shutdown_notices)
    assert gone is not None and gone < PRESENCE_WITHIN, (bob.presence[bob_mark:], first.log())
    assert expert.sock.client.connected and alice.sock.client.connected  # moved to `second`
    assert not any(lost.values()), lost
    assert len({v for v in acked.values()}) == len(acked)  # one server id per client id


# --- 3. the same under gunicorn (the production path) -----------------------------------------------------


def socket_options_probe(environ, start_response):
    """A WSGI app for gunicorn that reports the TCP options of the connection it was served on."""
    sock = environ["gunicorn.socket"]
    values = {
        name: sock.getsockopt(level, getattr(socket, name))
        for level, name in (
            (socket.IPPROTO_TCP, "TCP_USER_TIMEOUT"),
            (socket.SOL_SOCKET, "SO_KEEPALIVE"),
            (socket.IPPROTO_TCP, "TCP_KEEPIDLE"),
            (socket.IPPROTO_TCP, "TCP_NODELAY"),
        )
    }
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps(values).encode()]


def _gunicorn_env(schema, redis_prefix) -> dict:
    return app_env(
        schema.database_url,
        schema.redis_url,
        redis_prefix,
        MIGRATE_AT_BOOT="0",
        GRACEFUL_TIMEOUT="10",
        SOCKET_EVENT_RATE_LIMIT="1000 per 10 seconds",
        TCP_USER_TIMEOUT_SECONDS="20",
    )


@pytest.mark.live
def test_gunicorn_connections_get_a_user_timeout_and_keepalive(app, schema, redis_prefix, tmp_path):
    server = Gunicorn(
        _gunicorn_env(schema, redis_prefix),
        tmp_path / "gunicorn.log",
        app="tests.test_shutdown_drain:socket_options_probe",
    )
    try:
        server.wait_until_up("/")
        import requests

        options = requests.get(server.url + "/", timeout=5).json()
    finally:
        server.stop()
    assert options == {"TCP_USER_TIMEOUT": 20000, "SO_KEEPALIVE": 1, "TCP_KEEPIDLE": 10, "TCP_NODELAY": 1}


@pytest.mark.live
@pytest.mark.scaleout_only
def test_gunicorn_drains_on_sigterm(factory, schema, redis_prefix, tmp_path, live_servers, sockets):
    """SIGTERM to the master (`systemctl stop`): its worker drains and the process exits well within
    GRACEFUL_TIMEOUT (10 s here); the other process's members see who left at once."""
    scene = factory.scene()
    meeting_id = scene.meeting.id
    first = Gunicorn(_gunicorn_env(schema, redis_prefix), tmp_path / "gunicorn.log")
    try:
        first.wait_until_up()
        second = live_servers()
        expert = Member([first, second], "expert", meeting_id, sockets)
        bob = Member([second, second], "bob", meeting_id, sockets)
        try:
            mark = len(bob.presence)
            term_at = time.monotonic()
            first.terminate()
            first.process.wait(timeout=20)
            exited_after = time.monotonic() - term_at
            gone = next(
                (
                    t - term_at
                    for t, present in bob.presence[mark:]
                    if all(p.get("role") != "peer_expert" for p in present)
                ),
                None,
            )
            print(f"\ngunicorn SIGTERM: exited after {exited_after:.2f}s; presence pushed after {gone}s")
            assert expert.shutdown_notices, first.log()
            assert gone is not None and gone < PRESENCE_WITHIN, (bob.presence[mark:], first.log())
            assert exited_after < EXIT_WITHIN, first.log()
            assert first.process.returncode == 0, first.log()
        finally:
            for member in (expert, bob):
                member.close()
    finally:
        first.stop()


@pytest.mark.live
def test_a_second_sigterm_does_not_start_a_second_drain(factory, live_servers, sockets):
    scene = factory.scene()
    server = live_servers()
    member = sockets(server.socket(server.login("alice", DEFAULT_PASSWORD)))
    assert member.call("join", {"meeting_id": scene.meeting.id})["ok"]
    server.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 5
    while "drain: 1 sockets" not in server.log() and time.monotonic() < deadline:  # another process's clock
        time.sleep(0.02)
    server.process.send_signal(signal.SIGTERM)  # while the first drain waits for its notices to go out
    server.process.wait(timeout=EXIT_WITHIN + 5)
    log = server.log()
    assert log.count("sockets in") == 1, log  # one drain
    assert "SIGTERM again" in log, log
    assert server.process.returncode == 0, log
