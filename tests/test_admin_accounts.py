"""The admin console's accounts list and account page (issue #15): search, filters, keyset paging in a fixed
number of queries, no alias or group next to a username, who may open them, and creating a staff account whose
activation link is shown once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from supportgroup.audit import AuditAction
from supportgroup.auth.passwords import UNUSABLE_HASH
from supportgroup.extensions import db
from supportgroup.models import AccountCode, CodeKind, Role, User
from supportgroup.models.types import utcnow
from tests.account_helpers import ACTIVATION_RE, audit_rows, bulk_accounts, post, reload
from tests.scheduling_helpers import count_queries


@pytest.fixture
def admin(factory, login_client):
    factory.user("root", Role.ADMIN)
    return login_client("root")


def usernames(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/admin/accounts/\d+">([^<]+)</a>', html)


def page(http, query: str = "") -> str:
    response = http.get(f"/admin/accounts{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_search_and_filters(factory, admin):
    now = utcnow()
    factory.user("anna", Role.PARTICIPANT)
    factory.user("annabel", Role.PEER_EXPERT)
    factory.user("joanna", Role.COORDINATOR)
    factory.user("bert", Role.PARTICIPANT)
    disabled = factory.user("gone", Role.PARTICIPANT)
    awaiting = factory.user("newcomer", Role.PEER_EXPERT)
    db.session.execute(update(User).where(User.id == disabled.id).values(is_enabled=False))
    db.session.execute(update(User).where(User.id == awaiting.id).values(password_hash=UNUSABLE_HASH))
    stamps = {"anna": now - timedelta(days=2), "annabel": now - timedelta(days=40), "joanna": now - timedelta(days=100)}
    for name, stamp in stamps.items():
        db.session.execute(update(User).where(User.username == name).values(last_active_at=stamp))
    db.session.execute(update(User).where(User.username.in_(["bert", "gone", "newcomer"])).values(last_active_at=None))
    db.session.commit()

    assert usernames(page(admin, "?q=ANNA")) == ["anna", "annabel", "joanna"]  # a substring, any case
    assert usernames(page(admin, "?q=%25")) == []  # LIKE's wildcards are plain characters
    assert usernames(page(admin, "?role=peer_expert")) == ["annabel", "newcomer"]
    assert usernames(page(admin, "?q=ann&role=coordinator")) == ["joanna"]
    assert usernames(page(admin, "?status=disabled")) == ["gone"]
    assert usernames(page(admin, "?status=awaiting")) == ["newcomer"]
    assert "gone" not in usernames(page(admin, "?status=enabled"))
    assert "newcomer" not in usernames(page(admin, "?status=enabled"))
    assert usernames(page(admin, "?active=never")) == ["bert", "gone", "newcomer"]
    assert usernames(page(admin, "?active=30")) == ["annabel", "joanna"]
    assert usernames(page(admin, "?active=90")) == ["joanna"]
    assert set(usernames(page(admin, "?active=recent"))) == {"anna", "root"}  # root logged in just now
    html = page(admin, "?status=awaiting")
    assert "Awaiting activation" in html and "1 account" in html
    assert admin.get("/admin/accounts?role=king").status_code == 400


def test_keyset_paging_forward_and_back_keeps_the_filters(factory, admin):
    bulk_accounts(120)
    first = page(admin, "?q=bulk")
    assert usernames(first) == [f"bulk{n:05d}" for n in range(50)]
    assert "120 accounts" in first and 'rel="prev"' not in first
    next_link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "q=bulk" in next_link and "after=bulk00049" in next_link
    second = page(admin, next_link.removeprefix("/admin/accounts"))
    assert usernames(second) == [f"bulk{n:05d}" for n in range(50, 100)]
    third = page(admin, "?q=bulk&after=bulk00099")
    assert usernames(third) == [f"bulk{n:05d}" for n in range(100, 120)] and 'rel="next"' not in third
    back = re.search(r'rel="prev" href="([^"]+)"', third).group(1).replace("&amp;", "&")
    assert usernames(page(admin, back.removeprefix("/admin/accounts"))) == [f"bulk{n:05d}" for n in range(50, 100)]
    back_to_first = page(admin, "?q=bulk&before=bulk00050")
    assert usernames(back_to_first) == [f"bulk{n:05d}" for n in range(50)] and 'rel="prev"' not in back_to_first


def _statements(http, query: str) -> int:
    http.get(f"/admin/accounts{query}")  # warm: templates compiled, the day's activity stamped
    with count_queries() as statements:
        response = http.get(f"/admin/accounts{query}")
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("query", ["", "?q=bulk&role=participant&status=enabled&active=never", "?after=bulk00100"])
def test_the_list_costs_the_same_queries_with_50_or_500_accounts(factory, admin, query):
    bulk_accounts(50)
    small = _statements(admin, query)
    bulk_accounts(450, start=50)
    large = _statements(admin, query)
    assert small == large == 4  # the account (Flask-Login), the platform settings (every page), the count, the rows


def test_no_alias_or_group_is_shown_next_to_a_username(factory, admin):
    scene = factory.scene()
    alias = scene.memberships["alice"].alias
    for path in ("/admin/accounts", f"/admin/accounts/{scene.alice.id}", "/admin/accounts?q=alice"):
        html = admin.get(path).get_data(as_text=True)
        assert "alice" in html
        assert alias not in html and scene.group.name not in html


def test_the_account_page_shows_role_status_and_two_step_login(factory, admin):
    expert = factory.user("noor", Role.PEER_EXPERT, first_name="Noor")
    html = admin.get(f"/admin/accounts/{expert.id}").get_data(as_text=True)
    assert 'id="account-role">Peer expert<' in html and "Noor" in html
    assert "Enabled" in html and 'id="account-two-factor">off<' in html
    assert admin.get("/admin/accounts/99999").status_code == 404


@pytest.mark.parametrize("username", ["coord", "alice", "expert"])
def test_only_admins_open_the_accounts_pages(factory, login_client, username):
    scene = factory.scene()
    factory.user("root", Role.ADMIN)
    http = login_client(username)
    assert http.get("/admin/accounts").status_code == 403
    assert http.get(f"/admin/accounts/{scene.bob.id}").status_code in (403, 404)
    assert http.get("/admin/accounts/new").status_code == 403
    response = post(
        http, "/account/settings", f"/admin/accounts/{scene.bob.id}/role", {"role": "admin", "reason": "x"}, "role"
    )
    assert response.status_code in (403, 404)
    assert reload(scene.bob).role == Role.PARTICIPANT


def test_the_console_lists_accounts_for_admins_and_reset_codes_for_coordinators(factory, admin, login_client):
    factory.scene()
    start = admin.get("/admin/").get_data(as_text=True)
    assert "/admin/accounts" in start and "/admin/reset-code" in start
    coordinator = login_client("coord").get("/admin/").get_data(as_text=True)
    assert "/admin/reset-code" in coordinator and "/admin/accounts" not in coordinator


def test_create_a_peer_expert_shows_the_activation_link_once(factory, admin, client, auth):
    response = post(
        admin,
        "/admin/accounts/new",
        "/admin/accounts/new",
        {"username": "Noor", "role": "peer_expert", "first_name": "Noor"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    link, token = ACTIVATION_RE.search(html).groups()
    assert "72 hours" in html and 'data-copy="activation-link"' in html
    user = db.session.scalar(select(User).where(User.username == "noor"))
    assert user.role == Role.PEER_EXPERT and user.profile.first_name == "Noor" and not user.profile.trained
    assert user.password_hash == UNUSABLE_HASH
    stored = db.session.scalars(select(AccountCode.code_hash).where(AccountCode.kind == CodeKind.ACTIVATION)).all()
    assert len(stored) == 1 and token not in stored[0]
    # Nothing logs in to an account awaiting activation, whatever is typed.
    assert auth.login("noor", "").status_code != 302 and auth.login("noor", UNUSABLE_HASH).status_code != 302
    # The account page says so and offers a new link, not a reset code; the link is not on it.
    account_page = admin.get(f"/admin/accounts/{user.id}").get_data(as_text=True)
    assert "Awaiting activation" in account_page and token not in account_page
    assert 'id="activation"' in account_page and 'id="reset"' not in account_page
    [created] = audit_rows(AuditAction.CREATE_ACCOUNT, user.id)
    [issued] = audit_rows(AuditAction.ISSUE_ACTIVATION, user.id)
    root = db.session.scalar(select(User).where(User.username == "root"))
    assert created.actor_user_id == issued.actor_user_id == root.id and created.actor_role == "admin"
    assert token not in (created.reason + issued.reason)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "noor", "role": "peer_expert", "first_name": ""}, "needs a first name"),
        ({"username": "root", "role": "coordinator", "first_name": ""}, "This username is taken"),
        ({"username": "x", "role": "coordinator", "first_name": ""}, "Use 3 to 32 letters"),
        ({"username": "newbie", "role": "participant", "first_name": ""}, "Not a valid choice"),
    ],
)
def test_create_staff_refuses_clearly(factory, admin, data, message):
    response = post(admin, "/admin/accounts/new", "/admin/accounts/new", data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == data["username"], User.role != Role.ADMIN)) is None


def test_a_coordinator_may_not_create_accounts(factory, login_client):
    factory.user("coord", Role.COORDINATOR)
    http = login_client("coord")
    response = post(http, "/account/settings", "/admin/accounts/new", {"username": "sneaky", "role": "admin"})
    assert response.status_code == 403
    assert db.session.scalar(select(User).where(User.username == "sneaky")) is None
