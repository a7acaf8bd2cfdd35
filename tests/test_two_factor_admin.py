"""After enrolment: an admin resets a lost second factor (audited, sessions end, the person enrols again); the
account's own page: status, new backup codes, and turning an optional second factor off."""

from __future__ import annotations

import pyotp
import pytest

from supportgroup import platform_settings
from supportgroup.audit import AuditAction
from supportgroup.auth import codes
from supportgroup.models import CodeKind, ModerationAction, Role
from tests.conftest import DEFAULT_PASSWORD, csrf_token, socket_test_client
from tests.two_factor_helpers import (
    ON,
    SECOND_STEP,
    SETUP,
    enrol,
    location,
    next_code,
    password_step,
    signed_in,
    totp_clock,  # noqa: F401  (autouse)
)

MANAGE = "/account/two-factor"


@pytest.fixture
def app_overrides():
    return ON


def _audit(db, action):
    return db.session.query(ModerationAction).filter_by(action=action).all()


def _admin_and_coordinator(app, factory):
    admin, coordinator = factory.user("root", Role.ADMIN), factory.user("coord", Role.COORDINATOR)
    enrol(admin)
    enrol(coordinator)
    return admin, coordinator, signed_in(app, admin, "root"), signed_in(app, coordinator, "coord")


def test_an_admin_resets_a_lost_second_factor(app, factory, db):
    admin, coordinator, admin_http, coordinator_http = _admin_and_coordinator(app, factory)
    coordinator_socket = socket_test_client(app, coordinator_http)
    assert coordinator_socket.is_connected()
    page_url = f"/admin/accounts/{coordinator.id}"  # the account page holds the status and the form
    page = admin_http.get(page_url).get_data(as_text=True)
    assert "10 backup codes left." in page and 'name="reason"' in page
    token = csrf_token(admin_http, page_url)
    reset_url = f"/admin/accounts/{coordinator.id}/two-factor/reset"
    no_reason = admin_http.post(reset_url, data={"csrf_token": token, "reason": "  "})
    assert no_reason.status_code == 400 and _audit(db, AuditAction.RESET_TWO_FACTOR) == []
    done = admin_http.post(reset_url, data={"csrf_token": token, "reason": "Lost phone; called from the office line"})
    assert done.status_code == 302 and location(done) == page_url
    db.session.refresh(coordinator)
    assert coordinator.totp_secret is None and coordinator.totp_enabled_at is None
    assert codes.remaining(coordinator, CodeKind.BACKUP) == 0
    (row,) = _audit(db, AuditAction.RESET_TWO_FACTOR)
    assert (row.actor_user_id, row.actor_role, row.target_type, row.target_id) == (
        admin.id,
        "admin",
        "user",
        str(coordinator.id),
    )
    assert row.reason == "Lost phone; called from the office line"
    assert not coordinator_socket.is_connected()  # every socket of the account ended
    assert location(coordinator_http.get("/home")).startswith("/login")  # and every session
    assert location(password_step(app.test_client(), "coord")) == SETUP  # enrols again at the next login
    assert "Not set up yet" in admin_http.get(page_url).get_data(as_text=True)
    again = admin_http.post(reset_url, data={"csrf_token": token, "reason": "twice"})
    assert again.status_code == 400 and "no second factor to reset" in again.get_data(as_text=True)


def test_the_reset_comes_back_to_the_account_page_whatever_next_says(app, factory, db):
    _admin, coordinator, admin_http, _ = _admin_and_coordinator(app, factory)
    token = csrf_token(admin_http, f"/admin/accounts/{coordinator.id}")
    url = f"/admin/accounts/{coordinator.id}/two-factor/reset"
    back = admin_http.post(url, data={"csrf_token": token, "reason": "lost", "next": "//evil.example/"})
    assert location(back) == f"/admin/accounts/{coordinator.id}"


def test_only_an_admin_resets(app, factory, db):
    _admin, coordinator, _, coordinator_http = _admin_and_coordinator(app, factory)
    other = factory.user("coord2", Role.COORDINATOR)
    enrol(other)
    token = csrf_token(coordinator_http, MANAGE)
    url = f"/admin/accounts/{other.id}/two-factor/reset"
    refused = coordinator_http.post(url, data={"csrf_token": token, "reason": "x"})
    assert refused.status_code == 403
    assert coordinator_http.get(f"/admin/accounts/{other.id}").status_code == 403
    db.session.refresh(other)
    assert other.totp_enabled_at is not None and _audit(db, AuditAction.RESET_TWO_FACTOR) == []


