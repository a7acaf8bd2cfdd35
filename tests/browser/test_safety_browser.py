"""Safety in the browser, the way a person meets it: quick exit, help, the safety check before a meeting,
the warning before sending identifying details, the private crisis note and the peer expert's alert."""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from supportgroup.extensions import db
from supportgroup.models import SafetyCheck
from supportgroup.safety import detection

from .conftest import NEUTRAL_PATH, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]


def open_meeting_as_expert(new_page, meeting_id):
    page = new_page()
    login(page, "expert")
    page.goto(f"/meetings/{meeting_id}")
    page.locator("#message-input:not([disabled])").wait_for()  # joined, the meeting is open
    return page


def enter_meeting(page, meeting_id, skip=True, ready="#message-input:not([disabled])"):
    """A participant goes to the meeting: the safety check comes first; skip it (or not)."""
    page.goto(f"/meetings/{meeting_id}")
    if skip:
        page.get_by_role("button", name="Skip the check").click()
    page.locator(ready).wait_for()


def present_names(page):
    return page.locator("#present").inner_text()


def wait_until(predicate, timeout=8.0, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message}")


# --- quick exit -------------------------------------------------------------------------------------------


def test_quick_exit_button_leaves_at_once(factory, live, new_page):
    scene = factory.scene()
    alias = scene.memberships["alice"].alias
    expert = open_meeting_as_expert(new_page, scene.meeting.id)

    alice = new_page()
    login(alice, "alice")
    alice.goto("/home")
    enter_meeting(alice, scene.meeting.id)
    wait_until(lambda: alias in present_names(expert), message="alice present for the peer expert")
    screenshot(alice, "quick-exit-before")

    alice.get_by_role("link", name="Quick exit").click()
    alice.wait_for_url(re.compile(re.escape(NEUTRAL_PATH) + "$"))
    # The peer expert just sees the person leave; nothing says how.
    wait_until(lambda: alias not in present_names(expert), message="alice gone from the peer expert's list")
    # (Not the bare word: an alias can be "Quick Heron".)
    assert "quick exit" not in expert.locator("#chat").inner_text().lower()

    alice.go_back()  # the meeting page was replaced; what Back brings (in this tab) leaves again at once
    alice.wait_for_url(re.compile(re.escape(NEUTRAL_PATH) + "$"))
    assert alice.locator("#messages").count() == 0


def test_quick_exit_by_pressing_escape_three_times(factory, live, new_page):
    scene = factory.scene()
    alias = scene.memberships["alice"].alias
    expert = open_meeting_as_expert(new_page, scene.meeting.id)
    alice = new_page()
    login(alice, "alice")
    alice.goto("/home")
    enter_meeting(alice, scene.meeting.id)
    wait_until(lambda: alias in present_names(expert), message="alice present")

    alice.locator("#message-input").fill("half a sentence")
    alice.locator("#message-input").focus()
    alice.keyboard.press("Escape")
    alice.keyboard.press("Escape")
    assert f"/meetings/{scene.meeting.id}" in alice.url  # twice is not enough
    alice.keyboard.press("Escape")
    alice.wait_for_url(re.compile(re.escape(NEUTRAL_PATH) + "$"))
    wait_until(lambda: alias not in present_names(expert), message="alice gone from the peer expert's list")
    alice.go_back()
    alice.wait_for_url(re.compile(re.escape(NEUTRAL_PATH) + "$"))
    assert alice.locator("#messages").count() == 0

    alice.goto("/home")  # coming back on purpose (not by Back) shows the site, logged out (issue #11)
    assert "/login" in alice.url and alice.locator("#quick-exit").is_visible()


def test_escape_presses_far_apart_do_not_exit(factory, live, new_page):
    factory.user("alice")
    page = new_page()
    login(page, "alice")
    page.goto("/home")
    for _ in range(3):
        page.keyboard.press("Escape")
        page.wait_for_timeout(1100)
    assert page.url.endswith("/home")


