"""Oversize and abandoned requests against the real servers: refused before reading, timed out, no leak.

A polling POST announcing a large body and closing, or a body that never arrives, used to be answered
never and to hold a file descriptor of the server for ever. Descriptors are counted in /proc/<pid>/fd of
the serving process (serve.py here, gunicorn's worker in `test_gunicorn_*`).
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import DEFAULT_PASSWORD
from tests.live import ROOT, Gunicorn, app_env

pytestmark = pytest.mark.live

TIMEOUT = 1  # REQUEST_TIMEOUT_SECONDS of the servers under test (10 in production)
REQUESTS = 1000


@pytest.fixture
def live_server_env() -> dict:
    return {"REQUEST_TIMEOUT_SECONDS": str(TIMEOUT)}


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def handshake(url: str) -> str:
    response = requests.get(url + "/socket.io/?EIO=4&transport=polling", timeout=5)
    assert response.status_code == 200, response.text
    return json.loads(response.text[1:])["sid"]


def open_request(port: int, head: str, body: bytes = b"") -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(head.encode() + body)
    return conn


def post_head(path: str, length: int) -> str:
    return f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {length}\r\n\r\n"


def hammer(url: str, port: int, pid: int) -> dict:
    """REQUESTS abandoned requests of four kinds; the descriptors before, at the peak and after."""
    sid = handshake(url)
    polling = f"/socket.io/?EIO=4&transport=polling&sid={sid}"
    before = descriptors(pid)
    held = []
    for i in range(REQUESTS):
        kind = i % 4
        if kind == 0:  # announces a body far over SOCKETIO_MAX_BUFFER, then closes
            open_request(port, post_head(polling, 10_000_000)).close()
        elif kind == 1:  # announces 1000 bytes, sends 2, closes
            open_request(port, post_head(polling, 1000), b"40").close()
        elif kind == 2:  # announces 1000 bytes, sends 2 and stays silent (the timeout must end it)
            held.append(open_request(port, post_head(polling, 1000), b"40"))
        else:  # a page's form, abandoned the same way
            held.append(open_request(port, post_head("/login", 5000), b"csrf_token="))
    peak = descriptors(pid)
    deadline = time.monotonic() + TIMEOUT + 10
    after = descriptors(pid)
    while after > before + 2 and time.monotonic() < deadline:
        time.sleep(0.2)
        after = descriptors(pid)
    answered = 0
    for conn in held:
        conn.settimeout(5)
        try:
            answered += conn.recv(64).startswith(b"HTTP/1.1 400")
        except OSError:
            pass
        conn.close()
    figures = {"before": before, "peak": peak, "after": after, "held_answered_400": answered, "held": len(held)}
    print(f"descriptors after {REQUESTS} abandoned requests:", figures)
    return figures


def test_abandoned_requests_leave_no_descriptors(app, live_servers):
    server = live_servers()
    figures = hammer(server.url, server.port, server.process.pid)
    assert figures["after"] <= figures["before"] + 2, figures
    # A silent client is answered 400 before it is dropped, not left hanging.
    assert figures["held_answered_400"] == figures["held"], figures
    # The server still serves.
    assert requests.get(server.url + "/login", timeout=5).status_code == 200
    sid = handshake(server.url)
    assert (
        requests.post(f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}", data=b"40", timeout=5).status_code
        == 200
    )


def test_oversize_polling_post_is_refused_with_400_and_ends_the_session(app, live_servers):
    server = live_servers()
    sid = handshake(server.url)
    polling = f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    started = time.monotonic()
    response = requests.post(polling, data=b"4" + b"x" * (1 << 20), timeout=10)
    assert response.status_code == 400  # docs/protocol.md
    assert response.headers["Connection"] == "close"
    assert time.monotonic() - started < 5
    assert requests.get(polling, timeout=5).status_code == 400  # the session is over
    # Just under the limit is accepted (a packet of SOCKETIO_MAX_BUFFER bytes).
    sid = handshake(server.url)
    response = requests.post(
        f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}", data=b"4" + b"x" * (16 * 1024 - 1), timeout=10
    )
    assert response.status_code == 200


def test_oversize_page_post_is_refused_with_413(app, live_servers):
    server = live_servers()
    response = requests.post(
        server.url + "/login",
        data=b"x" * (300 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 413
    assert response.headers["Connection"] == "close"


def test_socketio_responses_are_never_stored(app, live_servers):
    server = live_servers()
    base = f"{server.url}/socket.io/?EIO=4&transport=polling"
    opened = requests.get(base, timeout=5)
    sid = json.loads(opened.text[1:])["sid"]
    posted = requests.post(f"{base}&sid={sid}", data=b"40", timeout=5)
    polled = requests.get(f"{base}&sid={sid}", timeout=5)
    refused = requests.get(f"{base}&sid=not-a-session", timeout=5)
    for response in (opened, posted, polled, refused):
        assert response.headers.get("Cache-Control") == "no-store", (response.request.url, response.headers)


def test_long_polls_and_websockets_outlive_the_request_timeout(factory, live_servers, sockets):
    """The timeout is for requests being sent; a long-poll or a WebSocket may be silent far longer."""
    factory.user("alice")
    server = live_servers()
    live = sockets(server.socket(server.login("alice", DEFAULT_PASSWORD)))  # over WebSocket
    sid = handshake(server.url)
    polling = f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    result = {}
    waiting = threading.Thread(target=lambda: result.setdefault("poll", requests.get(polling, timeout=10)))
    waiting.start()
    # Real time, not a clock we could set: the server's socket timeout is what is under test.
    time.sleep(TIMEOUT + 1)
    assert requests.post(polling, data=b"40", timeout=5).status_code == 200  # a connect: answers the poll
    waiting.join(10)
    assert result["poll"].status_code == 200 and result["poll"].text.startswith("4")
    ack = live.call("join", {"meeting": 999999})
    assert ack["ok"] is False  # answered over the WebSocket that was silent meanwhile


# --- gunicorn (the production path) -----------------------------------------------------------------


def _worker_pid(master: int, timeout: float = 20) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise AssertionError("gunicorn started no worker")


@pytest.fixture
def gunicorn_server(schema, redis_prefix, tmp_path):
    env = app_env(
        schema.database_url, schema.redis_url, redis_prefix, MIGRATE_AT_BOOT="0", REQUEST_TIMEOUT_SECONDS=str(TIMEOUT)
    )
    server = Gunicorn(env, tmp_path / "gunicorn.log")
    try:
        server.wait_until_up()
        yield server
    finally:
        server.stop()


def test_gunicorn_abandoned_requests_leave_no_descriptors(app, gunicorn_server):
    server = gunicorn_server
    figures = hammer(server.url, server.port, _worker_pid(server.process.pid))
    assert figures["after"] <= figures["before"] + 2, figures
    assert requests.get(server.url + "/login", timeout=5).status_code == 200
    sid = handshake(server.url)
    polling = f"{server.url}/socket.io/?EIO=4&transport=polling&sid={sid}"
    assert requests.post(polling, data=b"4" + b"x" * (1 << 20), timeout=10).status_code == 400
    assert (
        requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=5).headers["Cache-Control"]
        == "no-store"
    )


def test_deploy_docs_name_the_nginx_limits():
    text = (ROOT / "docs" / "deploy.md").read_text()
    conf = (ROOT / "deploy" / "nginx" / "supportgroup.conf").read_text()
    for directive in (
        "client_max_body_size",
        "client_body_timeout",
        "client_header_timeout",
        "large_client_header_buffers",
        "send_timeout",
    ):
        assert directive in text and directive in conf, directive
