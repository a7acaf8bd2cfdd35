"""Each role's main journey in one go, as a person walks it (#14): a new participant on a phone from an invite link
to the closing screen; a peer expert from the rota to the console to a handover note. (The coordinator's, from a new
group to a weekly series on the right weekday, is tests/browser/test_coordinator_planning.py.) The parts have
tests of their own; these prove that nothing stops the person between them. Screenshots: test-output/role-*.png."""

from __future__ import annotations

import re

import pytest

from supportgroup.extensions import db
from supportgroup.groups import invites
from supportgroup.models import MeetingState
from tests.scheduling_helpers import occurrences, series

from .conftest import LIVE_INPUT, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

PASSWORD = "a long enough passphrase 42"


def test_a_new_participant_from_an_invite_link_to_the_closing_screen(factory, live, new_page):
    scene = factory.scene()  # a meeting open now, with its peer expert
    scene.group.house_rules = "We listen to each other.\n\n- What is said here stays here."
    invite = invites.create_invite(scene.group, scene.coordinator, None, None)
    db.session.commit()
    expert = new_page()
    login(expert, "expert")
    expert.goto(f"/meetings/{scene.meeting.id}")
    expert.locator(LIVE_INPUT).wait_for(timeout=10000)

    phone = new_page(width=360, height=740)
    phone.goto(f"/groups/join/{invite.code}")  # logged out: to login, with the invite kept
    phone.wait_for_url(re.compile(r"/login\?next="))
    phone.locator("#main").get_by_role("link", name="Register", exact=True).click()
    phone.fill("input[name=username]", "new_person")
    phone.fill("input[name=password]", PASSWORD)
    phone.fill("input[name=confirm]", PASSWORD)
    phone.get_by_role("button", name="Create account").click()
    phone.locator("#code-list").wait_for()  # ten recovery codes, shown once
    screenshot(phone, "role-participant-0-recovery-codes")
    phone.get_by_role("link", name="I have saved them, continue").click()
    phone.get_by_role("button", name="Join the group").click()
    phone.wait_for_url(re.compile(rf"/groups/{scene.group.id}/about$"))
    screenshot(phone, "role-participant-1-group")

    phone.goto("/home")  # the open meeting, as a card with a button
    phone.locator("#next-meeting").get_by_role("link", name=re.compile("meeting", re.I)).click()
    phone.wait_for_url(re.compile(rf"/meetings/{scene.meeting.id}"))
    phone.get_by_role("button", name="Skip the check").click()
    rules = phone.locator("#rules-card")  # the rules where they are needed, rendered as the editor previews them
    rules.wait_for()
    assert "What is said here stays here." in rules.locator("li").inner_text()
    screenshot(phone, "role-participant-2-rules")
    rules.get_by_role("button", name="Accept and go on").click()
    phone.locator(LIVE_INPUT).wait_for(timeout=10000)
    phone.locator("#message-input").fill("Hello, I am new here")
    phone.get_by_role("button", name="Send").click()
    expert.locator("#messages", has_text="Hello, I am new here").wait_for(timeout=10000)
    screenshot(phone, "role-participant-3-chat")

    expert.evaluate("() => { document.getElementById('sec-controls').open = true; }")
    expert.locator("#close-meeting").click()
    expert.locator("#close-yes").click()
    closing = phone.locator("#closing")
    closing.wait_for(state="visible", timeout=10000)
    assert "Thank you for being here" in closing.inner_text()
    assert "Hello, I am new here" not in phone.evaluate("document.documentElement.outerHTML")
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "role-participant-4-closing")


def test_a_peer_expert_from_the_rota_to_the_console_to_a_handover_note(factory, live, new_page):
    scene = factory.scene(MeetingState.CLOSED)
    made = series(scene.group, count=2, title="Evening")
    first = occurrences(made)[0]
    phone = new_page(width=360, height=740)
    login(phone, "expert")
    phone.goto("/schedule/rota")
    phone.get_by_role("link", name="Go to the meeting").first.click()
    phone.wait_for_url(re.compile(rf"/meetings/{first.id}$"))
    phone.get_by_role("button", name="Open meeting").click()
    if phone.get_by_role("button", name="Yes, open it now").count():  # days ahead: it asks first
        phone.get_by_role("button", name="Yes, open it now").click()
    phone.locator(LIVE_INPUT).wait_for(timeout=10000)
    assert phone.locator("#attention").is_visible()  # what needs the peer expert, in view on a phone
    screenshot(phone, "role-expert-1-console")

    phone.evaluate("() => { document.getElementById('sec-incident').open = true; }")
    phone.locator("#handover-note").fill("Alice may need a call this week")
    phone.get_by_role("button", name="Save note").click()
    phone.locator("#handover-this-meeting li", has_text="Alice may need a call").wait_for(timeout=10000)
    assert phone.locator("#handover-list li", has_text="Alice may need a call").count() == 0
    screenshot(phone, "role-expert-2-handover")
