"""Which failures mean "a store we depend on cannot be reached now" (the database or Redis).

Those are answered `unavailable` (sockets: `connect_error` at connect, an error ack on events), logged in one
line without a traceback, since an outage would otherwise write one per event; the client retries.
"""

from __future__ import annotations

import redis
from sqlalchemy import exc as sa_exc

_DATABASE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
_REDIS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError)


def outage(error: BaseException | None) -> str | None:
    """ "database" or "redis" when `error` (or what caused it) says that store cannot be reached, else None."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, _DATABASE) or (isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated):
            return "database"
        if isinstance(error, _REDIS):
            return "redis"
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None
