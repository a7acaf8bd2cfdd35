"""The one shape of every socket event (`socket_event`): parse the payload, load the user from the database
(Flask-Login reloads it and checks its session token on every event), rate-limit, load the objects,
authorize through `permissions`, act through a service, commit, push (`push.py`), and acknowledge with
`{"ok": true, ...}` or `{"ok": false, "error": {"code", "message"}}` (`acks.py`). The protocol is in
docs/protocol.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import session
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..errors import DomainError
from ..extensions import socketio
from ..i18n import SOCKET_LOCALE_KEY
from ..permissions import Denied, require_authenticated
from .acks import error_ack, failure_ack, rate_limited_ack, rollback_quietly
from .activity import note_socket_activity
from .payloads import PayloadError, parse
from .stores import stores

JOINED = "sg_joined_meetings"  # socket-session key: the meetings this socket has joined
SOCKET_USER = "sg_socket_user"  # socket-session key: the account that opened this socket
SOCKET_LOCALE = SOCKET_LOCALE_KEY  # socket-session key: the language chosen at connect (i18n.py)

Fields = dict | Callable[[], dict] | None


class OverBudget(Exception):
    """Raised by a handler that counts its own event (`counts_itself`) when the account is over budget."""


def socket_event(
    name: str,
    fields: Fields = None,
    *,
    load_account: bool = True,
    counts_itself: bool = False,
    on_arrival: Callable[[object], None] | None = None,
) -> Callable[[Callable[..., Any]], Callable]:
    """Register a socket event handler with parsing, authentication, rate limiting and error acks.

    `fields` is the payload schema, or a function that builds it (for limits read from config). The handler
    gets the account, reloaded and checked from the database; with `load_account=False` it gets the id of
    the account that opened the socket instead, and must check the account itself (`join` and `send` do,
    through `load_posting_rights`, whose answer a socket keeps only until the account changes).
    Every event counts against the account's budget (`realtime/gate.py`); `counts_itself` handlers count a
    well-formed event themselves (`send`, in the same round trip as its other Redis reads) and raise
    `OverBudget`; a malformed one is counted here. `on_arrival(data)` runs first, before anything that waits
    (`join` numbers its requests there, see `take_join_ticket`). Every deliberate event (not the ones a page
    sends by itself: join, leave, catch_up) counts as activity of the session for its idle timeout
    (`auth/idle.py`).
    """

    def decorator(fn: Callable[..., Any]) -> Callable:
        @functools.wraps(fn)
        def handler(data: object = None, *_extra: object) -> dict:
            try:
                if on_arrival is not None:
                    on_arrival(data)
                user: Any
                if load_account:
                    user = require_authenticated(current_user)
                elif (user := session.get(SOCKET_USER)) is None:
                    raise Denied("not_authenticated", _l("Please log in first."), status=401)
                note_socket_activity(name)  # deliberate events only count (auth/idle.py)
                gate = stores().gate
                if not counts_itself and not gate.hit(user.id if load_account else user):
                    return rate_limited_ack()
                schema = fields() if callable(fields) else (fields or {})
                try:
                    payload = parse(data if data is not None else {}, schema)
                except PayloadError:
                    if counts_itself and not gate.hit(user.id if load_account else user):
                        return rate_limited_ack()
                    raise
                result = fn(user, **payload)
                return {"ok": True, **(result or {})}
            except OverBudget:
                rollback_quietly()
                return rate_limited_ack()
            except DomainError as refusal:  # a payload that does not fit, a permission, a service's rule
                rollback_quietly()
                return error_ack(refusal.code, refusal.message, **getattr(refusal, "extra", {}))
            except Exception as error:
                rollback_quietly()
                return failure_ack(name, error)

        socketio.on_event(name, handler)
        return handler

    return decorator