def test_new_backup_codes_ask_a_current_code_and_void_the_old_ones(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    old = enrol(coordinator)
    http = signed_in(app, coordinator, "coord")
    page = http.get(MANAGE).get_data(as_text=True)
    assert "10 backup codes left." in page and "Turn off" not in page  # required: no way to turn it off
    token = csrf_token(http, MANAGE)
    wrong = http.post(f"{MANAGE}/backup-codes", data={"csrf_token": token, "backup-code": old[0]})
    assert wrong.status_code == 400 and _audit(db, AuditAction.NEW_BACKUP_CODES) == []
    made = http.post(f"{MANAGE}/backup-codes", data={"csrf_token": token, "backup-code": next_code(coordinator)})
    assert made.status_code == 200 and made.get_data(as_text=True).count("<li><code>") == 10
    assert len(_audit(db, AuditAction.NEW_BACKUP_CODES)) == 1
    assert codes.remaining(coordinator, CodeKind.BACKUP) == 10
    assert not codes.spend(coordinator, CodeKind.BACKUP, old[1])  # the old set no longer works


def test_a_peer_expert_turns_on_by_choice_and_off_again_with_a_code(app, factory, db):
    expert = factory.user("expert", Role.PEER_EXPERT)
    http = app.test_client()
    password_step(http, "expert")
    settings = http.get("/account/settings").get_data(as_text=True)
    assert "Two-factor sign-in" in settings and f'href="{MANAGE}"' in settings
    assert 'href="/account/two-factor/setup"' in http.get(MANAGE).get_data(as_text=True)
    assert "Not now" in http.get(SETUP).get_data(as_text=True)
    db.session.refresh(expert)
    token = csrf_token(http, SETUP)
    done = http.post(SETUP, data={"csrf_token": token, "code": pyotp.TOTP(expert.totp_secret).now()})
    assert done.status_code == 200
    assert http.get("/home").status_code == 200  # this session passed with the confirming code
    assert location(password_step(app.test_client(), "expert")) == SECOND_STEP  # asked from now on
    token = csrf_token(http, MANAGE)
    wrong = http.post(f"{MANAGE}/off", data={"csrf_token": token, "off-code": "000000"})
    assert wrong.status_code == 400
    off = http.post(f"{MANAGE}/off", data={"csrf_token": token, "off-code": next_code(expert)})
    assert location(off) == MANAGE
    db.session.refresh(expert)
    assert expert.totp_secret is None and len(_audit(db, AuditAction.DISABLE_TWO_FACTOR)) == 1
    assert location(password_step(app.test_client(), "expert")) == "/home"


def test_a_peer_expert_may_not_turn_off_what_the_platform_requires(app, factory, db):
    expert = factory.user("expert", Role.PEER_EXPERT)
    enrol(expert)
    platform_settings.put("require_two_factor_peer_experts", True, None)
    db.session.commit()
    http = signed_in(app, expert, "expert")
    assert "Turn off" not in http.get(MANAGE).get_data(as_text=True)
    token = csrf_token(http, MANAGE)
    refused = http.post(f"{MANAGE}/off", data={"csrf_token": token, "off-code": next_code(expert)})
    assert refused.status_code == 400 and "required for your account" in refused.get_data(as_text=True)
    db.session.refresh(expert)
    assert expert.totp_enabled_at is not None


def test_participants_have_no_two_factor_pages(app, factory, db):
    factory.user("alice")
    http = app.test_client()
    password_step(http, "alice")
    assert "Two-factor" not in http.get("/account/settings").get_data(as_text=True)
    assert http.get(MANAGE).status_code == 403 and http.get(SETUP).status_code == 403
    assert location(http.get(SECOND_STEP)) == "/home"  # the second step sends a signed-in participant on


def test_a_password_change_keeps_this_session_signed_in_and_ends_the_others(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    here, elsewhere = signed_in(app, coordinator, "coord"), signed_in(app, coordinator, "coord")
    token = csrf_token(here, "/account/password")
    new_password = "another long passphrase 7"
    changed = here.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": DEFAULT_PASSWORD,
            "password": new_password,
            "confirm": new_password,
        },
    )
    assert location(changed) == "/home"
    assert here.get("/home").status_code == 200  # not asked for a code again
    assert location(elsewhere.get("/home")).startswith("/login")


def test_turning_it_off_leaves_no_pass_for_a_requirement_that_comes_later(app, factory, db):
    expert = factory.user("expert", Role.PEER_EXPERT)
    enrol(expert)
    http = signed_in(app, expert, "expert")
    token = csrf_token(http, MANAGE)
    assert location(http.post(f"{MANAGE}/off", data={"csrf_token": token, "off-code": next_code(expert)})) == MANAGE
    platform_settings.put("require_two_factor_peer_experts", True, None)
    db.session.commit()
    assert location(http.get("/home")) == SETUP  # this very session is asked to set it up
