"""WebSocket compression (permessage-deflate) is off unless WEBSOCKET_COMPRESSION is set.

Every browser offers it and simple-websocket accepts every offer; chat frames are small, so it costs each connection
its zlib state and every frame a deflate for almost nothing (docs/benchmarks.md). The request-limits middleware
withholds the offer. Checked on the real server's handshake, as a browser makes it.
"""

from __future__ import annotations

import base64
import os
import socket

import pytest

OFFER = "permessage-deflate; client_max_window_bits"


def upgrade_response(port: int) -> str:
    """The head of the server's answer to a browser-like WebSocket upgrade that offers permessage-deflate."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Extensions: {OFFER}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            part = conn.recv(4096)
            if not part:
                break
            head += part
    return head.split(b"\r\n\r\n", 1)[0].decode("latin-1")


@pytest.fixture(params=[None, "1"], ids=["default", "on"])
def live_server_env(request) -> dict:
    return {} if request.param is None else {"WEBSOCKET_COMPRESSION": request.param}


def test_the_server_declines_compression_unless_it_is_switched_on(live_servers, live_server_env):
    server = live_servers()
    head = upgrade_response(server.port)
    assert head.startswith("HTTP/1.1 101"), head
    accepted = [line for line in head.split("\r\n") if line.lower().startswith("sec-websocket-extensions:")]
    if live_server_env:
        assert accepted and "permessage-deflate" in accepted[0].lower(), head
    else:
        assert accepted == [], head