def test_quick_exit_first_and_uncovered_on_a_phone(factory, live, new_page):
    scene = factory.scene()
    page = new_page(width=360, height=640)
    login(page, "alice")
    enter_meeting(page, scene.meeting.id, ready="#send-form")  # no peer expert yet: read-only, still the chat
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "quick-exit"  # the first thing Tab reaches
    page.mouse.wheel(0, 2000)  # scrolled down: still there
    for selector in ("#quick-exit", "#help-button"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360 and 0 <= box["y"] < 80, (selector, box)
        on_top = page.evaluate(
            "([x, y, sel]) => { const hit = document.elementFromPoint(x, y); return !!hit && !!hit.closest(sel); }",
            [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, selector],
        )
        assert on_top, f"{selector} is covered"
    screenshot(page, "quick-exit-phone")


def test_help_panel_with_crisis_resources(factory, live, new_page):
    factory.user("alice")
    page = new_page()
    page.goto("/login")  # also before logging in
    footer = page.locator("footer.site-footer")
    assert "0800 2000" in footer.inner_text() and "112" in footer.inner_text()
    help_button = page.get_by_role("button", name="Help")
    assert help_button.get_attribute("aria-expanded") == "false"
    help_button.click()
    panel = page.locator("#help-panel")
    panel.wait_for(state="visible")
    assert help_button.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.activeElement.id") == "help-panel"
    text = panel.inner_text()
    assert "Veilig Thuis" in text and "24/7" in text and "listens" in text
    assert panel.locator("a[href='tel:08002000']").count() == 1
    assert panel.locator("a[href='tel:112']").count() == 1
    screenshot(page, "help-panel")
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    assert page.evaluate("document.activeElement.id") == "help-button"

    page.goto("/login?lang=nl")
    page.get_by_role("button", name="Hulp").click()
    assert "luistert" in page.locator("#help-panel").inner_text()


# --- the safety check -------------------------------------------------------------------------------------


def test_safety_check_before_the_meeting(factory, live, new_page, app):
    scene = factory.scene()
    open_meeting_as_expert(new_page, scene.meeting.id)  # peer experts never see the check
    alice = new_page()
    login(alice, "alice")
    alice.goto(f"/meetings/{scene.meeting.id}")
    check = alice.locator("#safety-check")
    check.wait_for()
    assert alice.locator("#messages").count() == 0  # the live chat is not on the page yet
    advice = alice.locator("#advice-shared-yes")
    assert advice.is_hidden()
    alice.get_by_role("group", name="Is this a shared device").get_by_label("Yes").check()
    advice.wait_for(state="visible")
    assert "private" in advice.inner_text()
    alice.get_by_role("group", name="Are you in a private place").get_by_label("No").check()
    alice.locator("#advice-private-no").wait_for(state="visible")
    screenshot(alice, "safety-check")

    alice.get_by_role("button", name="Continue to the meeting").click()
    alice.locator("#message-input:not([disabled])").wait_for()
    alice.reload()
    alice.locator("#message-input:not([disabled])").wait_for()
    assert alice.locator("#safety-check").count() == 0  # not again for this meeting

    db.session.expire_all()
    rows = db.session.scalars(select(SafetyCheck).where(SafetyCheck.meeting_id == scene.meeting.id)).all()
    assert [(r.membership_id, r.skipped) for r in rows] == [(scene.memberships["alice"].id, False)]

    bob = new_page()
    login(bob, "bob")
    enter_meeting(bob, scene.meeting.id, skip=True)
    db.session.expire_all()
    skipped = db.session.scalar(select(SafetyCheck).where(SafetyCheck.membership_id == scene.memberships["bob"].id))
    assert skipped is not None and skipped.skipped is True


# --- identifying details ----------------------------------------------------------------------------------


def test_warning_before_sending_a_phone_number(factory, live, new_page):
    scene = factory.scene()
    expert = open_meeting_as_expert(new_page, scene.meeting.id)
    alice = new_page()
    login(alice, "alice")
    enter_meeting(alice, scene.meeting.id)

    box = alice.locator("#message-input")
    box.fill("bel me op 06-12345678")
    box.press("Enter")
    warning = alice.get_by_role("alertdialog", name="This may show who you are")
    warning.wait_for()
    assert alice.evaluate("document.activeElement.id") == "identifying-change"
    assert alice.locator("#messages .message").count() == 0  # nothing sent
    screenshot(alice, "identifying-warning")

    alice.keyboard.press("Tab")
    assert alice.evaluate("document.activeElement.id") == "identifying-send"
    alice.keyboard.press("Tab")  # focus stays inside the question
    assert alice.evaluate("document.activeElement.id") == "identifying-change"
    alice.keyboard.press("Enter")  # "Change message"
    warning.wait_for(state="hidden")
    assert alice.evaluate("document.activeElement.id") == "message-input"
    assert box.input_value() == "bel me op 06-12345678"
    assert alice.locator("#messages .message").count() == 0

    box.press("Enter")
    warning.wait_for()
    alice.get_by_role("button", name="Send anyway").click()
    warning.wait_for(state="hidden")
    alice.locator("#messages .message .text", has_text="06-12345678").wait_for()
    expert.locator("#chat", has_text="06-12345678").wait_for()

    box.fill("Thank you all")  # an ordinary message goes straight out
    box.press("Enter")
    alice.locator("#messages .message .text", has_text="Thank you all").wait_for()
    assert warning.is_hidden()


EXAMPLES = {
    "bel me op 06-12345678": ["phone"],
    "0612345678": ["phone"],
    "+31 6 1234 5678": ["phone"],
    "020-1234567": ["phone"],
    "+44 20 7946 0958": ["phone"],
    "mail me: iemand@example.nl": ["email"],
    "ik woon op 1234 AB 12": ["postcode"],
    "facebook.com/jan.jansen": ["social"],
    "https://www.instagram.com/someone": ["social"],
    "x.com/someone": ["social"],
    "twitter.com/someone": ["social"],
    "tiktok.com/@someone": ["social"],
    "linkedin.com/in/jan-jansen": ["social"],
    "snapchat.com/add/someone": ["social"],
    "op 12-03-2024 om 20:00": [],
    "in 2024 en 12 mensen": [],
    "I have 3 kids and 2 dogs": [],
    "ik voel me vandaag beter": [],
}


def test_client_and_server_patterns_agree(app, live, new_page):
    page = new_page()
    page.goto("/login")
    page.add_script_tag(url="/static/js/identifying.js")
    for text, expected in EXAMPLES.items():
        client = page.evaluate("text => window.SGIdentifying.kinds(text)", text)
        server = detection.identifying_details(text)
        assert client == expected, (text, client)
        assert server == expected, (text, server)


# --- crisis: the writer's private note, the peer expert's alert ------------------------------------------


def test_crisis_note_and_alert(factory, live, new_page):
    scene = factory.scene()
    expert = open_meeting_as_expert(new_page, scene.meeting.id)
    alice = new_page()
    login(alice, "alice")
    alice.goto("/home?lang=nl")  # in Dutch, as she would write
    alice.goto(f"/meetings/{scene.meeting.id}")
    alice.locator("#safety-check button[value=skip]").click()
    alice.locator("#message-input:not([disabled])").wait_for()

    alice.locator("#message-input").fill("ik wil niet meer leven")
    alice.locator("#message-input").press("Enter")
    note = alice.locator("#messages .crisis-note")
    note.wait_for()
    assert note.get_attribute("role") == "note"
    assert alice.locator("#messages").get_attribute("aria-live") == "polite"
    assert note.locator("a[href^='tel:']").count() >= 1
    assert "0800 2000" in note.inner_text()
    # the note sits right after the message it answers
    assert alice.evaluate(
        "() => { const n = document.querySelector('#messages .crisis-note');"
        " return !!n.previousElementSibling && n.previousElementSibling.textContent.includes('niet meer leven'); }"
    )
    screenshot(alice, "crisis-note")
    # only the writer gets the note
    expert.locator("#chat", has_text="niet meer leven").wait_for()
    assert expert.locator(".crisis-note").count() == 0

    alert = expert.locator("#alert-list .alert-item")
    alert.wait_for()
    assert expert.locator("#sec-alerts").is_visible()
    assert "niet meer leven" in alert.inner_text()
    screenshot(expert, "moderator-alert")
    alert.get_by_role("button", name="Seen").click()
    alert.wait_for(state="detached")
    assert expert.locator("#sec-alerts").is_hidden()


def test_dutch_verb_final_threat_reaches_the_console_with_24_hour_times(factory, live, new_page):
    """Issue #14: a Dutch threat with the verb at the end alerts the peer expert (danger and weapons), and the
    console, in English, shows times in 24-hour format like the rest of the site (not "06:52 AM")."""
    scene = factory.scene()
    expert = open_meeting_as_expert(new_page, scene.meeting.id)
    alice = new_page(width=360, height=740)
    login(alice, "alice")
    alice.goto("/home?lang=nl")
    alice.goto(f"/meetings/{scene.meeting.id}")
    alice.locator("#safety-check button[value=skip]").click()
    alice.locator("#message-input:not([disabled])").wait_for()
    alice.locator("#message-input").fill("Ik ben zo bang dat hij een mes heeft en me gaat vermoorden")
    alice.locator("#message-input").press("Enter")
    alice.locator("#messages .crisis-note").wait_for()

    alerts = expert.locator("#alert-list .alert-item")
    wait_until(lambda: alerts.count() == 2, message="two alerts for the peer expert")
    text = expert.locator("#alert-list").inner_text()
    assert "Possible danger" in text and "Weapons mentioned" in text
    times = expert.locator("#chat").inner_text() + text
    assert re.search(r"\b\d\d:\d\d\b", times) and not re.search(r"\b[AP]\.?M\b", times), times
    screenshot(expert, "moderator-alert-word-order")
