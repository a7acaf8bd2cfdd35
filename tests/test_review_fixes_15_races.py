"""Review fixes for issue #15, the races: two transactions on connections of their own (marked `committed`), on
both backends. Two reset codes issued at once leave one valid; two admins demoting each other at once end with one
admin, never a deadlock."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import event

from supportgroup.auth import accounts, codes
from supportgroup.errors import DomainError
from supportgroup.models import CodeKind, Role, User


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


@pytest.mark.committed
def test_two_admins_demoting_each_other_at_once_leave_one_admin_and_no_deadlock(app, factory, db):
    """Each transaction counts the admins before either writes (a barrier after the count, given up after 3 s when
    one waits for the other's lock). Before the fix, on PostgreSQL, each locked the other's row and then waited for
    it in its UPDATE: a deadlock, one failed with an error (a 500); on SQLite both counts ran outside a transaction
    and both demotions passed, leaving no admin. Now the second waits, then sees the first's change and is refused."""
    ids = {name: factory.user(name, Role.ADMIN).id for name in ("anna", "bert")}
    checked = threading.Barrier(2, timeout=3)  # broken when one waits for the other's lock: then go on
    results: dict[str, str] = {}

    def after_check(conn, cursor, statement, parameters, context, executemany) -> None:
        text = statement.upper()
        counts_admins = "FROM USERS" in text and "USERS.ROLE" in text and "IS_ENABLED" in text
        if counts_admins and threading.current_thread().name.startswith("demote-"):
            try:
                checked.wait()
            except threading.BrokenBarrierError:
                pass

    def demote(actor: str, target: str) -> None:
        with app.app_context():
            try:
                by, whom = db.session.get(User, ids[actor]), db.session.get(User, ids[target])
                assert by is not None and whom is not None
                accounts.set_role(by, whom, Role.COORDINATOR, "swap")
                db.session.commit()
                results[actor] = "demoted"
            except DomainError as error:
                results[actor] = error.code
            except Exception as error:  # a deadlock ends here
                results[actor] = type(error).__name__
            finally:
                db.session.remove()

    event.listen(db.engine, "after_cursor_execute", after_check)
    try:
        workers = [
            threading.Thread(target=demote, args=("anna", "bert"), name="demote-1"),
            threading.Thread(target=demote, args=("bert", "anna"), name="demote-2"),
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(30)
    finally:
        event.remove(db.engine, "after_cursor_execute", after_check)
    assert sorted(results.values()) == ["demoted", "last_admin"], results
    db.session.expire_all()
    roles = sorted(db.session.get(User, user_id).role for user_id in ids.values())
    assert roles == sorted([Role.ADMIN, Role.COORDINATOR])
