"""Deleted means gone from the database files, not only from view.

Hiding a message (a moderator's or the author's delete, a rejected held message) blanks its text at once
(`erase_text`): the row stays, with its server id and `deleted_at`, so replays still skip it. An incident
snapshot made before keeps its own copy, under its own retention.

Then the files:
- SQLite runs with `secure_delete=ON` (db_setup.py): deleted rows, freed pages and the old copy of an
  updated row are overwritten with zeros. In WAL mode the text still sits in earlier frames of the `-wal`
  file and in the old page in the main file until a checkpoint. So every transaction that deleted or blanked
  content (found by session events: no code path can forget) is followed, after its commit, by
  `PRAGMA wal_checkpoint(TRUNCATE)`, in a background task (`Checkpointer`): the checkpoint may wait up to
  CHECKPOINT_WAIT_SECONDS for a reader's snapshot, and that wait must not delay the request's emit and ack.
  One checkpoint runs at a time; commits meanwhile ask for one more after it, not one each. A reader that
  holds an old snapshot can make it busy: then the next such commit, or the purge job (hourly), finishes it.
- PostgreSQL keeps the old row version until VACUUM removes it: the purge (`flask purge` and the purge job)
  runs VACUUM on the content tables each time, so a deleted text leaves the table files within
  PURGE_INTERVAL_MINUTES. Its write-ahead log (pg_wal) and backups keep it until they are recycled or expire:
  that is the database server's retention, see docs/deploy.md.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref

from flask import has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session

from ..db_setup import BUSY_TIMEOUT_MS, gevent_patched
from ..extensions import db
from ..models import Message

log = logging.getLogger(__name__)

# Tables whose rows hold what people wrote or who they are.
CONTENT_TABLES = (
    "messages",
    "reports",
    "incidents",
    "handover_notes",
    "users",
    "memberships",
    "peer_expert_profiles",
    "enrolment_conflicts",
    "invites",
)
_PENDING = "sg_scrub_files"
_VACUUM = "sg_scrub_vacuum"
CHECKPOINT_WAIT_SECONDS = 1.0


def erase_text(message: Message) -> None:
    """Blank a message's text in the row itself (the caller marks it deleted or rejected)."""
    message.text = ""


# --- which transactions deleted content ---------------------------------------------------------------


def _collect(session_: Session, _flush_context) -> None:
    """after_flush (attribute history is still the flush's): a deleted content row, or a changed text."""
    if any(getattr(obj, "__tablename__", None) in CONTENT_TABLES for obj in session_.deleted) or any(
        isinstance(obj, Message) and inspect(obj).attrs.text.history.has_changes() for obj in session_.dirty
    ):
        session_.info[_PENDING] = True


def _collect_bulk(state: ORMExecuteState) -> None:
    """A bulk DELETE of content rows, or a bulk UPDATE of messages (it may blank texts)."""
    table = getattr(state.statement, "table", None)
    if table is None:
        return
    if (state.is_delete and table.name in CONTENT_TABLES) or (state.is_update and table.name == "messages"):
        state.session.info[_PENDING] = True


def request_vacuum(session_: Session) -> None:
    """After this transaction commits, also VACUUM the content tables on PostgreSQL (the purge asks it)."""
    session_.info[_PENDING] = True
    session_.info[_VACUUM] = True


def _after_commit(session_: Session) -> None:
    pending, wants_vacuum = session_.info.pop(_PENDING, None), session_.info.pop(_VACUUM, None)
    if not pending or not has_app_context():
        return
    engine = db.engine
    if engine.dialect.name == "sqlite":
        checkpointer(engine).request()
    if wants_vacuum:  # the purge (a job, not a request): at once
        try:
            vacuum(engine)
        except Exception as error:  # committed already; the next purge finishes it
            log.error("could not clear deleted content from the database files: %s", type(error).__name__)


def _discard(session_: Session, previous_transaction) -> None:
    if not previous_transaction.nested:
        session_.info.pop(_PENDING, None)
        session_.info.pop(_VACUUM, None)


_installed = False


def install() -> None:
    """Listen on every ORM session (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "do_orm_execute", _collect_bulk)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _discard)
    _installed = True


# --- checkpoints off the request's path -----------------------------------------------------------------


class Checkpointer:
    """Checkpoints one SQLite engine in a background task (a greenlet under gevent, else a thread), one at a
    time: a request while one runs makes it run once more afterwards (it may have started before that commit)."""

    def __init__(self, engine: Engine) -> None:
        # Weakly: this object is the value of a WeakKeyDictionary keyed by the engine (a strong reference would
        # keep every engine that ever deleted content, with its pool, for the life of the process).
        self._engine = weakref.ref(engine)
        self._changed = threading.Condition()
        self._requested = self._done = 0
        self._running = False

    def request(self) -> None:
        with self._changed:
            self._requested += 1
            if self._running:
                return
            self._running = True
        self._start()

    def _start(self) -> None:
        if gevent_patched():
            import gevent

            gevent.spawn(self._run)
        else:
            threading.Thread(target=self._run, name="sqlite-checkpoint").start()

    def _run(self) -> None:
        while True:
            with self._changed:
                target = self._requested
            try:
                if (engine := self._engine()) is not None:
                    checkpoint(engine)
            except Exception as error:  # committed already; the next scrub or the purge job finishes it
                log.error("could not clear deleted content from the database files: %s", type(error).__name__)
            with self._changed:
                self._done = target
                self._changed.notify_all()
                if self._requested == target:
                    self._running = False
                    return

    def wait(self, timeout: float = 10.0) -> bool:
        """Wait until every checkpoint asked for so far has run (tests). False on timeout."""
        with self._changed:
            target = self._requested
            return self._changed.wait_for(lambda: self._done >= target, timeout)


_checkpointers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_checkpointers_lock = threading.Lock()


def checkpointer(engine: Engine) -> Checkpointer:
    with _checkpointers_lock:
        if (found := _checkpointers.get(engine)) is None:
            found = _checkpointers[engine] = Checkpointer(engine)
        return found


def wait_for_checkpoints(engine: Engine, timeout: float = 10.0) -> bool:
    """Wait until the checkpoints asked for so far on `engine` have run (True at once when none were)."""
    with _checkpointers_lock:
        found = _checkpointers.get(engine)
    return found is None or found.wait(timeout)


# --- the files ------------------------------------------------------------------------------------------


def checkpoint(engine: Engine, wait_seconds: float = CHECKPOINT_WAIT_SECONDS) -> bool:
    """SQLite: copy the `-wal` into the database file and truncate it to zero bytes. True when done.

    Waits at most `wait_seconds` for readers of an older snapshot, cooperatively under gevent."""
    if engine.dialect.name != "sqlite":
        return True
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if not gevent_patched():
            cursor.execute(f"PRAGMA busy_timeout={int(wait_seconds * 1000)}")
        deadline, delay = time.monotonic() + wait_seconds, 0.002
        try:
            while True:
                busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
                if not busy or time.monotonic() >= deadline or not gevent_patched():
                    break
                import gevent

                gevent.sleep(delay)
                delay = min(delay * 2, 0.05)
        finally:
            if not gevent_patched():
                cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.close()
    finally:
        raw.close()
    if busy:
        log.info("SQLite checkpoint deferred: a reader holds an older snapshot")
    return not busy


def vacuum(engine: Engine) -> None:
    """PostgreSQL: VACUUM the content tables, so old row versions of deleted text leave the table files."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM {', '.join(CONTENT_TABLES)}")
