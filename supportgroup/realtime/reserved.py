"""Refuse client events with reserved names before any handler runs (issue #12, docs/protocol.md).

python-socketio dispatches a client's EVENT packet by its name alone: an event named `connect` reached the
app's connect handler, which emptied the socket's list of meetings while the socket stayed in presence (a
ghost that kept a meeting writable after its peer expert left); `disconnect` would run the disconnect
handler on a socket that stays connected. Names that Socket.IO reserves for its own use are therefore
answered `invalid_event` (when the packet asks for an acknowledgement) and never reach a handler, the
catch-all included. `install(server)` wraps the server's `_handle_event`, which both EVENT and BINARY_EVENT
packets pass through.
"""
from __future__ import annotations

import logging

from socketio import packet

log = logging.getLogger("supportgroup.realtime")

RESERVED = frozenset({"connect", "disconnect", "connect_error", "disconnecting", "newListener",
                      "removeListener", "ping", "pong"})

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
            log.warning("refused a client event with a reserved name (%s)", data[0])
            if id is not None:
                server._send_packet(eio_sid, server.packet_class(packet.ACK, namespace=namespace or "/", id=id,
                                                                 data=[refusal()]))
            return None
        return handle_event(eio_sid, namespace, id, data)

    server._handle_event = _handle_event
    server._sg_reserved_refused = True
