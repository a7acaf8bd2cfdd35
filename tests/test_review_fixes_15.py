"""Review fixes for issue #15's accounts (in-process, both backends): codes that outlive the rights they were issued
under, "Forgot password?" that answers in the same work for every name, the last admin stays whatever the way out.
The races are in test_review_fixes_15_races.py."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from supportgroup.auth import accounts, codes, data, issued_codes, recovery
from supportgroup.errors import DomainError
from supportgroup.extensions import db
from supportgroup.models import CodeKind, Role, User
from tests.conftest import DEFAULT_PASSWORD, csrf_token

NEW_PASSWORD = "a fresh passphrase 2024"


def _refused(username: str, code: str) -> bool:
    try:
        recovery.recover(username, code, NEW_PASSWORD)
    except DomainError as error:
        assert error.code == "recovery_refused"
        db.session.rollback()
        return True
    db.session.commit()
    return False


# --- codes die with the rights they were issued under ---------------------------------------------------------


def test_a_coordinators_reset_code_does_not_open_the_account_once_it_is_an_admins(factory):
    """The review's sequence: a coordinator gives participant P a reset code; an admin promotes P to admin within
    the 24 hours; the code must not set P's password (the coordinator would hold an admin account)."""
    root, coordinator, pat = (
        factory.user("root", Role.ADMIN),
        factory.user("coord", Role.COORDINATOR),
        factory.user("pat"),
    )
    code, _expires = issued_codes.issue_reset_code(coordinator, pat, "phoned, forgot the password")
    db.session.commit()
    accounts.set_role(root, pat, Role.ADMIN, "joins the staff")
    db.session.commit()
    assert _refused("pat", code)
    assert db.session.get(User, pat.id).role == Role.ADMIN


def test_a_reset_code_works_only_while_its_issuer_may_still_give_it(factory):
    root, coordinator = factory.user("root", Role.ADMIN), factory.user("coord", Role.COORDINATOR)
    pat, sam = factory.user("pat"), factory.user("sam", Role.COORDINATOR)
    # Issued under the rules, then the coordinator lost the right (no longer a coordinator).
    code, _ = issued_codes.issue_reset_code(coordinator, pat, "phoned")
    accounts.set_role(root, coordinator, Role.PARTICIPANT, "left the network")
    db.session.commit()
    assert _refused("pat", code)
    # A code a coordinator could never have given (a staff account's), however it got there.
    (staff_code,) = codes.issue(sam, CodeKind.RESET, issued_by=coordinator)
    accounts.set_role(root, coordinator, Role.COORDINATOR, "back")
    db.session.commit()
    assert _refused("sam", staff_code)
    # The CLI's (no issuer) and an admin's codes work.
    (cli_code,) = codes.issue(sam, CodeKind.RESET)
    db.session.commit()
    assert not _refused("sam", cli_code)
    admin_code, _ = issued_codes.issue_reset_code(root, pat, "phoned")
    db.session.commit()
    assert not _refused("pat", admin_code)


def test_an_issuers_erasure_voids_the_codes_they_gave(factory):
    factory.user("root", Role.ADMIN)
    coordinator, pat = factory.user("coord", Role.COORDINATOR), factory.user("pat")
    code, _ = issued_codes.issue_reset_code(coordinator, pat, "phoned")
    db.session.commit()
    data.erase_account(coordinator, DEFAULT_PASSWORD)
    db.session.commit()
    assert _refused("pat", code)  # not taken for a code of the CLI's


def test_recovery_codes_stop_at_a_promotion_and_open_no_staff_account(factory):
    root, pat = factory.user("root", Role.ADMIN), factory.user("pat")
    kept = recovery.issue_recovery_codes(pat, reason="registration")
    accounts.set_role(root, pat, Role.PEER_EXPERT, "trained now", first_name="Pat")
    db.session.commit()
    assert codes.remaining(pat, CodeKind.RECOVERY) == 0 and _refused("pat", kept[0])
    again = codes.issue(pat, CodeKind.RECOVERY)  # however they got there: staff use no recovery codes
    db.session.commit()
    assert _refused("pat", again[0])


