"""Review fixes for issue #15, the races: two transactions on connections of their own (marked `committed`), on
both backends. Two reset codes issued at once leave one valid; two admins demoting each other at once end with one
admin, never a deadlock."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import event

from supportgroup.auth import codes
from supportgroup.models import CodeKind, User


def _when_this_thread_runs(marker: Callable[[str], bool], started: threading.Event, owner: list[int]):
    """A cursor hook: set `started` just before the thread in `owner` runs a statement `marker` picks."""

    def hook(conn, cursor, statement, parameters, context, executemany) -> None:
        if owner and threading.get_ident() == owner[0] and marker(statement.lstrip().upper()):
            started.set()

    return hook


def _locks_or_writes(text: str) -> bool:
    return text.startswith(("DELETE", "INSERT", "UPDATE")) or "FOR UPDATE" in text


@pytest.mark.committed
def test_two_reset_codes_issued_at_once_leave_one_valid(app, factory, db):
    """The first issue has flushed its code, not committed; a second starts in another transaction. Before the
    fix, on PostgreSQL, each deleted only the committed codes and both codes stayed valid."""
    alice = factory.user("alice")
    alice_id = alice.id
    started, result, owner = threading.Event(), {}, []

    def issue_elsewhere() -> None:
        owner.append(threading.get_ident())
        with app.app_context():
            try:
                user = db.session.get(User, alice_id)
                assert user is not None
                result["code"] = codes.issue(user, CodeKind.RESET)[0]
                db.session.commit()
            finally:
                started.set()
                db.session.remove()

    (mine,) = codes.issue(alice, CodeKind.RESET)  # flushed, not committed
    hook = _when_this_thread_runs(_locks_or_writes, started, owner)
    event.listen(db.engine, "before_cursor_execute", hook)
    try:
        worker = threading.Thread(target=issue_elsewhere)
        worker.start()
        assert started.wait(10)
        db.session.commit()
        worker.join(20)
    finally:
        event.remove(db.engine, "before_cursor_execute", hook)
    db.session.expire_all()
    assert codes.remaining(alice, CodeKind.RESET) == 1
    assert not codes.spend(alice, CodeKind.RESET, mine) and codes.spend(alice, CodeKind.RESET, result["code"])
