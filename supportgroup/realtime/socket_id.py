"""The id of the socket whose event is being handled, typed in one place."""

from __future__ import annotations

from flask import request


def socket_id() -> str:
    """The Socket.IO session id (`sid`) of the socket whose event, connect or disconnect runs now.

    Flask-SocketIO sets `request.sid` on the request context it makes for each event; Flask's `Request` type
    does not declare it, so it is read here, once, instead of in every handler."""
    sid: str = request.sid  # type: ignore[attr-defined]
    return sid