def test_disabling_voids_the_codes_that_open_the_account_and_enabling_revives_none(factory):
    root, pat = factory.user("root", Role.ADMIN), factory.user("pat")
    reset, _ = issued_codes.issue_reset_code(root, pat, "phoned")
    kept = recovery.issue_recovery_codes(pat, reason="registration")
    accounts.set_enabled(root, pat, False, "asked for a pause")
    db.session.commit()
    with pytest.raises(DomainError) as refused:  # shown valid, refused at use: no longer issued at all
        issued_codes.issue_reset_code(root, pat, "phoned")
    assert refused.value.code == "account_disabled"
    db.session.rollback()
    accounts.set_enabled(root, pat, True, "back")
    db.session.commit()
    assert _refused("pat", reset) and _refused("pat", kept[0])


def test_the_account_page_offers_no_reset_code_for_a_disabled_account(factory, login_client):
    factory.user("root", Role.ADMIN)
    pat = factory.user("pat")
    http = login_client("root")
    form = f'action="/admin/accounts/{pat.id}/reset-code"'
    assert form in http.get(f"/admin/accounts/{pat.id}").get_data(as_text=True)
    accounts.set_enabled(None, pat, False, "asked for a pause")
    db.session.commit()
    assert form not in http.get(f"/admin/accounts/{pat.id}").get_data(as_text=True)


# --- "Forgot password?" does the same work for every name ------------------------------------------------------


def test_forgot_password_runs_the_same_statements_and_hashes_for_any_name(factory, monkeypatch):
    pat = factory.user("pat")
    recovery.issue_recovery_codes(pat, reason="registration")
    factory.user("gone")
    accounts.set_enabled(None, db.session.scalar(db.select(User).filter_by(username="gone")), False, "left")
    db.session.commit()
    hashed: list[str] = []
    real_hash = codes.code_hash
    monkeypatch.setattr(codes, "code_hash", lambda kind, code: hashed.append(kind) or real_hash(kind, code))
    statements: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    work = {}
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for name in ("nobody-here", "gone", "pat"):
            hashed.clear(), statements.clear()
            assert _refused(name, "AAAA-BBBB-CCCC")
            work[name] = (
                list(hashed),
                [s for s in statements if not s.upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))],
            )
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    assert work["nobody-here"] == work["gone"] == work["pat"]
    hashes, selects = work["pat"]
    assert sorted(hashes) == sorted([CodeKind.RECOVERY, CodeKind.RESET]) and len(selects) == 2


# --- the last admin stays -----------------------------------------------------------------------------------


def test_an_admin_still_awaiting_activation_is_not_another_admin(factory):
    root = factory.user("root", Role.ADMIN)
    accounts.create_staff(root, "newadmin", Role.ADMIN, None)  # no password yet: cannot sign in
    db.session.commit()
    for change in (
        lambda: accounts.set_role(None, root, Role.COORDINATOR, "moves on"),
        lambda: accounts.set_enabled(None, root, False, "on leave"),
    ):
        with pytest.raises(DomainError) as refused:
            change()
        assert refused.value.code == "last_admin"
    db.session.rollback()
    assert db.session.get(User, root.id).role == Role.ADMIN


def _erase(http):
    token = csrf_token(http, "/account/erase")
    return http.post("/account/erase", data={"csrf_token": token, "password": DEFAULT_PASSWORD, "confirm": "y"})


def test_the_last_admin_cannot_erase_their_own_account(factory, login_client):
    root_id = factory.user("root", Role.ADMIN).id
    http = login_client("root")
    refused = _erase(http)
    assert refused.status_code == 400 and "This is the last administrator." in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, root_id) is not None
    factory.user("second", Role.ADMIN)
    assert _erase(http).status_code == 302  # with another admin who can sign in, it goes
    db.session.expire_all()
    assert db.session.get(User, root_id) is None
