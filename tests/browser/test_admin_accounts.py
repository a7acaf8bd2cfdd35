"""An admin creates a peer expert in the console and copies the activation link; the peer expert opens it on a
360 px phone, sets their own password, is assigned to a group with an open meeting, and moderates: their message
reaches a participant. In English and in Dutch (issue #15).

Screenshots: test-output/admin-accounts-<lang>-*.png (the admin on a desktop and on a phone, the peer expert on a
phone).
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from supportgroup.extensions import db
from supportgroup.groups import pool
from supportgroup.models import MeetingState, Role, User

from .conftest import LIVE_INPUT, enter_meeting, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

PASSWORD = "my own long passphrase 7"
TEXTS = {
    "en": {"created": "The account has been created.", "copied": "Copied", "awaiting": "Awaiting activation"},
    "nl": {"created": "Het account is aangemaakt.", "copied": "Gekopieerd", "awaiting": "Wacht op activatie"},
}


def trained_moderator(group, username: str, coordinator: User) -> None:
    """What a coordinator does next in the pool and on the group page: record the training, assign the group."""
    from supportgroup.groups import enrolment

    expert = db.session.scalar(select(User).where(User.username == username))
    assert expert is not None and expert.profile is not None
    profile = expert.profile
    pool.update_profile(
        profile,
        first_name=profile.first_name,
        story="",
        experience_kinds=[],
        languages=[],
        trained=True,
        actor=coordinator,
    )
    enrolment.assign_moderator(group, expert, actor=coordinator)
    db.session.commit()


@pytest.mark.parametrize("lang,locale", [("en", "en-GB"), ("nl", "nl-NL")])
def test_an_admin_creates_a_peer_expert_who_activates_on_a_phone_and_moderates(factory, live, new_page, lang, locale):
    texts = TEXTS[lang]
    group = factory.group("Tuesday group")
    coordinator = factory.user("coord", Role.COORDINATOR)
    alice = factory.user("alice")
    factory.member(group, alice)
    meeting = factory.meeting(group, MeetingState.OPEN)
    factory.user("root", Role.ADMIN)
    for n in range(12):
        factory.user(f"member{n:02d}")
    username = f"noor_{lang}"

    # 1. The admin, on a desktop: the console, the accounts list, a new staff account.
    admin = new_page(locale=locale)
    admin.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    login(admin, "root")
    admin.goto("/admin/")
    admin.locator("a[href='/admin/accounts']").click()
    admin.wait_for_url(re.compile(r"/admin/accounts$"))
    assert admin.locator("table.accounts tbody tr").count() == 15  # root, coord, alice, 12 members
    screenshot(admin, f"admin-accounts-{lang}-1-list")
    admin.locator("a[href='/admin/accounts/new']").click()
    admin.fill("input[name=username]", username)
    admin.select_option("select[name=role]", "peer_expert")
    admin.fill("input[name=first_name]", "Noor")
    screenshot(admin, f"admin-accounts-{lang}-2-new")
    admin.locator("#main form [type=submit]").click()
    admin.locator("#shown-once").wait_for()
    assert texts["created"] in admin.locator("#shown-once").inner_text()

    # 2. "Copy link" puts the activation link on the clipboard.
    admin.locator("button[data-copy=activation-link]").click()
    admin.locator(".copy-status", has_text=texts["copied"]).wait_for()
    link = admin.evaluate("navigator.clipboard.readText()")
    assert link == admin.locator("#activation-link").input_value()
    assert re.fullmatch(rf"{re.escape(live.url)}/activate/[A-Za-z0-9_-]{{43}}", link)
    screenshot(admin, f"admin-accounts-{lang}-3-link")

    # 3. The peer expert opens it on a phone and sets their own password.
    phone = new_page(width=360, height=740, locale=locale)
    phone.goto(link)
    assert phone.locator("#activation-username").inner_text() == username
    screenshot(phone, f"admin-accounts-{lang}-4-activate-phone")
    phone.fill("input[name=password]", PASSWORD)
    phone.fill("input[name=confirm]", PASSWORD)
    phone.locator("#main form [type=submit]").click()
    phone.wait_for_url(re.compile(r"/home$"))
    screenshot(phone, f"admin-accounts-{lang}-5-home-phone")

    # The link is spent: the admin's account page shows the account active; opening the link again says it is dead.
    admin.goto("/admin/accounts?q=noor")
    admin.locator("table.accounts a", has_text=username).click()
    assert texts["awaiting"] not in admin.locator("#account-status").inner_text()
    screenshot(admin, f"admin-accounts-{lang}-6-account")
    again = new_page(width=360, height=740, locale=locale)
    assert again.goto(link).status == 404

    # 4. A coordinator records the training and assigns the group; the peer expert moderates the open meeting.
    trained_moderator(group, username, coordinator)
    participant = new_page(locale=locale)
    login(participant, "alice")
    enter_meeting(phone, meeting.id)
    enter_meeting(participant, meeting.id)
    line = "Welkom allemaal" if lang == "nl" else "Welcome, everyone"
    phone.locator("#message-input").fill(line)
    phone.locator("#send-button").click()
    participant.locator("#messages .text", has_text=line).wait_for()
    assert participant.locator(LIVE_INPUT).count() == 1  # a peer expert is present: the participant may write
    screenshot(phone, f"admin-accounts-{lang}-7-moderating-phone")

    # The admin's pages on a phone as well.
    small = new_page(width=360, height=740, locale=locale)
    login(small, "root")
    small.goto("/admin/accounts")
    screenshot(small, f"admin-accounts-{lang}-8-list-phone")
    expert_id = db.session.scalar(select(User.id).where(User.username == username))
    small.goto(f"/admin/accounts/{expert_id}")
    screenshot(small, f"admin-accounts-{lang}-9-account-phone")
