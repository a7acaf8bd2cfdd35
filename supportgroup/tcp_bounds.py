"""How long a client that stopped reading may keep its connection: socket options for every accepted TCP
connection (`bound_connection`: serve.py, and gunicorn through realtime/drain_worker.py) and a bounded
WebSocket close (`bound_websocket_close`, applied by `runtime.start_serving`).

Below the features and the socket edge: it imports nothing of supportgroup, so the drain worker can use it
without importing the runtime that starts the background jobs.
"""

from __future__ import annotations

import os
import socket
import threading
import time

# A client that stops reading (a frozen device, a network gone without a FIN) must not keep its socket:
# python-engineio sets its timeout on attributes that simple-websocket's connection does not have, so
# without these a writer blocks for ever on a full send buffer, keeping the descriptor and its kernel
# buffers. Read from the environment because they apply before the app exists (serve.py, the worker).
USER_TIMEOUT_SECONDS = float(os.environ.get("TCP_USER_TIMEOUT_SECONDS", "20"))
KEEPALIVE_IDLE = 10  # seconds of silence before the first keepalive probe
KEEPALIVE_INTERVAL = 5
KEEPALIVE_COUNT = 3


def bound_connection(sock: socket.socket) -> None:
    """Options for every accepted connection (serve.py, and gunicorn through realtime/drain_worker.py).

    - TCP_NODELAY: small Socket.IO frames are not held back by Nagle's algorithm and delayed ACKs;
    - TCP_USER_TIMEOUT: data unacknowledged this long, or a zero window this long (a peer that ACKs but
      never reads), ends the connection: the blocked writer gets an error, the descriptor is closed;
    - keepalive: a silent connection whose peer vanished is probed and closed (within about 25 s).
    """
    options = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1), (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
    for name, value in (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", KEEPALIVE_COUNT),
        ("TCP_USER_TIMEOUT", int(USER_TIMEOUT_SECONDS * 1000)),
    ):
        if hasattr(socket, name):  # Linux; other systems keep their defaults
            options.append((socket.IPPROTO_TCP, getattr(socket, name), value))
    for level, option, value in options:
        try:
            sock.setsockopt(level, option, value)
        except OSError:
            return  # not a TCP socket (e.g. a Unix socket)


CLOSE_GRACE_SECONDS = 5.0  # after our WebSocket close frame, how long the client has to answer it


def bound_websocket_close() -> None:
    """End the TCP connection `CLOSE_GRACE_SECONDS` after closing a WebSocket whose client did not answer.

    simple-websocket's close sends the close frame and then waits, in its reader, for the client's bytes; a
    client whose process is stopped (SIGSTOP, a frozen device) sends none, while its kernel still ACKs, so
    neither TCP_USER_TIMEOUT nor keepalive ever fires: Engine.IO's ping timeout ended the session (presence,
    handlers), but the reader, the Engine.IO handler and the descriptor stayed for as long as the client stayed
    frozen. Shutting the socket down wakes the reader, which then closes it.
    """
    from simple_websocket import ws as simple_ws

    if getattr(simple_ws.Base, "_sg_bounded_close", False):
        return
    original = simple_ws.Base.close

    def close(self, reason=None, message=None):
        original(self, reason, message)
        threading.Thread(target=_shut_after_grace, args=(self,), daemon=True).start()  # a greenlet under gevent

    simple_ws.Base.close = close
    simple_ws.Base._sg_bounded_close = True


def _shut_after_grace(ws) -> None:
    time.sleep(CLOSE_GRACE_SECONDS)
    try:
        if ws.sock.fileno() != -1:  # the reader has not closed it: the client never answered
            ws.sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # closed meanwhile
