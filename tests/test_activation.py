"""Activation links (issue #15): a new staff member sets their own first password with the link an admin handed
them. Valid once, for 72 hours; a used, expired, replaced or wrong link gets one clear page; a refused password
leaves the link working; failed attempts are rate-limited like logins."""

from __future__ import annotations

from datetime import timedelta

import pytest

from supportgroup.audit import AuditAction
from supportgroup.auth import accounts, issued_codes
from supportgroup.errors import DomainError
from supportgroup.extensions import db
from supportgroup.models import Role, User
from supportgroup.models.types import utcnow
from tests.account_helpers import audit_rows, reload, token_from

PASSWORD = "a long enough passphrase 42"
DEAD = "This link no longer works"


@pytest.fixture
def admin(factory) -> User:
    return factory.user("root", Role.ADMIN)


def new_staff(admin: User, username: str = "noor", role: Role = Role.PEER_EXPERT, *, now=None) -> tuple[User, str]:
    user = accounts.create_staff(admin, username, role, "Noor" if role == Role.PEER_EXPERT else None)
    token, _expires = issued_codes.issue_activation(admin, user, "new account", now=now)
    db.session.commit()
    return user, token


def set_password(client, token: str, password: str = PASSWORD, confirm: str | None = None):
    csrf = token_from(client, f"/activate/{token}")
    return client.post(
        f"/activate/{token}",
        data={"csrf_token": csrf, "password": password, "confirm": password if confirm is None else confirm},
    )


def test_the_link_sets_the_password_logs_in_and_is_audited(admin, client, auth):
    user, token = new_staff(admin)
    page = client.get(f"/activate/{token}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Set your password" in html and 'id="activation-username">noor<' in html
    assert client.get(f"/activate/{token}").status_code == 200  # looking does not spend it

    response = set_password(client, token)
    assert response.status_code == 302 and response.headers["Location"].endswith("/home")
    assert client.get("/home").status_code == 200  # logged in
    user = reload(user)
    assert not accounts.is_awaiting_activation(user) and user.last_active_at is not None
    [row] = audit_rows(AuditAction.ACTIVATE_ACCOUNT, user.id)
    assert row.actor_user_id == user.id and row.actor_role == "peer_expert"
    assert PASSWORD not in row.reason and token not in row.reason

    auth.logout()
    assert auth.login("noor", PASSWORD).status_code == 302


def test_a_used_link_no_longer_works(admin, client, app):
    _user, token = new_staff(admin)
    assert set_password(client, token).status_code == 302
    other = app.test_client()
    response = other.get(f"/activate/{token}")
    assert response.status_code == 404 and DEAD in response.get_data(as_text=True)
    assert "Ask the person who sent it to you for a new link." in response.get_data(as_text=True)


def test_a_link_expires_after_72_hours(admin, client):
    _user, fresh = new_staff(admin, "fresh", now=utcnow() - timedelta(hours=72) + timedelta(seconds=30))
    _user, stale = new_staff(admin, "stale", now=utcnow() - timedelta(hours=72, seconds=1))
    assert client.get(f"/activate/{fresh}").status_code == 200
    response = client.get(f"/activate/{stale}")
    assert response.status_code == 404 and DEAD in response.get_data(as_text=True)


def test_a_wrong_link_and_a_replaced_link_do_not_work(admin, client):
    user, old = new_staff(admin)
    for wrong in (old[:-1] + ("A" if old[-1] != "A" else "B"), "x", "y" * 500):
        assert client.get(f"/activate/{wrong}").status_code == 404
    new, _expires = issued_codes.issue_activation(admin, user, "lost the first link")
    db.session.commit()
    assert client.get(f"/activate/{old}").status_code == 404
    assert client.get(f"/activate/{new}").status_code == 200


def test_a_refused_password_leaves_the_link_working(admin, client):
    user, token = new_staff(admin)
    short = set_password(client, token, "too short")
    assert short.status_code == 400 and "Use between 10 and 128 characters." in short.get_data(as_text=True)
    contains_name = set_password(client, token, "noor-is-my-password")
    assert "must not contain your username" in contains_name.get_data(as_text=True)
    mismatch = set_password(client, token, PASSWORD, "another long passphrase")
    assert mismatch.status_code == 400 and "The passwords do not match." in mismatch.get_data(as_text=True)
    assert accounts.is_awaiting_activation(reload(user))
    assert set_password(client, token).status_code == 302


def test_a_disabled_account_cannot_be_activated(admin, client):
    user, token = new_staff(admin)
    accounts.set_enabled(admin, user, False, "left before starting")
    db.session.commit()
    assert client.get(f"/activate/{token}").status_code == 404


def test_a_new_link_only_for_an_account_still_awaiting_activation(admin, factory):
    active = factory.user("active", Role.COORDINATOR)
    with pytest.raises(DomainError, match="already_activated"):
        issued_codes.issue_activation(admin, active, "why")


@pytest.fixture
def app_overrides(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_overrides", [{"LOGIN_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_failed_attempts_are_rate_limited_like_logins(admin, client):
    _user, token = new_staff(admin)
    for _ in range(3):
        assert set_password(client, token, "short").status_code == 400
    assert set_password(client, token).status_code == 429
