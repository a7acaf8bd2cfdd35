"""One-time codes (auth/codes.py) and the platform settings store (platform_settings.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from supportgroup import platform_settings
from supportgroup.auth import codes
from supportgroup.extensions import db
from supportgroup.models import AccountCode, CodeKind, Role, utcnow


def test_recovery_codes_are_ten_each_spent_once_and_stored_only_as_hashes(app, factory):
    user = factory.user("recoverer")
    issued = codes.issue(user, CodeKind.RECOVERY)
    assert len(issued) == 10 and len(set(issued)) == 10
    stored = db.session.scalars(select(AccountCode.code_hash)).all()
    assert not any(code in h or codes.normalise(code) in h for code in issued for h in stored)
    assert codes.remaining(user, CodeKind.RECOVERY) == 10
    assert codes.spend(user, CodeKind.RECOVERY, issued[3])
    assert not codes.spend(user, CodeKind.RECOVERY, issued[3])  # once
    assert codes.remaining(user, CodeKind.RECOVERY) == 9
    for code in issued:
        codes.spend(user, CodeKind.RECOVERY, code)
    assert codes.remaining(user, CodeKind.RECOVERY) == 0
    assert not codes.spend(user, CodeKind.RECOVERY, issued[0])


def test_typing_is_forgiving_but_a_code_is_bound_to_its_account_and_kind(app, factory):
    owner, other = factory.user("owner1"), factory.user("other1")
    (code,) = codes.issue(owner, CodeKind.RESET)
    typed = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert not codes.spend(other, CodeKind.RESET, code)
    assert not codes.spend(owner, CodeKind.RECOVERY, code)
    assert codes.spend(owner, CodeKind.RESET, typed)


def test_a_code_expires_and_a_new_set_voids_the_old(app, factory):
    user = factory.user("expiring", Role.COORDINATOR)
    (old,) = codes.issue(user, CodeKind.RESET)
    (new,) = codes.issue(user, CodeKind.RESET)
    assert not codes.spend(user, CodeKind.RESET, old)
    later = utcnow() + timedelta(hours=24, seconds=1)
    assert not codes.spend(user, CodeKind.RESET, new, now=later)
    assert codes.spend(user, CodeKind.RESET, new, now=utcnow() + timedelta(hours=23))


def test_an_activation_link_names_its_owner_and_is_spent_once_within_72_hours(app, factory):
    user = factory.user("newstaff", Role.PEER_EXPERT)
    (token,) = codes.issue(user, CodeKind.ACTIVATION)
    assert codes.peek_token(CodeKind.ACTIVATION, token) == user
    assert codes.peek_token(CodeKind.ACTIVATION, token, now=utcnow() + timedelta(hours=73)) is None
    assert codes.spend_token(CodeKind.ACTIVATION, token + "x") is None
    assert codes.spend_token(CodeKind.ACTIVATION, token) == user
    assert codes.spend_token(CodeKind.ACTIVATION, token) is None
    assert codes.peek_token(CodeKind.ACTIVATION, "x" * 500) is None


def test_settings_default_from_the_environment_and_are_overridden_by_a_row(app, factory):
    admin = factory.user("settings-admin", Role.ADMIN)
    with app.test_request_context():
        assert platform_settings.get("quick_exit_url") == app.config["QUICK_EXIT_URL"]
        platform_settings.put("quick_exit_url", "https://example.org/", admin)
        assert platform_settings.get("quick_exit_url") == "https://example.org/"
        platform_settings.put("quick_exit_url", None, admin)
        assert platform_settings.get("quick_exit_url") == app.config["QUICK_EXIT_URL"]
        with pytest.raises(KeyError):
            platform_settings.get("secret_key")
