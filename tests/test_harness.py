"""The test harness itself (tests/conftest.py): what one test leaves must not slow or break the tests after it."""

from __future__ import annotations

import gc
import weakref

from sqlalchemy import event

from .conftest import close_made_apps, make_app, socket_test_client


def test_a_socket_test_client_does_not_keep_its_app_after_the_test(schema, redis_prefix):
    """Flask-SocketIO's test client keeps every client in a class-level dict: each kept its app for the rest of the
    run, and the heap they made slowed every later test (the suite took 28 minutes instead of 17)."""
    app = make_app(schema, redis_prefix)
    sio = socket_test_client(app)
    kept = weakref.ref(app)
    del app, sio
    make_app(schema, redis_prefix)  # the next test's app: the global `socketio` holds the last app it was given

    close_made_apps("this test")
    gc.collect()

    assert kept() is None, [type(holder).__name__ for holder in gc.get_referrers(kept())]


def test_a_rolled_back_test_sends_no_vacuum(app, runner):
    """The purge VACUUMs PostgreSQL's content tables from a second connection. In a test that runs in one rolled-back
    transaction there is nothing committed to clear, and VACUUM waited 5 s per table on that transaction's locks
    to cut off the table's empty end (10-20 s per retention test)."""
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        from supportgroup.extensions import db

        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            result = runner.invoke(args=["purge"])
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)

    assert result.exit_code == 0, result.output
    assert statements, "the purge ran no statement on this engine: the check would prove nothing"
    assert not [statement for statement in statements if statement.lstrip().upper().startswith("VACUUM")]
