"""Review fixes for issue #15's accounts (in-process, both backends): the last admin stays, whatever the way out.
The races are in test_review_fixes_15_races.py."""

from __future__ import annotations

import pytest

from supportgroup.auth import accounts
from supportgroup.errors import DomainError
from supportgroup.extensions import db
from supportgroup.models import Role, User
from tests.conftest import DEFAULT_PASSWORD, csrf_token

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
