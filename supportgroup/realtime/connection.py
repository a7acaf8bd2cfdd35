"""A socket's life outside any feature: connecting, an event nobody knows, disconnecting.

Features that keep per-socket state elsewhere (the chat: the meetings a socket joined) register what must
happen when a socket closes with `on_socket_closed`; they run first, then the socket is forgotten here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, join_room

from ..extensions import db, socketio
from ..two_factor import second_factor_due
from .acks import error_ack, rate_limited_ack, rollback_quietly
from .activity import forget_socket, remember_socket, session_is_idle
from .pipeline import JOINED, SOCKET_LOCALE, SOCKET_USER
from .rooms import user_room
from .socket_id import socket_id
from .stores import stores
from .unavailable import outage

log = logging.getLogger("supportgroup.chat")

_closing: list[Callable[[], None]] = []


def on_socket_closed(hook: Callable[[], None]) -> Callable[[], None]:
    """Run `hook` in the disconnect handler of every socket (in the socket's request context), before the
    socket is forgotten. A hook does its own error handling: one failing must not keep the others from
    running."""
    if hook not in _closing:
        _closing.append(hook)
    return hook


@socketio.on("connect")
def on_connect(auth: object = None) -> None:
    """Refuse with `not_authenticated` (log in again; a staff session still owing its second factor too) or
    `unavailable` (the session cannot be checked now: the database or Redis is down; the client retries), never
    with silence. The socket's language is chosen here
    and kept in its session, so that no error ack needs the database (`acks.error_ack`)."""
    try:
        if not current_user.is_authenticated or session_is_idle() or second_factor_due(current_user):
            raise ConnectionRefusedError("not_authenticated")
        session[SOCKET_LOCALE] = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
        session[SOCKET_USER] = current_user.id
        session[JOINED] = []
        join_room(user_room(current_user.id))
        stores().connections.add(current_user.id, socket_id())
        remember_socket()
    except ConnectionRefusedError:
        rollback_quietly()
        raise
    except Exception as error:
        rollback_quietly()
        if outage(error):
            log.warning("socket connect refused: %s unreachable (%s)", outage(error), type(error).__name__)
        else:
            log.exception("socket connect failed")
        raise ConnectionRefusedError("unavailable") from None


@socketio.on("*")
def unknown_event(event: str, *_args: object) -> dict:
    """Every event is acknowledged: a name the server does not know too (no database, no handler). It counts
    against the account's event budget like any other event, so a flood of them is limited too."""
    user_id = session.get(SOCKET_USER)
    try:
        if user_id is not None and not stores().gate.hit(user_id):
            return rate_limited_ack()
    except Exception as error:  # Redis away: the answer is the same, and costs nothing
        if not outage(error):
            log.exception("counting an unknown event failed")
    return error_ack("unknown_event", _l("The server does not know this request."))


@socketio.on("disconnect")
def on_disconnect(*_reason: object) -> None:
    # current_user may already be anonymous here (logout, ban): only the socket's own data counts.
    user_id = session.get(SOCKET_USER)
    for hook in _closing:
        hook()
    if user_id is not None:
        stores().connections.remove(user_id, socket_id())
    forget_socket(socket_id())
    db.session.rollback()
