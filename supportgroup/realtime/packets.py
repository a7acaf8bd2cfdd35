"""Malformed Socket.IO packets end their own connection, with one log line and no traceback.

python-socketio trusts the shape of what a client sends: a lone binary-event header (`45`, `46`) made it
read every later frame of that connection as an attachment, each one raising (the socket stopped answering,
a traceback per frame); bad JSON, an event that is not a list starting with a name, or an ack without an id
raised in the dispatcher with a traceback, and the client never heard why. `install` puts a check in front
of the dispatcher (`Server._handle_eio_message`, also registered as Engine.IO's message handler): a packet
that is not well formed closes that one Engine.IO connection (the disconnect handlers then run as for any
other close) and logs one line. Nothing this app does uses binary packets, so those are refused too.

The check decodes the packet once and hands the decoded packet on (`_dispatch`): python-socketio does not
decode it again (it was decoded three times before: about 22 µs per chat packet, now about 8).
"""

from __future__ import annotations

import logging

import socketio
from socketio import packet

log = logging.getLogger("supportgroup.realtime")


def decode(server: socketio.Server, data) -> tuple[packet.Packet | None, str | None]:
    """Decode an Engine.IO message once: (the packet, None) when it is a well-formed Socket.IO packet for us,
    else (None, why not). The caller dispatches the decoded packet (`_dispatch`): nothing decodes it again."""
    if not isinstance(data, str):
        return None, "binary frame"
    try:
        pkt = server.packet_class(encoded_packet=data)
    except Exception as error:  # bad JSON, an over-long id, ... (the library raises several kinds)
        return None, f"undecodable ({type(error).__name__})"
    kind, payload = pkt.packet_type, pkt.data
    if kind in (packet.BINARY_EVENT, packet.BINARY_ACK):
        return None, "binary packet"
    if kind == packet.EVENT:
        if not (isinstance(payload, list) and payload and isinstance(payload[0], str)):
            return None, "event without a name"
        if payload[0] == "*":
            # An event literally named "*" would reach the catch-all handler without its name (python-socketio
            # looks the name up before the wildcard), and Flask-SocketIO would then take the payload for the
            # socket id and raise: give it a name no handler has, so the catch-all answers it `unknown_event`.
            payload[0] = "(*)"
    elif kind == packet.ACK:
        if pkt.id is None or not isinstance(payload, list):
            return None, "malformed ack"
    elif kind == packet.CONNECT:
        if payload is not None and not isinstance(payload, dict):
            return None, "malformed connect"
    elif kind != packet.DISCONNECT:
        return None, "unexpected packet type"
    return pkt, None


def problem(server: socketio.Server, data) -> str | None:
    """Why this Engine.IO message is not a well-formed Socket.IO packet for us, or None."""
    return decode(server, data)[1]


def _dispatch(server: socketio.Server, eio_sid: str, pkt: packet.Packet) -> None:
    """python-socketio's `Server._handle_eio_message` for an already decoded packet (the four kinds `decode`
    lets through), so that a packet is JSON-decoded once, not once here and once more there."""
    kind = pkt.packet_type
    if kind == packet.EVENT:
        server._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
    elif kind == packet.ACK:
        server._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)
    elif kind == packet.CONNECT:
        server._handle_connect(eio_sid, pkt.namespace, pkt.data)
    else:
        server._handle_disconnect(eio_sid, pkt.namespace, server.reason.CLIENT_DISCONNECT)


def _close(server: socketio.Server, eio_sid: str) -> None:
    """End the Engine.IO session now (its disconnect handlers run), without waiting for its queue to drain: a
    polling client may never fetch it, and the request that carried the bad packet must be answered."""
    try:
        sock = server.eio._get_socket(eio_sid)
    except KeyError:  # gone already
        return
    sock.close(wait=False, reason=server.eio.reason.SERVER_DISCONNECT)
    server.eio.sockets.pop(eio_sid, None)


def install(server: socketio.Server) -> None:
    """Check every incoming packet before python-socketio dispatches it (once per server object)."""
    if getattr(server, "_sg_packet_guard", False):
        return

    def guarded(eio_sid, data):
        pkt, reason = decode(server, data)
        if pkt is not None:
            return _dispatch(server, eio_sid, pkt)
        server._binary_packet.pop(eio_sid, None)
        log.warning("closed a connection that sent a malformed packet: %s", reason)
        _close(server, eio_sid)
        return None

    server._handle_eio_message = guarded
    server.eio.on("message", guarded)
    server._sg_packet_guard = True
