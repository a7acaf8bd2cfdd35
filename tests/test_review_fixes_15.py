"""Review fixes for issue #15's accounts (in-process, both backends): codes that outlive the rights they were issued
under, "Forgot password?" that answers in the same work for every name, the last admin stays whatever the way out.
The races are in test_review_fixes_15_races.py."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event

from supportgroup import platform_settings
from supportgroup.auth import accounts, codes, data, issued_codes, recovery, totp
from supportgroup.errors import DomainError
from supportgroup.extensions import db
from supportgroup.models import CodeKind, Role, User, utcnow
from tests.account_helpers import account_action
from tests.conftest import DEFAULT_PASSWORD, csrf_token, socket_test_client
from tests.two_factor_helpers import (
    ON,
    SECOND_STEP,
    SETUP,
    enrol,
    give_code,
    location,
    next_code,
    password_step,
    signed_in,
)
from tests.two_factor_helpers import totp_clock as totp_clock  # autouse

NEW_PASSWORD = "a fresh passphrase 2024"
two_factor_on = pytest.mark.parametrize("app_overrides", [ON], indirect=True)


@pytest.fixture
def app_overrides(request) -> dict:
    return getattr(request, "param", {})


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


# --- open sockets do not skip the second factor -----------------------------------------------------------------


def _signed_in_admin(app, factory):
    root = factory.user("root", Role.ADMIN)
    enrol(root)
    return signed_in(app, root, "root")


def _with_socket(app, username: str):
    http = app.test_client()
    password_step(http, username)
    socket = socket_test_client(app, http)
    assert socket.is_connected()
    return http, socket


@two_factor_on
def test_a_promotion_to_a_role_that_needs_a_second_factor_ends_sessions_and_sockets(app, factory):
    admin_http = _signed_in_admin(app, factory)
    pat, expert = factory.user("pat"), factory.user("expert", Role.PEER_EXPERT)
    pat_http, pat_socket = _with_socket(app, "pat")
    expert_http, expert_socket = _with_socket(app, "expert")
    made = account_action(admin_http, pat.id, "role", "role", role="coordinator", reason="joins the staff")
    assert location(made) == f"/admin/accounts/{pat.id}"
    assert not pat_socket.is_connected()  # it never gave a second factor
    assert location(pat_http.get("/home")).startswith("/login")
    assert socket_test_client(app, pat_http).is_connected() is False
    assert location(password_step(app.test_client(), "pat")) == SETUP  # and the next login asks for it
    made = account_action(admin_http, expert.id, "role", "role", role="admin", reason="runs the platform")
    assert location(made) == f"/admin/accounts/{expert.id}"
    assert not expert_socket.is_connected() and location(expert_http.get("/home")).startswith("/login")


@two_factor_on
def test_a_role_change_that_asks_no_new_second_factor_keeps_the_sessions(app, factory, runner):
    _signed_in_admin(app, factory)
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    coordinator_http = signed_in(app, coordinator, "coord")
    socket = socket_test_client(app, coordinator_http)
    assert runner.invoke(args=["set-role", "coord", "admin", "--reason", "runs it now"]).exit_code == 0
    assert socket.is_connected() and coordinator_http.get("/home").status_code == 200  # it gave its code already


@two_factor_on
def test_the_cli_promotion_ends_sockets_too(app, factory, runner):
    _signed_in_admin(app, factory)
    factory.user("pat")
    pat_http, pat_socket = _with_socket(app, "pat")
    result = runner.invoke(args=["set-role", "pat", "coordinator", "--reason", "joins the staff"])
    assert result.exit_code == 0, result.output
    assert not pat_socket.is_connected() and location(pat_http.get("/home")).startswith("/login")


@two_factor_on
def test_requiring_a_second_factor_of_peer_experts_ends_the_sockets_of_those_without_one(app, factory):
    admin_http = _signed_in_admin(app, factory)
    factory.user("expert", Role.PEER_EXPERT)
    chose = factory.user("chose", Role.PEER_EXPERT)
    enrol(chose)
    expert_http, expert_socket = _with_socket(app, "expert")
    chose_http = signed_in(app, chose, "chose")
    chose_socket = socket_test_client(app, chose_http)
    settings = "/admin/settings"
    token = csrf_token(admin_http, settings)
    turned_on = admin_http.post(f"{settings}/two-factor", data={"csrf_token": token, "twofactor-required": "y"})
    assert turned_on.status_code == 302
    assert not expert_socket.is_connected()  # its session never passed a second factor
    assert socket_test_client(app, expert_http).is_connected() is False
    assert location(expert_http.get("/home")) == SETUP  # the web session is asked to set it up
    assert chose_socket.is_connected() and chose_http.get("/home").status_code == 200  # gave a code already


# --- the admin's reset of a second factor -------------------------------------------------------------------


class _FormFields(HTMLParser):
    """The names and values a browser sends for the form whose action is `action` (its hidden inputs and fields)."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, {}

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.inside = attributes.get("action") == self.action
        elif self.inside and tag in ("input", "textarea") and attributes.get("name"):
            self.fields[attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag) -> None:
        if tag == "form":
            self.inside = False


