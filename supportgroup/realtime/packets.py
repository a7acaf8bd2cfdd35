"""Malformed Socket.IO packets end their own connection, with one log line and no traceback.

python-socketio trusts the shape of what a client sends: a lone binary-event header (`45`, `46`) made it
read every later frame of that connection as an attachment, each one raising (the socket stopped answering,
a traceback per frame); bad JSON, an event that is not a list starting with a name, or an ack without an id
raised in the dispatcher with a traceback, and the client never heard why. `install` puts a check in front
of the dispatcher (`Server._handle_eio_message`, also registered as Engine.IO's message handler): a packet
that is not well formed closes that one Engine.IO connection (the disconnect handlers then run as for any
other close) and logs one line. Nothing this app does uses binary packets, so those are refused too.
"""
from __future__ import annotations

import logging

import socketio
from socketio import packet

log = logging.getLogger("supportgroup.realtime")


def problem(server: socketio.Server, data) -> str | None:
    """Why this Engine.IO message is not a well-formed Socket.IO packet for us, or None."""
    if not isinstance(data, str):
        return "binary frame"
    try:
        pkt = server.packet_class(encoded_packet=data)
    except Exception as error:  # bad JSON, an over-long id, ... (the library raises several kinds)
        return f"undecodable ({type(error).__name__})"
    kind, payload = pkt.packet_type, pkt.data
    if kind in (packet.BINARY_EVENT, packet.BINARY_ACK):
        return "binary packet"
    if kind == packet.EVENT:
        if not (isinstance(payload, list) and payload and isinstance(payload[0], str)):
            return "event without a name"
    elif kind == packet.ACK:
        if pkt.id is None or not isinstance(payload, list):
            return "malformed ack"
    elif kind == packet.CONNECT:
        if payload is not None and not isinstance(payload, dict):
            return "malformed connect"
    elif kind != packet.DISCONNECT:
        return "unexpected packet type"
    return None


def _renamed_star(server: socketio.Server, data: str) -> str:
    """An event literally named "*" would reach the catch-all handler without its name (python-socketio looks
    the name up before the wildcard), and Flask-SocketIO would then take the payload for the socket id and
    raise: give it a name no handler has, so the catch-all answers it `unknown_event` like any other."""
    if not data.startswith("2"):
        return data
    pkt = server.packet_class(encoded_packet=data)
    if pkt.data[0] != "*":
        return data
    pkt.data = ["(*)", *pkt.data[1:]]
    return pkt.encode()


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
    dispatch = server._handle_eio_message

    def guarded(eio_sid, data):
        reason = problem(server, data)
        if reason is None:
            return dispatch(eio_sid, _renamed_star(server, data))
        server._binary_packet.pop(eio_sid, None)
        log.warning("closed a connection that sent a malformed packet: %s", reason)
        _close(server, eio_sid)
        return None

    server._handle_eio_message = guarded
    server.eio.on("message", guarded)
    server._sg_packet_guard = True
