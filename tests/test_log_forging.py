"""No log line can be forged, and none holds a client's address, whichever library writes it.

Hostile requests against the real server (serve.py): CR LF, ANSI escapes and bidi controls in a `sid`, in
an `Origin`, in a malformed request line; oversize header lines, a bad HTTP version, a negative
Content-Length, a body that breaks Engine.IO's decoding and a broken WebSocket upgrade (an error that
reaches gevent's own error report). Then every line of the server's log is scanned.
"""

from __future__ import annotations

import io
import json
import logging
import socket

import pytest
import requests

from supportgroup import logsafe
from tests.test_hardening_scan import ip_addresses

pytestmark = pytest.mark.live

MARK = "FORGED"
# %0D%0A, then what a forged line would say, an ANSI colour and a right-to-left override.
FORGE = f"%0D%0A2026-01-01T00:00:00Z%20ERROR%20{MARK}%20line%1B%5B31m%E2%80%AE"
RAW_CONTROL = set(chr(c) for c in range(0x20) if chr(c) not in "\n") | {chr(0x7F), "\u202e", "\u2066"}


def raw(port: int, data: bytes) -> bytes:
    conn = socket.create_connection(("127.0.0.1", port))
    conn.settimeout(5)
    try:
        conn.sendall(data)
        return conn.recv(64)
    except OSError:
        return b""
    finally:
        conn.close()


def hostile_requests(url: str, port: int) -> int:
    sent = 0

    def send(data: bytes) -> None:
        nonlocal sent
        raw(port, data)
        sent += 1

    base = "/socket.io/?EIO=4&transport=polling"
    send(f"GET {base}&sid=x{FORGE} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    send(f"POST {base}&sid=y{FORGE} HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n40".encode())
    send(f"GET {base} HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\x1b[2J\x1b[31m{MARK}\r\n\r\n".encode())
    send(f"GET /login{FORGE} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n")
    send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n")
    send(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    send(f"GET / HTTP/7.\x1b[31m\r\n{MARK}\r\nHost: x\r\n\r\n".encode())
    send(f"GET / HTTP/1.1 extra\x1b[31m {MARK}\r\nHost: x\r\n\r\n".encode())
    send(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
    send(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n")
    send(b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
    for make in (
        # Engine.IO fails to decode the body and logs a traceback.
        lambda sid: f"POST {base}&sid={sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n4\xff\xfe",
        # A WebSocket upgrade without its headers: the error reaches gevent's report (with the environ).
        lambda sid: (
            f"GET /socket.io/?EIO=4&transport=websocket&sid={sid} HTTP/1.1\r\nHost: x\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        ),
    ):
        sid = json.loads(requests.get(url + base, timeout=5).text[1:])["sid"]
        send(make(sid).encode("latin-1"))
    return sent


def test_no_line_of_the_servers_log_is_forged_or_holds_an_address(app, live_servers):
    server = live_servers()
    sent = hostile_requests(server.url, server.port)
    assert requests.get(server.url + "/login", timeout=5).status_code == 200  # and it still serves
    server.stop()  # the process ends, its log is complete
    lines = [
        line
        for line in server.log_path.read_text(errors="replace").splitlines()
        if not line.startswith("supportgroup serving on")
    ]  # its own listening address
    print(f"{sent} hostile requests; {len(lines)} log lines scanned")
    assert len(lines) > 10  # the hostile requests were logged (so the scan below scanned something)
    assert any("not an accepted origin" in line for line in lines)
    assert any("Invalid session" in line for line in lines)
    assert any(line.startswith(logsafe.CONTINUATION + "Traceback") for line in lines)
    for line in lines:
        assert not (set(line) & RAW_CONTROL), repr(line)
        assert not line.startswith(("2026-01-01", MARK)), repr(line)
        assert ip_addresses(line) == [], repr(line)
        assert "REMOTE_ADDR" not in line and "REMOTE_PORT" not in line, repr(line)
    # Every forged line stayed inside the record that carried it, escaped.
    for line in lines:
        if MARK in line and "\\r\\n" not in line and "\\x1b" not in line:
            pytest.fail(f"unescaped forged text: {line!r}")


def test_every_record_is_cleaned_whoever_logs_it(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a library's own handler, added after the app configured logging
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("engineio.server.test-forging")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.error("Invalid session %s", f"x\r\n2026 ERROR {MARK}\x1b[31m\u202e from 10.0.0.7 at 19:30:00")
        try:
            raise ValueError(f"bad value\n{MARK} line from ::ffff:10.0.0.7")
        except ValueError:
            logger.exception("handler failed for %s", "2001:db8::1")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0] == (
        "ERROR engineio.server.test-forging: Invalid session x\\r\\n2026 ERROR FORGED\\x1b[31m"
        "\\u202e from [address] at 19:30:00"
    )
    assert lines[1] == "ERROR engineio.server.test-forging: handler failed for [address]"
    assert all(line.startswith(logsafe.CONTINUATION) for line in lines[2:])
    assert lines[-1] == f"{logsafe.CONTINUATION}{MARK} line from [address]"


def test_cleaning_keeps_plain_text():
    assert (
        logsafe.clean("joined meeting 12 at 19:30:00, version 1.2.3") == "joined meeting 12 at 19:30:00, version 1.2.3"
    )
    assert logsafe.clean("tab\there") == "tab\\there"
    assert logsafe.clean("\x85\u2028\u2066") == "\\x85\\u2028\\u2066"
