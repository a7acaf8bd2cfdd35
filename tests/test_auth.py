"""Accounts: register, log in, log out, change password, and their refusals."""

import pytest

from supportgroup.models import Role, User
from tests.conftest import DEFAULT_PASSWORD, AuthActions, csrf_token


def register(client, username, password=DEFAULT_PASSWORD, confirm=None):
    token = csrf_token(client, "/register")
    return client.post(
        "/register",
        data={
            "csrf_token": token,
            "username": username,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def test_register_with_username_and_password_only(client, db):
    response = register(client, "Quiet_Reader")
    # The recovery codes, shown once (tests/test_recovery.py), then on to the dashboard.
    assert response.status_code == 200 and 'id="codes-saved" href="/home"' in response.get_data(as_text=True)
    user = db.session.query(User).one()
    assert user.username == "quiet_reader" and user.role == Role.PARTICIPANT
    assert user.password_hash.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in user.password_hash
    assert client.get("/home").status_code == 200  # logged in straight away


@pytest.mark.parametrize(
    "username,password,confirm,error",
    [
        ("ab", DEFAULT_PASSWORD, None, "3 to 32"),
        ("has space", DEFAULT_PASSWORD, None, "letters, digits"),
        ("bob", "short", None, "10"),
        ("bob", DEFAULT_PASSWORD, "something else", "do not match"),
        ("carol", "carol-is-my-password", None, "must not contain your username"),
    ],
)
def test_register_refuses_bad_input_and_saves_nothing(client, db, username, password, confirm, error):
    response = register(client, username, password, confirm)
    assert response.status_code == 400  # refused: the form again, with its errors
    assert error in response.get_data(as_text=True)
    assert db.session.query(User).count() == 0


def test_register_refuses_a_taken_username_in_any_case(client, factory, db):
    factory.user("heron")
    response = register(client, "HERON")
    assert "taken" in response.get_data(as_text=True)
    assert db.session.query(User).count() == 1


def test_register_without_csrf_token_is_refused(client, db):
    response = client.post(
        "/register", data={"username": "x" * 5, "password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD}
    )
    assert response.status_code == 400
    assert "Please try again." in response.get_data(as_text=True)
    assert db.session.query(User).count() == 0


def test_login_form_has_the_documented_fields(client):
    html = client.get("/login").get_data(as_text=True)
    for name in ('name="username"', 'name="password"', 'name="csrf_token"'):
        assert name in html
    assert 'name="remember" type="checkbox" value="y"' in html and "checked" not in html


def test_login_succeeds_and_starts_a_new_session(client, auth, factory):
    factory.user("alice")
    client.get("/login")
    with client.session_transaction() as before_login:
        before_login["planted"] = "by someone who had the device before"
    response = auth.login("alice")
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    with client.session_transaction() as after_login:
        assert "planted" not in after_login  # nothing carried over into the new session
    assert client.get_cookie("remember_token") is None  # remember-me is off unless asked for
    assert client.get("/home").status_code == 200


def test_login_cookie_is_httponly_and_samesite(client, auth, factory):
    factory.user("alice")
    response = auth.login("alice")
    cookie = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("sg_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Expires" not in cookie  # the session ends with the browser


def test_wrong_password_and_unknown_user_get_the_same_answer(client, auth, factory):
    factory.user("alice")
    wrong_password = auth.login("alice", "not the password at all")
    unknown_user = auth.login("nobody-here", "not the password at all")
    assert wrong_password.status_code == unknown_user.status_code == 200
    message = "The username or password is not correct."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_user.get_data(as_text=True)
    assert client.get("/home").status_code == 302


def test_disabled_account_cannot_log_in(client, auth, factory, db):
    user = factory.user("alice")
    user.is_enabled = False
    db.session.commit()
    assert auth.login("alice").status_code == 200
    assert client.get("/home").status_code == 302


@pytest.mark.parametrize(
    "target,expected",
    [
        ("/meetings/1", "/meetings/1"),
        ("/groups/?x=1", "/groups/?x=1"),
        ("https://evil.example/phish", "/home"),
        ("//evil.example/phish", "/home"),
        ("/\\evil.example", "/home"),
        ("javascript:alert(1)", "/home"),
    ],
)
def test_next_redirect_is_only_followed_within_the_site(client, auth, factory, target, expected):
    factory.user("alice")
    from urllib.parse import quote

    response = auth.login("alice", query=f"?next={quote(target, safe='')}")
    assert response.headers["Location"] == expected


@pytest.fixture
def app_overrides(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_overrides", [{"LOGIN_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_login_is_rate_limited(client, auth, factory):
    factory.user("alice")
    codes = [auth.login("alice", "wrong password!").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert "Too many attempts" in auth.login("alice").get_data(as_text=True)


@pytest.mark.parametrize("app_overrides", [{"LOGIN_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_someone_else_cannot_lock_a_person_out(app, factory):
    """An abuser who knows the username and fails from elsewhere does not block the person's own login."""
    factory.user("alice")
    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "10.0.0.66"
    codes = [AuthActions(attacker).login("alice", "wrong password!").status_code for _ in range(4)]
    assert codes[-1] == 429
    victim = app.test_client()
    victim.environ_base["REMOTE_ADDR"] = "10.0.0.7"
    assert AuthActions(victim).login("alice").status_code == 302


@pytest.mark.parametrize("app_overrides", [{"LOGIN_RATE_LIMIT": "2 per minute"}], indirect=True)
def test_successful_logins_do_not_count_against_the_limit(app, factory):
    factory.user("alice")
    for _ in range(4):
        http = app.test_client()
        assert AuthActions(http).login("alice").status_code == 302


def test_logout_ends_the_session_even_for_a_copied_cookie(client, auth, factory):
    factory.user("alice")
    auth.login("alice")
    stolen = client.get_cookie("sg_session").value
    assert auth.logout().status_code == 302
    assert client.get("/home").status_code == 302
    client.set_cookie("sg_session", stolen)  # replaying the old cookie does not log in again
    assert client.get("/home").status_code == 302


def test_logout_requires_post_with_csrf(client, auth, factory):
    factory.user("alice")
    auth.login("alice")
    assert client.get("/logout").status_code == 405
    # Without the token the request is refused: another site cannot log a person out.
    assert client.post("/logout", data={}).status_code == 400
    assert client.get("/home").status_code == 200


def change_password(client, current, new, confirm=None):
    token = csrf_token(client, "/account/password")
    return client.post(
        "/account/password",
        data={"csrf_token": token, "current_password": current, "password": new, "confirm": confirm or new},
    )


def test_change_password_logs_out_other_sessions(app, client, auth, factory, db):
    factory.user("alice")
    auth.login("alice")
    other_device = app.test_client()
    AuthActions(other_device).login("alice")
    response = change_password(client, DEFAULT_PASSWORD, "a brand new passphrase")
    assert response.status_code == 302
    assert client.get("/home").status_code == 200  # this device stays logged in
    assert other_device.get("/home").status_code == 302  # the other one is logged out
    auth.logout()
    assert auth.login("alice").status_code == 200  # the old password no longer works
    assert auth.login("alice", "a brand new passphrase").status_code == 302


def test_change_password_refuses_a_wrong_current_password(client, auth, factory, db):
    user = factory.user("alice")
    old_hash = user.password_hash
    auth.login("alice")
    response = change_password(client, "not my password", "a brand new passphrase")
    assert "current password is not correct" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.password_hash == old_hash


def test_change_password_refuses_a_short_new_password(client, auth, factory):
    factory.user("alice")
    auth.login("alice")
    response = change_password(client, DEFAULT_PASSWORD, "short")
    assert response.status_code == 200 and "10" in response.get_data(as_text=True)


@pytest.mark.parametrize("app_overrides", [{"IDLE_TIMEOUT_MINUTES": 0}], indirect=True)
def test_idle_session_ends(client, auth, factory, monkeypatch):
    from supportgroup.realtime import activity as idle

    factory.user("alice")
    auth.login("alice")
    later = idle.clock() + 2
    monkeypatch.setattr(idle, "clock", lambda: later)
    response = client.get("/home")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_security_headers_on_pages(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_no_inline_script_in_pages(client, auth, factory):
    factory.user("alice")
    auth.login("alice")
    for path in ("/login", "/home"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>" not in html and "onclick=" not in html


@pytest.mark.parametrize("app_overrides", [{"IDLE_TIMEOUT_MINUTES": 0}], indirect=True)
def test_remember_me_with_idle_timeout_does_not_lock_out(app, factory, monkeypatch):
    """A remembered login that goes idle ends cleanly; the login page stays reachable."""
    from supportgroup.realtime import activity as idle

    factory.user("alice")
    http = app.test_client()
    assert AuthActions(http).login("alice", remember="y").status_code == 302
    assert http.get_cookie("remember_token") is not None
    later = idle.clock() + 2
    monkeypatch.setattr(idle, "clock", lambda: later)
    first = http.get("/home")
    assert first.status_code == 302 and first.headers["Location"].startswith("/login")
    assert http.get_cookie("remember_token") is None  # deleted with the idle logout
    assert http.get("/login").status_code == 200


def test_remembered_login_survives_a_browser_restart(app, factory):
    factory.user("alice")
    http = app.test_client()
    AuthActions(http).login("alice", remember="y")
    http.delete_cookie("sg_session")  # the browser was closed: the session cookie is gone
    assert http.get("/home").status_code == 200


def test_peer_expert_needs_a_first_name(db):
    from supportgroup.auth.services import create_user
    from supportgroup.errors import DomainError

    with pytest.raises(DomainError) as error:
        create_user("noor", DEFAULT_PASSWORD, Role.PEER_EXPERT)
    assert error.value.field == "first_name"


def test_settings_change_timezone_and_language(client, auth, factory, db):
    user = factory.user("alice")
    auth.login("alice")
    token = csrf_token(client, "/account/settings")
    bad = client.post("/account/settings", data={"csrf_token": token, "timezone": "Mars/Base", "locale": "nl"})
    assert bad.status_code == 400 and "Unknown timezone" in bad.get_data(as_text=True)
    db.session.refresh(user)
    assert user.timezone == "Europe/Amsterdam" and user.locale is None
    good = client.post("/account/settings", data={"csrf_token": token, "timezone": "America/New_York", "locale": "nl"})
    assert good.status_code == 302
    db.session.refresh(user)
    assert (user.timezone, user.locale) == ("America/New_York", "nl")
    assert '<html lang="nl">' in client.get("/home").get_data(as_text=True)
