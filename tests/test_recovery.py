"""Getting back in without e-mail (#15): recovery codes at registration and in the settings, "Forgot password?"
with a recovery code or a reset code, its one generic error, its rate limits, and erasure."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from supportgroup.audit import AuditAction
from supportgroup.auth import codes
from supportgroup.groups import invites
from supportgroup.models import AccountCode, CodeKind, ModerationAction, Role, User, utcnow
from tests.conftest import DEFAULT_PASSWORD, AuthActions, csrf_token

NEW_PASSWORD = "a fresh passphrase 2024"
CODE_RE = re.compile(r"<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>")
REFUSED = "The username or the code is not correct, or the code can no longer be used."


@pytest.fixture
def app_overrides(request):
    return getattr(request, "param", {})


def limits(per_address: str, per_username: str):
    """Run the test with these recovery limits (per address, per username at an address)."""
    overrides = {"RECOVERY_RATE_LIMIT": per_address, "RECOVERY_USER_RATE_LIMIT": per_username}
    return pytest.mark.parametrize("app_overrides", [overrides], indirect=True)


def register_form(client, username: str, query: str = "") -> dict:
    token = csrf_token(client, f"/register{query}")
    return {"csrf_token": token, "username": username, "password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD}


def register(client, username: str, query: str = ""):
    return client.post(f"/register{query}", data=register_form(client, username, query))


def shown_codes(response) -> list[str]:
    return CODE_RE.findall(response.get_data(as_text=True))


def recover(client, username: str, code: str, password: str = NEW_PASSWORD, confirm: str | None = None, query=""):
    token = csrf_token(client, f"/account/recover{query}")
    data = {"csrf_token": token, "username": username, "code": code, "password": password}
    data["confirm"] = password if confirm is None else confirm
    return client.post(f"/account/recover{query}", data=data)


def audit_rows(db, action: AuditAction) -> list[ModerationAction]:
    db.session.expire_all()
    return list(db.session.scalars(select(ModerationAction).where(ModerationAction.action == action)))


def user_named(db, username: str) -> User:
    db.session.expire_all()
    return db.session.scalars(select(User).where(User.username == username)).one()


def error_text(response) -> str:
    """The page without what differs from request to request (the CSRF token), for comparing two refusals."""
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", response.get_data(as_text=True))


# --- registration -----------------------------------------------------------------------------------------


def test_the_register_page_explains_recovery_codes_before_the_account_is_made(client):
    english = client.get("/register?lang=en").get_data(as_text=True)
    assert 'id="recovery-explained"' in english
    assert "cannot send you a new password by e-mail" in english and "ten recovery codes" in english
    assert "nobody who checks your phone would find them" in english
    dutch = client.get("/register?lang=nl").get_data(as_text=True)
    assert "tien herstelcodes" in dutch and "niemand die je telefoon bekijkt" in dutch


def test_registration_shows_ten_codes_once_stored_only_as_hashes(app, client, db):
    form = register_form(client, "Quiet_Reader")
    response = client.post("/register", data=form)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    issued = shown_codes(response)
    assert len(issued) == 10 and len(set(issued)) == 10
    page = response.get_data(as_text=True)
    assert "Welcome. Your account is ready." in page and 'id="code-list-username">quiet_reader<' in page
    assert re.search(r'id="codes-saved" href="/home"', page)  # "I have saved them, continue"
    user = user_named(db, "quiet_reader")
    stored = db.session.scalars(select(AccountCode.code_hash).where(AccountCode.user_id == user.id)).all()
    assert len(stored) == 10
    assert not any(code in h or codes.normalise(code) in h for code in issued for h in stored)
    # Never in the session cookie (Flask's is signed, not encrypted): decode it and look.
    cookie = client.get_cookie("sg_session").value
    session_data = app.session_interface.get_signing_serializer(app).loads(cookie)
    assert not any(code in str(session_data) or codes.normalise(code) in str(session_data) for code in issued)
    # A reload sends the same form again: no codes, no second account, but the way to new codes.
    again = client.post("/register", data=form)
    assert again.status_code == 302 and again.headers["Location"] == "/account/recovery-codes?next=/home"
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "We show recovery codes only once. If you did not save them all, make new ones here." in page
    assert "You have 10 recovery codes left." in page and not shown_codes(client.get(again.headers["Location"]))
    for path in ("/register", "/home", "/account/settings", "/account/recovery-codes"):
        assert not shown_codes(client.get(path, follow_redirects=True)), path
    assert db.session.query(User).count() == 1
    (entry,) = audit_rows(db, AuditAction.NEW_RECOVERY_CODES)
    assert entry.actor_user_id == user.id and entry.target_id == str(user.id) and entry.reason == "registration"
    assert not any(code in entry.reason for code in issued)


def test_an_invite_survives_registration_with_the_codes_page_in_between(client, factory, db):
    group = factory.group("Thursday evening group")
    invite = invites.create_invite(group, factory.user("coord", Role.COORDINATOR), None, None)
    db.session.commit()
    link = f"/groups/join/{invite.code}"
    response = register(client, "new_person", f"?next={quote(link, safe='')}")
    assert response.status_code == 200 and len(shown_codes(response)) == 10
    assert f'id="codes-saved" href="{link}"' in response.get_data(as_text=True)
    assert "Thursday evening group" in client.get(link).get_data(as_text=True)


# --- spending codes ---------------------------------------------------------------------------------------


@limits("100 per minute", "100 per minute")
def test_each_code_works_once_and_when_all_ten_are_spent_the_settings_say_so(app, client, db):
    issued = shown_codes(register(client, "forgetful"))
    for n, code in enumerate(issued):
        http = app.test_client()
        password = f"passphrase number {n:02d}"
        done = recover(http, "FORGETFUL", code.lower().replace("-", " "), password)  # typing is forgiving
        assert done.status_code == 302, n
        assert done.headers["Location"] == "/account/recovery-codes?next=/home"
        assert recover(app.test_client(), "forgetful", code, "yet another passphrase").status_code == 200
        assert AuthActions(app.test_client()).login("forgetful", password).status_code == 302
        left = http.get(done.headers["Location"]).get_data(as_text=True)
        if n < 9:
            assert f"You have {9 - n} recovery code" in left
    assert "You have no recovery codes left." in left and 'id="few-codes"' in left
    assert 'href="/home" id="continue"' in left  # the way on, without new codes
    settings = http.get("/account/settings").get_data(as_text=True)
    assert "You have no recovery codes left." in settings and 'id="few-codes"' in settings
    assert 'href="/account/recovery-codes"' in settings
    user = user_named(db, "forgetful")
    assert codes.remaining(user, CodeKind.RECOVERY) == 0
    entries = audit_rows(db, AuditAction.RESET_PASSWORD)
    assert len(entries) == 10
    assert all(e.actor_user_id == user.id and e.target_id == str(user.id) for e in entries)
    assert {e.reason for e in entries} == {"recovery code"}


def test_settings_say_how_many_codes_are_left_and_warn_when_few(client, auth, factory, db):
    user = factory.user("counter")
    issued = codes.issue(user, CodeKind.RECOVERY)
    db.session.commit()
    auth.login("counter")
    page = client.get("/account/settings").get_data(as_text=True)
    assert "You have 10 recovery codes left." in page and 'id="few-codes"' not in page
    for code in issued[:7]:
        codes.spend(user, CodeKind.RECOVERY, code)
    db.session.commit()
    page = client.get("/account/settings").get_data(as_text=True)
    assert "You have 3 recovery codes left." in page and 'id="few-codes"' in page
    codes.spend(user, CodeKind.RECOVERY, issued[7])
    codes.spend(user, CodeKind.RECOVERY, issued[8])
    db.session.commit()
    assert "You have 1 recovery code left." in client.get("/account/settings?lang=en").get_data(as_text=True)
    assert "Je hebt nog 1 herstelcode." in client.get("/account/settings?lang=nl").get_data(as_text=True)


def test_new_codes_need_the_password_and_void_the_old_ones(app, client, auth, factory, db):
    user = factory.user("renewer")
    old = codes.issue(user, CodeKind.RECOVERY)
    db.session.commit()
    auth.login("renewer")
    page = client.get("/account/recovery-codes").get_data(as_text=True)
    assert "You have 10 recovery codes left." in page
    token = csrf_token(client, "/account/recovery-codes")
    refused = client.post("/account/recovery-codes", data={"csrf_token": token, "password": "not my password"})
    assert refused.status_code == 400 and "The password is not correct." in refused.get_data(as_text=True)
    assert not shown_codes(refused) and not audit_rows(db, AuditAction.NEW_RECOVERY_CODES)
    made = client.post("/account/recovery-codes", data={"csrf_token": token, "password": DEFAULT_PASSWORD})
    new = shown_codes(made)
    assert made.status_code == 200 and len(new) == 10 and not set(new) & set(old)
    assert "Your old codes no longer work." in made.get_data(as_text=True)
    assert 'id="codes-saved" href="/account/settings"' in made.get_data(as_text=True)
    assert not shown_codes(client.get("/account/recovery-codes"))  # shown once
    (entry,) = audit_rows(db, AuditAction.NEW_RECOVERY_CODES)
    assert entry.actor_user_id == user.id and entry.reason == "settings"
    assert recover(app.test_client(), "renewer", old[0]).status_code == 200
    assert recover(app.test_client(), "renewer", new[0]).status_code == 302


def test_staff_keep_no_recovery_codes_here(login_client, factory):
    factory.user("coordinator1", Role.COORDINATOR)
    http = login_client("coordinator1")
    assert "Recovery codes" not in http.get("/account/settings").get_data(as_text=True)
    assert http.get("/account/recovery-codes").status_code == 403


# --- reset codes from an admin or a coordinator -----------------------------------------------------------


def test_a_reset_code_works_once_within_24_hours(app, factory, db):
    user = factory.user("handed", Role.PEER_EXPERT)
    (expired,) = codes.issue(user, CodeKind.RESET, now=utcnow() - timedelta(hours=24, seconds=1))
    db.session.commit()
    assert recover(app.test_client(), "handed", expired).status_code == 200
    (code,) = codes.issue(user, CodeKind.RESET, now=utcnow() - timedelta(hours=23, minutes=59))
    db.session.commit()
    assert recover(app.test_client(), "handed", "ZZZZ-ZZZZ-ZZZZ").status_code == 200
    http = app.test_client()
    done = recover(http, "handed", code)
    # Staff keep no recovery codes: they go where they were going (their second factor, when it applies, first).
    assert done.status_code == 302 and done.headers["Location"] == "/home"
    assert http.get("/home").status_code == 200
    assert recover(app.test_client(), "handed", code, "another passphrase 99").status_code == 200  # used
    assert AuthActions(app.test_client()).login("handed", NEW_PASSWORD).status_code == 302
    (entry,) = audit_rows(db, AuditAction.RESET_PASSWORD)
    assert entry.actor_user_id == user.id and entry.reason == "reset code"


def test_a_participant_who_used_a_reset_code_is_offered_new_recovery_codes(app, factory, db):
    user = factory.user("offered")
    (code,) = codes.issue(user, CodeKind.RESET)
    db.session.commit()
    http = app.test_client()
    done = recover(http, "offered", code, query="?next=/groups/join")
    assert done.headers["Location"] == "/account/recovery-codes?next=/groups/join"
    page = http.get(done.headers["Location"]).get_data(as_text=True)
    assert "You used a reset code. Make new recovery codes now" in page
    assert "Your new password is set. Every other device has been logged out." in page
    assert "You have no recovery codes left." in page and 'href="/groups/join" id="continue"' in page


# --- what a recovery ends, and what it refuses ------------------------------------------------------------


def test_recovery_ends_every_other_session_and_socket(app, factory, socket_client, db):
    user = factory.user("alice")
    issued = codes.issue(user, CodeKind.RECOVERY)
    db.session.commit()
    sio = socket_client("alice")
    other_device = sio.flask_test_client
    assert sio.is_connected() and other_device.get("/home").status_code == 200
    http = app.test_client()
    assert recover(http, "alice", issued[0]).status_code == 302
    assert not sio.is_connected()
    assert other_device.get("/home").status_code == 302  # logged out
    assert http.get("/home").status_code == 200  # the one who recovered is logged in
    assert AuthActions(app.test_client()).login("alice").status_code == 200  # the old password is gone
    assert AuthActions(app.test_client()).login("alice", NEW_PASSWORD).status_code == 302


def test_one_generic_error_for_every_refusal_and_nothing_typed_is_lost_but_the_code(app, factory, db):
    user = factory.user("bob")
    issued = codes.issue(user, CodeKind.RECOVERY)
    (stale,) = codes.issue(user, CodeKind.RESET, now=utcnow() - timedelta(days=2))
    disabled = factory.user("carol")
    (carols,) = codes.issue(disabled, CodeKind.RESET)
    disabled.is_enabled = False
    db.session.commit()
    assert recover(app.test_client(), "bob", issued[0]).status_code == 302
    attempts = {
        "unknown user": ("nobody-here", issued[1]),
        "wrong code": ("bob", "QRST-VWXY-6789"),
        "used code": ("bob", issued[0]),
        "expired code": ("bob", stale),
        "someone else's code": ("carol", issued[1]),
        "disabled account": ("carol", carols),
    }
    pages = {}
    for what, (username, code) in attempts.items():
        response = recover(app.test_client(), username, code, "another passphrase 12")
        assert response.status_code == 200, what
        page = error_text(response)
        assert REFUSED in page, what
        assert f'value="{username}"' in page and code not in page, what  # the username stays, the code goes
        pages[what] = page.replace(f'value="{username}"', "")
    assert len(set(pages.values())) == 1, "the refusals differ"
    assert codes.remaining(user_named(db, "bob"), CodeKind.RECOVERY) == 9  # nothing else was spent


def test_a_refused_new_password_spends_no_code(app, factory, db):
    user = factory.user("dave")
    issued = codes.issue(user, CodeKind.RECOVERY)
    db.session.commit()
    short = recover(app.test_client(), "dave", issued[0], "short")
    assert short.status_code == 200 and "Use between 10 and 128 characters." in short.get_data(as_text=True)
    assert issued[0] in short.get_data(as_text=True)  # the code was fine: it stays in the form
    mismatch = recover(app.test_client(), "dave", issued[0], NEW_PASSWORD, "something else entirely")
    assert "The passwords do not match." in mismatch.get_data(as_text=True)
    assert codes.remaining(user_named(db, "dave"), CodeKind.RECOVERY) == 10
    assert recover(app.test_client(), "dave", issued[0]).status_code == 302


def test_the_login_page_links_to_recovery_with_the_invite_on(client):
    page = client.get("/login?next=/groups/join/abc").get_data(as_text=True)
    assert 'id="forgot-password" href="/account/recover?next=/groups/join/abc"' in page
    recover_page = client.get("/account/recover?next=/groups/join/abc").get_data(as_text=True)
    assert 'href="/login?next=/groups/join/abc"' in recover_page
    assert "a coordinator can give you a reset code" in recover_page  # no dead end without codes
    assert "Wachtwoord vergeten?" in client.get("/account/recover?lang=nl").get_data(as_text=True)


# --- rate limits: failures only, per address and per username at an address -----------------------------


def _from(app, address: str):
    http = app.test_client()
    http.environ_base["REMOTE_ADDR"] = address
    return http


@limits("3 per minute", "100 per minute")
def test_recovery_is_rate_limited_per_address(app, factory):
    factory.user("erin")
    statuses = [recover(_from(app, "10.0.0.5"), f"name{n}", "ABCD-EFGH-2345").status_code for n in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert "Too many attempts" in recover(_from(app, "10.0.0.5"), "erin", "ABCD-EFGH-2345").get_data(as_text=True)
    assert recover(_from(app, "10.0.0.6"), "erin", "ABCD-EFGH-2345").status_code == 200  # another address


@limits("100 per minute", "2 per minute")
def test_recovery_is_rate_limited_per_username_without_locking_the_person_out(app, factory, db):
    user = factory.user("frank")
    issued = codes.issue(user, CodeKind.RECOVERY)
    db.session.commit()
    attacker = "10.0.0.66"
    statuses = [recover(_from(app, attacker), "frank", "ABCD-EFGH-2345").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert recover(_from(app, attacker), "someone-else", "ABCD-EFGH-2345").status_code == 200  # other names pass
    # Frank, from his own address, still gets back in.
    assert recover(_from(app, "10.0.0.7"), "frank", issued[0]).status_code == 302


@limits("2 per minute", "2 per minute")
def test_successful_recoveries_do_not_count_against_the_limits(app, factory, db):
    user = factory.user("gina")
    issued = codes.issue(user, CodeKind.RECOVERY)
    db.session.commit()
    for n in range(4):
        assert recover(_from(app, "10.0.0.8"), "gina", issued[n], f"passphrase number {n:02d}").status_code == 302


# --- erasure ----------------------------------------------------------------------------------------------


def test_erasing_the_account_removes_its_codes(app, login_client, factory, db):
    user = factory.user("leaver")
    keeper = factory.user("keeper")
    codes.issue(user, CodeKind.RECOVERY)
    codes.issue(user, CodeKind.RESET)
    codes.issue(keeper, CodeKind.RECOVERY)
    db.session.commit()
    user_id = user.id
    http = login_client("leaver")
    token = csrf_token(http, "/account/erase")
    erased = http.post("/account/erase", data={"csrf_token": token, "password": DEFAULT_PASSWORD, "confirm": "y"})
    assert erased.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.id == user_id)) is None
    assert not db.session.scalars(select(AccountCode).where(AccountCode.user_id == user_id)).all()
    assert db.session.query(AccountCode).count() == 10  # the other account's codes stay
