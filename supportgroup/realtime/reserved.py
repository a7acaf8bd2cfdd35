"""Refuse client events with reserved names before any handler runs (issue #12, docs/protocol.md).

python-socketio dispatches a client's EVENT packet by its name alone: an event named `connect` reached the
app's connect handler, which emptied the socket's list of meetings while the socket stayed in presence (a
ghost that kept a meeting writable after its peer expert left); `disconnect` would run the disconnect
handler on a socket that stays connected. Names that Socket.IO reserves for its own use are therefore
answered `invalid_event` (when the packet asks for an acknowledgement) and never reach a handler, the
catch-all included. `install(server)` wraps the server's `_handle_event`, which both EVENT and BINARY_EVENT
packets pass through.

Each one counts against the account's event budget (`realtime/gate.py`), like every other event, and is logged
once per connection, not once per packet (a client sending them in a loop would otherwise fill the log).
"""

from __future__ import annotations

import logging

from socketio import packet

log = logging.getLogger("supportgroup.realtime")

RESERVED = frozenset(
    {"connect", "disconnect", "connect_error", "disconnecting", "newListener", "removeListener", "ping", "pong"}
)

# Only a broken or hostile client sends these; no person reads it, so it is not translated.
MESSAGE = "This event name is reserved."


def refusal() -> dict:
    return {"ok": False, "error": {"code": "invalid_event", "message": MESSAGE}}


def install(server) -> None:
    """Make `server` (a `socketio.Server`) refuse reserved event names. Idempotent."""
    if getattr(server, "_sg_reserved_refused", False):
        return
    handle_event = server._handle_event

    def _handle_event(eio_sid, namespace, id, data):  # noqa: A002  (python-socketio's name)
        if isinstance(data, list) and data and isinstance(data[0], str) and data[0] in RESERVED:
            _meter(server, eio_sid, namespace or "/", data[0])
            if id is not None:
                server._send_packet(
                    eio_sid, server.packet_class(packet.ACK, namespace=namespace or "/", id=id, data=[refusal()])
                )
            return None
        return handle_event(eio_sid, namespace, id, data)

    server._handle_event = _handle_event
    server._sg_reserved_refused = True


LOGGED = "sg_reserved_logged"  # key in the socket's WSGI environ: this connection's refusal was logged


def _meter(server, eio_sid: str, namespace: str, name: str) -> None:
    """Count the event against the account's budget (an account over it is refused everything else too), and
    log the first one of this connection."""
    from .pipeline import SOCKET_USER
    from .stores import stores

    sid = server.manager.sid_from_eio_sid(eio_sid, namespace)
    environ = server.get_environ(sid, namespace) if sid else None
    if not environ:
        return
    if not environ.get(LOGGED):
        environ[LOGGED] = True
        log.warning("refused a client event with a reserved name (%s); more from this connection are not logged", name)
    user_id = (environ.get("saved_session") or {}).get(SOCKET_USER)
    app = environ.get("flask.app")
    if user_id is None or app is None:
        return
    with app.app_context():
        try:
            stores().gate.hit(user_id)
        except Exception as error:  # Redis away: refused anyway
            log.debug("could not count a reserved event: %s", type(error).__name__)
