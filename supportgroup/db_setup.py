"""Engine tuning for SQLite: WAL, deleted content overwritten, and lock waits that never block the gevent hub.

SQLite waits for a lock in its busy handler, a C loop that sleeps in the calling thread. Under gevent that
thread is the hub's: while one transaction held the write lock, every other request and socket event of the
process stood still (`/healthz` took 3.5 s). In a gevent-patched process each connection therefore gets
`busy_timeout=0`, and a statement (or commit) refused with SQLITE_BUSY (5) is retried from Python after a
`gevent.sleep`, backing off up to the same timeout: only the greenlet that needs the lock waits. SQLITE_BUSY_SNAPSHOT
(517: our read snapshot is older than the last commit) is not retried; SQLite's own handler does not retry it
either. Without gevent (tests, `flask` commands) SQLite's own busy timeout stays.

`secure_delete` makes SQLite overwrite deleted content (rows, freed pages, the old copy of an updated row) with
zeros; `safety/scrub.py` then checkpoints the `-wal` away after a transaction that deleted content.
"""

from __future__ import annotations

import sqlite3
import sys
import time

from flask import Flask
from sqlalchemy import event

from .extensions import db

BUSY_TIMEOUT_MS = 5000
SQLITE_BUSY = 5  # the plain code only: not SQLITE_BUSY_SNAPSHOT (517), which waiting cannot cure
_MAX_BACKOFF = 0.05


def init_engine_events(app: Flask) -> None:
    """SQLite's pragmas and cooperative lock waits (the content scrub, `safety/scrub.py`, is installed by
    `create_app`: this module sits below the features and imports none)."""
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            if gevent_patched():
                event.listen(engine, "do_connect", _cooperative_connect)
            event.listen(engine, "connect", _sqlite_pragmas)


def gevent_patched() -> bool:
    """True in a process monkey-patched by gevent (serve.py, gunicorn's gevent worker)."""
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and (monkey.is_module_patched("threading") or monkey.is_module_patched("socket"))


def _cooperative_connect(_dialect, _record, _cargs, cparams) -> None:
    cparams["factory"] = CooperativeConnection
    cparams["timeout"] = 0  # Python's sqlite3 sets a 5 s busy timeout of its own otherwise


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    timeout = 0 if isinstance(dbapi_connection, CooperativeConnection) else BUSY_TIMEOUT_MS
    cursor.execute(f"PRAGMA busy_timeout={timeout}")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def retry_busy(call, *args):
    """`call(*args)`, retried while SQLite answers SQLITE_BUSY, sleeping cooperatively, for BUSY_TIMEOUT_MS."""
    import gevent

    deadline, delay = None, 0.001
    while True:
        try:
            return call(*args)
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", None) != SQLITE_BUSY:
                raise
            now = time.monotonic()
            deadline = deadline if deadline is not None else now + BUSY_TIMEOUT_MS / 1000
            if now >= deadline:
                raise
            gevent.sleep(min(delay, deadline - now))
            delay = min(delay * 2, _MAX_BACKOFF)


class CooperativeCursor(sqlite3.Cursor):
    def execute(self, sql, parameters=(), /):
        return retry_busy(super().execute, sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        seq = list(seq_of_parameters)  # a generator could not be replayed after a refusal
        return retry_busy(super().executemany, sql, seq)


class CooperativeConnection(sqlite3.Connection):
    """A connection whose lock waits yield to other greenlets (see the module's docstring)."""

    def cursor(self, factory=CooperativeCursor):
        return super().cursor(factory)

    def commit(self):
        return retry_busy(super().commit)
