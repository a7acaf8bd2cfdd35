"""The page rules the templates ask (`can(...)`, `is_participant(...)`, permissions.py): who is shown which link of
the main menu, and which parts of a group's page. Templates compare no role names themselves."""

import re

import pytest
from flask import url_for

from supportgroup import permissions
from supportgroup.models import Role

STAFF = [
    "home.dashboard",
    "groups.index",
    "scheduling.calendar",
    "groups.pool_index",
    "groups.conflicts",
    "groups.organisations",
]
STAFF_RULES = {"see_overview", "manage_groups", "see_calendar", "see_pool", "keep_apart", "manage_organisations"}
MENU = {  # username: (the first item's text, the endpoints of the links shown, "Settings" aside)
    "alice": ("My groups", ["home.dashboard", "scheduling.mine", "groups.join"]),
    "expert": ("My groups", ["home.dashboard", "scheduling.rota", "groups.edit_profile"]),
    "coord": ("Overview", [*STAFF, "admin.index"]),  # the console: the audit log (and reset codes)
    "root": ("Overview", [*STAFF, "admin.index"]),
}


def main_menu(html: str) -> str:
    match = re.search(r'<nav aria-label="Main">(.*?)</nav>', html, re.S)
    assert match, html[:500]
    return match.group(1)


def menu_links(html: str) -> set[str]:
    return set(re.findall(r'<li><a href="([^"]+)"', main_menu(html)))


@pytest.fixture
def scene(factory):
    scene = factory.scene()
    factory.user("root", Role.ADMIN)
    return scene


@pytest.mark.parametrize("username", list(MENU))
def test_each_role_is_shown_its_own_menu(scene, login_client, app, username):
    first_item, endpoints = MENU[username]
    html = login_client(username).get("/account/settings").get_data(as_text=True)
    with app.test_request_context():
        expected = {
            url_for(e, user_id=scene.expert.id) if e == "groups.edit_profile" else url_for(e) for e in endpoints
        } | {url_for("auth.settings")}
    assert menu_links(html) == expected
    assert f">{first_item}</a>" in main_menu(html)


def test_a_visitor_is_shown_log_in_and_register(client):
    menu = main_menu(client.get("/login").get_data(as_text=True))
    assert "/login" in menu and "/register" in menu and "/settings" not in menu


@pytest.mark.parametrize(
    "role, allowed",
    [
        (Role.PARTICIPANT, {"see_my_meetings", "join_groups", "keep_recovery_codes", "see_own_alias_lookups"}),
        (Role.PEER_EXPERT, {"see_rota", "edit_own_profile"}),
        (Role.COORDINATOR, {*STAFF_RULES, "use_admin_console", "read_audit_log", "issue_reset_codes"}),
        (
            Role.ADMIN,
            {
                *STAFF_RULES,
                "use_admin_console",
                "read_audit_log",
                "issue_reset_codes",
                "manage_accounts",
                "change_settings",
            },
        ),
    ],
)
def test_page_rules_by_role(factory, role, allowed):
    user = factory.user(f"user-{role.value}", role)
    assert {name for name in permissions.PAGE_RULES if permissions.can(user, name)} == allowed
    assert permissions.is_staff(user) == permissions.can_record_training(user) == (role in permissions.STAFF_ROLES)


def test_nobody_logged_in_may_see_anything():
    assert not any(permissions.can(None, name) for name in permissions.PAGE_RULES)


def test_an_unknown_rule_is_an_error_not_a_hidden_link(factory):
    with pytest.raises(KeyError):
        permissions.can(factory.user("alice"), "see_everything")


def test_only_participants_are_told_their_alias_on_the_group_page(scene, login_client):
    alias = scene.memberships["alice"].alias
    participant = login_client("alice").get(f"/groups/{scene.group.id}/about").get_data(as_text=True)
    assert alias in participant and "House rules" in participant
    moderator = login_client("expert").get(f"/groups/{scene.group.id}/about")
    assert moderator.status_code == 200
    assert "Nobody in the group sees your username" not in moderator.get_data(as_text=True)


@pytest.mark.parametrize(("username", "status"), [("alice", 403), ("expert", 403), ("coord", 200), ("root", 200)])
def test_only_staff_open_the_admin_console(scene, login_client, username, status):
    assert login_client(username).get("/admin/").status_code == status
