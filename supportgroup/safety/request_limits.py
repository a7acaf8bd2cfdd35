"""Request bodies: refused before they are read when too large, read within a timeout, never drained.

A WSGI middleware around the whole app (Flask-SocketIO's Engine.IO middleware included), under both
servers (serve.py's pywsgi and gunicorn's gevent worker):

- A body larger than its limit is refused from its `Content-Length`, before a byte of it is read: a
  Socket.IO polling POST over `SOCKETIO_MAX_BUFFER` with `400` (docs/protocol.md; its Engine.IO session
  ends), a page over `MAX_CONTENT_LENGTH` with Flask's own `413` page. python-engineio refused such a POST
  too, but then waited for a long-poll that would take its CLOSE packet: with none pending, the request
  was never answered and held its connection for ever.
- Other bodies are read here, whole, within `REQUEST_TIMEOUT_SECONDS` of silence (a socket timeout, set by
  serve.py, or here on gunicorn's socket): a body announced and never sent is answered `400` instead of
  holding a connection and a descriptor for ever. WebSocket connections are idle up to the ping interval
  and have no such timeout (Engine.IO's ping ends a silent one).
- A refused request is answered with `Connection: close`, so the server closes the connection instead of
  reading the unwanted body to its end.
- WebSocket compression is off unless `WEBSOCKET_COMPRESSION` is set: simple-websocket (python-engineio's
  WebSocket under gevent) accepts permessage-deflate whenever the client offers it, with no switch, and builds the
  handshake from the environ's `HTTP_*` headers; without the `Sec-WebSocket-Extensions` offer it accepts none.

Engine.IO's own responses (handshake, polling GET and POST) get `Cache-Control: no-store` here; Flask's
pages get it in headers.py.
"""

from __future__ import annotations

import io
import logging

from flask import Flask

log = logging.getLogger(__name__)
CHUNK = 64 * 1024
SOCKET_PATH = "/socket.io/"  # Flask-SocketIO's default, which the app keeps


class RequestLimits:
    def __init__(
        self,
        wsgi_app,
        socket_path: str,
        socket_limit: int,
        page_limit: int | None,
        timeout: float,
        end_socket_session,
        compression: bool = False,
    ):
        self.wsgi_app = wsgi_app
        self.compression = compression
        self.socket_path = socket_path
        self.socket_limit = socket_limit
        self.page_limit = page_limit
        self.timeout = timeout
        self.end_socket_session = end_socket_session

    def __call__(self, environ, start_response):
        upgrade = environ.get("HTTP_UPGRADE", "").lower() == "websocket"
        if upgrade and not self.compression:
            environ.pop("HTTP_SEC_WEBSOCKET_EXTENSIONS", None)  # no offer, no permessage-deflate
        sock = environ.get("gunicorn.socket")
        if sock is not None:  # serve.py sets its own (ChatHandler); gunicorn leaves the socket blocking
            sock.settimeout(None if upgrade else self.timeout)
        is_socket = environ.get("PATH_INFO", "").startswith(self.socket_path)
        if is_socket:
            start_response = _no_store(start_response)
        limit = self.socket_limit if is_socket else self.page_limit
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _refuse(start_response, "400 Bad Request")
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if limit is not None and length > limit:
            if is_socket:
                self.end_socket_session(environ)
                return _refuse(start_response, "400 Bad Request")
            # Flask answers 413 from the Content-Length without reading; the server must not read it either.
            return self.wsgi_app(environ, _closing(start_response))
        if length or chunked:
            body = _read_body(environ["wsgi.input"], length if not chunked else None, limit)
            if body is None:
                return _refuse(start_response, "400 Bad Request")
            if limit is not None and len(body) > limit:
                if is_socket:
                    self.end_socket_session(environ)
                return _refuse(start_response, "400 Bad Request" if is_socket else "413 Request Entity Too Large")
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.wsgi_app(environ, start_response)


def _read_body(stream, length: int | None, limit: int | None) -> bytes | None:
    """The whole body (`length` bytes, or a chunked body up to one byte over `limit`); None when it never came."""
    parts: list[bytes] = []
    got = 0
    want = length if length is not None else (limit + 1 if limit is not None else None)
    try:
        while want is None or got < want:
            part = stream.read(CHUNK if want is None else min(CHUNK, want - got))
            if not part:
                break
            parts.append(part)
            got += len(part)
    except (OSError, ValueError):  # a timeout, a reset, a broken chunked encoding
        return None
    if length is not None and got < length:
        return None  # the client closed before sending what it announced
    return b"".join(parts)


def _refuse(start_response, status: str):
    start_response(
        status,
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", "0"),
            ("Connection", "close"),
            ("Cache-Control", "no-store"),
        ],
    )
    return [b""]


def _closing(start_response):
    def start(status, headers, exc_info=None):
        headers = [(k, v) for k, v in headers if k.lower() != "connection"] + [("Connection", "close")]
        return start_response(status, headers, exc_info)

    return start


def _no_store(start_response):
    def start(status, headers, exc_info=None):
        names = {k.lower() for k, _ in headers}
        if "cache-control" not in names:
            headers = [*headers, ("Cache-Control", "no-store")]
        if "x-content-type-options" not in names:
            headers = [*headers, ("X-Content-Type-Options", "nosniff")]
        return start_response(status, headers, exc_info)

    return start


def _end_engineio_session(environ) -> None:
    """End the Engine.IO session a refused polling POST named, without waiting for its long-poll."""
    from urllib.parse import parse_qs

    from ..extensions import socketio

    sid = parse_qs(environ.get("QUERY_STRING", "")).get("sid", [None])[0]
    eio = getattr(socketio.server, "eio", None)
    if not sid or eio is None:
        return
    session = eio.sockets.pop(sid, None)
    if session is not None:
        session.close(wait=False, abort=True, reason=eio.reason.TRANSPORT_ERROR)


def init_request_limits(app: Flask) -> None:
    """Wrap the app, Engine.IO included: call after `socketio.init_app`."""
    # Flask's documented way to wrap the app in middleware; mypy sees `wsgi_app` as a method.
    app.wsgi_app = RequestLimits(  # type: ignore[method-assign]
        app.wsgi_app,
        SOCKET_PATH,
        int(app.config["SOCKETIO_MAX_BUFFER"]),
        app.config.get("MAX_CONTENT_LENGTH"),
        float(app.config["REQUEST_TIMEOUT_SECONDS"]),
        _end_engineio_session,
        bool(app.config.get("WEBSOCKET_COMPRESSION")),
    )
