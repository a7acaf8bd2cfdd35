"""Two-factor sign-in: logging in with a code, codes once, drift, the rate limit, backup codes, enrolment, who is
asked, the remember cookie, and the configurations."""

from __future__ import annotations

import time

import pyotp
import pytest

from config import DevelopmentConfig, ProductionConfig, TestingConfig
from supportgroup import platform_settings
from supportgroup.audit import AuditAction
from supportgroup.auth import codes, totp
from supportgroup.models import CodeKind, ModerationAction, Role
from tests.conftest import AuthActions, csrf_token
from tests.two_factor_helpers import (
    ON,
    SECOND_STEP,
    SETUP,
    enrol,
    give_code,
    location,
    next_code,
    password_step,
    totp_clock,  # noqa: F401  (autouse: codes are checked against a clock the tests move on)
)

WRONG = "That code is not correct."


@pytest.fixture
def app_overrides(request):
    return getattr(request, "param", ON)


def test_a_coordinator_logs_in_with_password_and_code(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    http = app.test_client()
    assert location(password_step(http, "coord", query="?next=/groups/")) == SECOND_STEP
    assert location(http.get("/home")) == SECOND_STEP  # nothing of the account before the code
    page = http.get(SECOND_STEP).get_data(as_text=True)
    assert 'autocomplete="one-time-code"' in page and "Manage groups" not in page  # the menu waits too
    done = give_code(http, next_code(coordinator))
    assert location(done) == "/groups/"  # the `next` of the login survives the second step
    assert http.get("/home").status_code == 200


def test_a_code_is_accepted_once_and_a_wrong_one_never(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    http = app.test_client()
    password_step(http, "coord")
    wrong = give_code(http, "000000" if next_code(coordinator) != "000000" else "111111")
    assert wrong.status_code == 400 and WRONG in wrong.get_data(as_text=True)
    code = next_code(coordinator)
    assert give_code(http, code).status_code == 302
    AuthActions(http).logout()
    password_step(http, "coord")
    again = give_code(http, code)  # the same code, a minute later or at once: spent (RFC 6238 §5.2)
    assert again.status_code == 400 and WRONG in again.get_data(as_text=True)
    assert location(http.get("/home")) == SECOND_STEP


def test_one_step_of_clock_drift_either_way_and_no_more(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    db.session.refresh(coordinator)
    app_totp = pyotp.TOTP(coordinator.totp_secret)
    now = time.time() + 3600  # steps after the one enrolment used
    assert totp.verify(coordinator, app_totp.at(now - 60), now=now) is None  # two steps slow
    assert totp.verify(coordinator, app_totp.at(now + 60), now=now) is None  # two steps fast
    assert totp.verify(coordinator, "12345", now=now) is None and totp.verify(coordinator, "abcdef", now=now) is None
    assert totp.verify(coordinator, app_totp.at(now - 30), now=now) == "totp"  # one step slow
    assert totp.verify(coordinator, app_totp.at(now - 30), now=now) is None  # once
    assert totp.verify(coordinator, app_totp.at(now), now=now) == "totp"
    assert totp.verify(coordinator, app_totp.at(now + 30), now=now) == "totp"  # one step fast
    assert totp.verify(coordinator, app_totp.at(now), now=now) is None  # an earlier step than the last accepted
    db.session.refresh(coordinator)
    assert coordinator.totp_last_step == app_totp.timecode(now) + 1


def test_wrong_codes_are_rate_limited_per_account_whatever_the_address(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    http = app.test_client()
    password_step(http, "coord")
    right = next_code(coordinator)
    wrong = "000000" if right != "000000" else "111111"
    statuses = [give_code(http, wrong).status_code for _ in range(5)]
    assert statuses == [400] * 5
    assert give_code(http, right).status_code == 429  # limited: even the right code waits
    # The same account from another address: the per-account limit holds (only a password holder gets here).
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "203.0.113.9"
    password_step(other, "coord")
    assert give_code(other, right).status_code == 429


def test_right_codes_do_not_count_against_the_limit(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    http = app.test_client()
    for _ in range(7):
        password_step(http, "coord")
        assert give_code(http, next_code(coordinator)).status_code == 302
        AuthActions(http).logout()


def test_each_backup_code_works_once(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    backup = enrol(coordinator)
    assert len(backup) == 10 and len(set(backup)) == 10
    http = app.test_client()
    password_step(http, "coord")
    used = give_code(http, backup[0].lower().replace("-", " "))  # typed loosely: still the code
    assert used.status_code == 302
    assert "9 backup codes are left" in http.get(location(used)).get_data(as_text=True)
    AuthActions(http).logout()
    password_step(http, "coord")
    assert WRONG in give_code(http, backup[0]).get_data(as_text=True)
    assert give_code(http, backup[1]).status_code == 302
    assert codes.remaining(coordinator, CodeKind.BACKUP) == 8


def test_a_coordinator_without_a_second_factor_enrols_at_the_first_login(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    http = app.test_client()
    assert location(password_step(http, "coord")) == SETUP
    assert location(http.get("/groups/")) == SETUP
    page = http.get(SETUP)
    html = page.get_data(as_text=True)
    db.session.refresh(coordinator)
    secret = coordinator.totp_secret
    assert secret and coordinator.totp_enabled_at is None  # an enrolment under way, on the server only
    assert totp.grouped(secret) in html  # the key as text, in groups of four
    assert '<svg viewBox="0 0 ' in html and 'class="qr"' in html  # the QR code, inline
    assert "http://" not in html.split('class="qr"')[1].split("</svg>")[0]  # nothing loaded from elsewhere
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]
    assert secret not in (http.get_cookie("sg_session").value)  # the session cookie is readable: not there
    assert http.get(SETUP).get_data(as_text=True).count(totp.grouped(secret)) == 1  # a reload keeps the secret
    token = csrf_token(http, SETUP)
    refused = http.post(SETUP, data={"csrf_token": token, "code": "12345x"})
    assert refused.status_code == 400 and WRONG in refused.get_data(as_text=True)
    done = http.post(SETUP, data={"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    shown = done.get_data(as_text=True)
    assert done.status_code == 200 and "This is the only time you see them." in shown
    assert shown.count("<li><code>") == 10
    assert http.get("/home").status_code == 200  # the confirming code counts as the second step
    audit = db.session.query(ModerationAction).filter_by(action=AuditAction.ENROL_TWO_FACTOR).one()
    assert (audit.actor_user_id, audit.target_id) == (coordinator.id, str(coordinator.id))
    assert audit.actor_role == "coordinator"
    assert secret not in audit.reason


def test_peer_experts_are_asked_only_when_required_or_enrolled(app, factory, db):
    expert = factory.user("expert", Role.PEER_EXPERT)
    participant = factory.user("alice")
    assert location(password_step(app.test_client(), "expert")) == "/home"
    platform_settings.put("require_two_factor_peer_experts", True, None)
    db.session.commit()
    assert location(password_step(app.test_client(), "expert")) == SETUP
    assert location(password_step(app.test_client(), "alice")) == "/home"  # participants never
    platform_settings.put("require_two_factor_peer_experts", None, None)
    enrol(expert)  # by choice
    assert location(password_step(app.test_client(), "expert")) == SECOND_STEP
    participant.totp_secret = pyotp.random_base32()  # even a stray secret asks a participant nothing
    db.session.commit()
    assert location(password_step(app.test_client(), "alice")) == "/home"


def test_keep_me_logged_in_does_not_skip_the_code(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    http = app.test_client()
    password_step(http, "coord", remember="y")
    assert http.get_cookie("remember_token") is None  # not before the code
    assert give_code(http, next_code(coordinator)).status_code == 302
    assert http.get_cookie("remember_token") is not None
    http.delete_cookie("sg_session")  # the browser was closed; the remember cookie restores the login
    assert location(http.get("/groups/")) == SECOND_STEP
    assert location(give_code(http, next_code(coordinator))) == "/groups/"  # back where the restored session was
    assert http.get("/home").status_code == 200
    http.delete_cookie("sg_session")
    foreign = http.get("/", environ_overrides={"PATH_INFO": "//evil.example/x"})  # a path a browser reads as a site
    assert location(foreign) == SECOND_STEP
    after = location(give_code(http, next_code(coordinator)))
    assert after.startswith("/") and not after.startswith("//")  # never to another site after it


def test_deferred_two_factor_is_for_development_only():
    assert ProductionConfig.TWO_FACTOR_DEFERRED is False
    assert TestingConfig.TWO_FACTOR_DEFERRED is True  # the suite's other tests log staff in by password
    assert isinstance(DevelopmentConfig.TWO_FACTOR_DEFERRED, bool)


@pytest.mark.parametrize("app_overrides", [{"TWO_FACTOR_DEFERRED": True}], indirect=True)
def test_deferred_lets_staff_in_with_the_password(app, factory):
    factory.user("coord", Role.COORDINATOR)
    assert location(password_step(app.test_client(), "coord")) == "/home"


def test_the_demo_coordinator_enrols_when_not_deferred(app, runner, db):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    http = app.test_client()
    assert location(password_step(http, "coordinator", app.config["DEMO_PASSWORD"])) == SETUP
