"""A new person on a phone (360 px) opens an invite link while logged out, registers, lands on the group,
and then finds the next meeting as a card on home: in English and in Dutch (#14)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from supportgroup.extensions import db
from supportgroup.groups import invites
from supportgroup.models import MeetingState, Role

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

PASSWORD = "a long enough passphrase 42"
TEXTS = {
    "en": {
        "invited": "You have been invited to a group.",
        "register": "Register",
        "no_recovery": "cannot send you a new password by e-mail",
        "create": "Create account",
        "saved": "I have saved them, continue",
        "join": "Join the group",
        "next": "Your next meeting",
        "countdown": "Starts in 2 hours",
    },
    "nl": {
        "invited": "Je bent uitgenodigd voor een groep.",
        "register": "Registreren",
        "no_recovery": "geen nieuw wachtwoord mailen",
        "create": "Account aanmaken",
        "saved": "Ik heb ze bewaard, verder",
        "join": "Meedoen met de groep",
        "next": "Je volgende bijeenkomst",
        "countdown": "Begint over 2 uur",
    },
}


@pytest.mark.parametrize("lang,browser_locale", [("en", "en-GB"), ("nl", "nl-NL")])
def test_a_new_person_registers_from_an_invite_link_and_lands_on_the_group(
    factory, live, new_page, lang, browser_locale
):
    texts = TEXTS[lang]
    group = factory.group("Thursday evening group")
    invite = invites.create_invite(group, factory.user("coord", Role.COORDINATOR), None, None)
    db.session.commit()
    factory.meeting(group, MeetingState.SCHEDULED, starts_in=timedelta(hours=2, minutes=3), title="")

    page = new_page(width=360, height=740, locale=browser_locale)
    page.goto(f"/groups/join/{invite.code}")
    page.wait_for_url(re.compile(r"/login\?next="))
    assert texts["invited"] in page.locator("#invite-note").inner_text()
    screenshot(page, f"invite-{lang}-1-login")

    # Both "Register" links (the menu's, folded away on a phone, and the page's) carry the invite on.
    register_links = page.get_by_role("link", name=texts["register"], exact=True, include_hidden=True)
    assert register_links.count() == 2
    for index in range(2):
        assert f"next=/groups/join/{invite.code}" in (register_links.nth(index).get_attribute("href") or "")
    page.locator("#main").get_by_role("link", name=texts["register"], exact=True).click()
    page.wait_for_url(re.compile(r"/register\?next="))
    assert texts["no_recovery"] in page.locator("#recovery-explained").inner_text()
    page.fill("input[name=username]", f"new_person_{lang}")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    screenshot(page, f"invite-{lang}-2-register")
    page.get_by_role("button", name=texts["create"]).click()

    # The recovery codes come first (tests/browser/test_recovery.py); continuing keeps the invite.
    page.locator("#code-list").wait_for()
    page.get_by_role("link", name=texts["saved"]).click()

    # The invite survived registration: the page names the group, one press joins it.
    page.wait_for_url(re.compile(rf"/groups/join/{re.escape(invite.code)}$"))
    assert "Thursday evening group" in page.get_by_role("heading", level=1).inner_text()
    screenshot(page, f"invite-{lang}-3-invited")
    page.get_by_role("button", name=texts["join"]).click()
    page.wait_for_url(re.compile(rf"/groups/{group.id}/about$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Thursday evening group"
    screenshot(page, f"invite-{lang}-4-group")

    page.goto("/home")
    card = page.locator("#next-meeting")
    card.wait_for()
    text = card.inner_text()
    assert texts["next"] in text and "Thursday evening group" in text and texts["countdown"] in text
    assert re.search(r"\b\d\d:\d\d–\d\d:\d\d\b", text)  # a 24-hour time
    assert page.locator(f"a.group-link[href='/groups/{group.id}/about']").is_visible()  # "My groups" links it
    screenshot(page, f"invite-{lang}-5-home")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