def _reset_form(http, account_id: int) -> dict[str, str] | None:
    parser = _FormFields(f"/admin/accounts/{account_id}/two-factor/reset")
    parser.feed(http.get(f"/admin/accounts/{account_id}").get_data(as_text=True))
    return parser.fields or None


@two_factor_on
def test_the_account_pages_reset_form_resets_and_comes_back_to_the_account(app, factory):
    admin_http = _signed_in_admin(app, factory)
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    fields = _reset_form(admin_http, coordinator.id)
    assert fields is not None and "reason" in fields  # its own fields, not the reset code form's
    fields["reason"] = "Lost phone; called from the office line"
    done = admin_http.post(f"/admin/accounts/{coordinator.id}/two-factor/reset", data=fields)
    assert location(done) == f"/admin/accounts/{coordinator.id}"
    db.session.refresh(coordinator)
    assert coordinator.totp_secret is None
    assert admin_http.get(f"/admin/accounts/{coordinator.id}/two-factor").status_code == 404  # no page of its own


@two_factor_on
def test_nobody_resets_their_own_second_factor(app, factory):
    admin_http = _signed_in_admin(app, factory)
    root = db.session.scalar(db.select(User).filter_by(username="root"))
    assert _reset_form(admin_http, root.id) is None  # not offered on your own account
    token = csrf_token(admin_http, f"/admin/accounts/{root.id}")
    refused = admin_http.post(f"/admin/accounts/{root.id}/two-factor/reset", data={"csrf_token": token, "reason": "me"})
    assert refused.status_code == 400
    assert "You cannot reset your own two-factor sign-in." in refused.get_data(as_text=True)
    db.session.refresh(root)
    assert root.totp_enabled_at is not None


def test_the_reset_needs_a_reason_in_the_service_too(factory):
    root, coordinator = factory.user("root", Role.ADMIN), factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    with pytest.raises(DomainError) as refused:
        totp.reset(root, coordinator, "   ")
    assert refused.value.code == "reason_required"


def test_the_reset_asks_for_the_right_before_it_looks_the_account_up(factory, login_client):
    factory.user("coord", Role.COORDINATOR)
    http = login_client("coord")
    token = csrf_token(http, "/account/settings")
    for user_id in (db.session.scalar(db.select(User.id)), 999_999):  # one that exists, one that does not
        answer = http.post(f"/admin/accounts/{user_id}/two-factor/reset", data={"csrf_token": token, "reason": "x"})
        assert answer.status_code == 403


# --- last active: a complete login, not a password ------------------------------------------------------------


def _last_active(user: User):
    db.session.expire_all()
    return db.session.get(User, user.id).last_active_at


@two_factor_on
def test_a_password_alone_does_not_make_a_staff_account_look_active(app, factory):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    http = app.test_client()
    password_step(http, "coord")
    assert http.get("/login/code").status_code == 200  # a page the gate lets through while the code is owed
    assert _last_active(coordinator) is None
    assert location(give_code(http, next_code(coordinator))) == "/home"
    assert _last_active(coordinator) is not None  # the login is complete now


@two_factor_on
def test_the_daily_stamp_waits_for_the_second_factor(app, factory):
    """A session restored the next day, still owing its code: the gate sends it to the second step before the day's
    stamp is written (the stamp's hook runs after the gate)."""
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    http = app.test_client()
    password_step(http, "coord")
    yesterday = utcnow() - timedelta(days=1)
    db.session.execute(db.update(User).where(User.id == coordinator.id).values(last_active_at=yesterday))
    db.session.commit()
    assert location(http.get("/home")) == SECOND_STEP
    assert _last_active(coordinator) < utcnow() - timedelta(hours=23)  # still yesterday's
    give_code(http, next_code(coordinator))
    assert _last_active(coordinator) > yesterday + timedelta(hours=1)


# --- small holes --------------------------------------------------------------------------------------------


def test_only_participants_open_the_page_of_their_alias_look_ups(factory, login_client):
    factory.user("pat")
    factory.user("coord", Role.COORDINATOR)
    assert login_client("pat").get("/account/alias-lookups").status_code == 200
    assert login_client("coord").get("/account/alias-lookups").status_code == 403


@pytest.mark.parametrize("app_overrides", [{**ON, "REQUIRE_TWO_FACTOR_PEER_EXPERTS": True}], indirect=True)
def test_back_to_an_environment_that_requires_it_ends_those_sockets_too(app, factory):
    admin_http = _signed_in_admin(app, factory)
    platform_settings.put("require_two_factor_peer_experts", False, None)  # the admin had switched it off
    factory.user("expert", Role.PEER_EXPERT)  # (commits)
    _expert_http, expert_socket = _with_socket(app, "expert")
    token = csrf_token(admin_http, "/admin/settings")
    back = admin_http.post("/admin/settings/require_two_factor_peer_experts/default", data={"csrf_token": token})
    assert back.status_code == 302 and not expert_socket.is_connected()
