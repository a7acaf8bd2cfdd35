"""The peer expert's console (issue #14): the attention strip (alerts, reports, waiting room, raised hands,
messages to approve, with live counts) opens the right panel; the message an alert or report is about is
marked in the chat and scrolled to; a message's actions (pin, delete, mark for incident) sit in its menu;
"Unmute" shows only for who is muted (from the server: also after a reload); a handover note just written is
listed under this meeting, not under "earlier meetings".

Screenshots: test-output/console-desktop.png, test-output/console-phone.png.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from supportgroup.extensions import db
from supportgroup.models import HandoverNote, Meeting, MeetingState, Membership
from supportgroup.realtime import messages as services

from .conftest import LIVE_INPUT, SCREENSHOTS, enter_meeting, login

pytestmark = [pytest.mark.browser, pytest.mark.live]

MENU = "Actions for this message"
CRISIS = "ik wil niet meer leven"


def membership(scene, user) -> Membership:
    return db.session.scalar(
        select(Membership).where(Membership.group_id == scene.group.id, Membership.user_id == user.id)
    )


def enter(page, name: str, meeting_id: int) -> None:
    login(page, name)
    enter_meeting(page, meeting_id)


def send(page, text: str) -> None:
    page.locator("#message-input").fill(text)
    page.locator("#send-button").click()


def chip(page, label: str):
    return page.locator("#attention").get_by_role("button", name=label)


def count_of(page, label: str) -> str:
    return chip(page, label).locator(".count").inner_text()


def in_messages_box(page, item) -> bool:
    """The message is inside the visible part of the scrolling message list."""
    return item.evaluate(
        "(el) => { const box = el.closest('.messages').getBoundingClientRect(); const r = el.getBoundingClientRect();"
        " return r.top >= box.top - 1 && r.bottom <= box.bottom + 1; }"
    )


def in_viewport(page, selector) -> bool:
    box = page.locator(selector).bounding_box()
    view = page.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] < view["height"]


def test_the_attention_strip_counts_and_opens_the_panel_and_an_alert_marks_its_message(factory, live, new_page):
    scene = factory.scene()
    expert = new_page()
    enter(expert, "expert", scene.meeting.id)
    alice, bob = new_page(), new_page()
    enter(alice, "alice", scene.meeting.id)
    enter(bob, "bob", scene.meeting.id)
    for label in ("Alerts", "Reports", "Waiting room", "Hands", "To approve"):
        assert count_of(expert, label) == "0", label

    # A crisis signal, a report and a raised hand: the strip counts them live.
    send(alice, CRISIS)
    send(bob, "Something unkind")
    line = alice.locator("#messages .message", has_text="Something unkind")
    line.wait_for(timeout=10000)
    line.get_by_role("button", name=MENU).click()
    line.get_by_role("button", name="Report").click()
    line.locator(".report-form input").fill("This hurt")
    line.get_by_role("button", name="Send report").click()
    alice.locator("#hand-button:not([disabled])").click()
    for name in ("alerts", "reports", "hands"):
        expect(expert.locator(f"#attention [data-count={name}] .count")).to_have_text("1", timeout=10000)
    assert "has-items" in (chip(expert, "Alerts").get_attribute("class") or "")

    # The messages of the alert and the report are marked in the chat.
    crisis = expert.locator("#messages .message", has_text=CRISIS)
    unkind = expert.locator("#messages .message", has_text="Something unkind")
    assert "flagged" in crisis.get_attribute("class") and "flagged" in unkind.get_attribute("class")

    # Many lines later both are scrolled out of the list ...
    meeting = db.session.get(Meeting, scene.meeting.id)
    bob_member = membership(scene, scene.bob)
    for number in range(40):
        services.post_message(meeting, bob_member, f"later-{number:05d}", f"A later line {number}")
    db.session.commit()
    send(bob, "The newest line")
    expert.locator("#messages .message", has_text="The newest line").wait_for(timeout=15000)
    expert.locator("#messages .message", has_text="A later line 39").wait_for(timeout=15000)
    expert.locator("#messages").evaluate("(el) => { const box = el.parentElement; box.scrollTop = box.scrollHeight; }")
    assert not in_messages_box(expert, crisis)

    # ... a tap on "Show in chat" in the alert brings the message back into view, marked.
    alert_row = expert.locator("#alert-list .alert-item", has_text=CRISIS)
    alert_row.get_by_role("button", name="Show in chat").click()
    expect(crisis).to_have_class(re.compile(r"\bspotlight\b"))
    assert in_messages_box(expert, crisis)

    # The strip's "Reports" opens the reports panel (focus on its title) and shows the reported message.
    expert.locator("#messages").evaluate("(el) => { const box = el.parentElement; box.scrollTop = box.scrollHeight; }")
    expert.evaluate("document.getElementById('sec-reports').open = false")
    chip(expert, "Reports").click()
    assert expert.locator("#sec-reports").get_attribute("open") is not None
    assert expert.evaluate("document.activeElement === document.querySelector('#sec-reports > summary')")
    assert in_viewport(expert, "#sec-reports > summary")
    assert in_messages_box(expert, unkind)
    chip(expert, "Hands").click()
    assert expert.locator("#sec-hands").get_attribute("open") is not None
    assert in_viewport(expert, "#sec-hands > summary")

    # Resolving the alert: the count goes down and the mark goes.
    alert_row.get_by_role("button", name="Seen").click()
    expect(expert.locator("#attention [data-count=alerts] .count")).to_have_text("0", timeout=10000)
    expect(crisis).not_to_have_class(re.compile(r"\bflagged\b"))
    assert "flagged" in unkind.get_attribute("class")  # the report is still open
    SCREENSHOTS.mkdir(exist_ok=True)
    expert.screenshot(path=str(SCREENSHOTS / "console-desktop.png"))


def test_the_console_on_a_phone_keeps_the_strip_and_the_box_in_view(factory, live, new_page):
    scene = factory.scene()
    phone = new_page(width=360, height=740)
    enter(phone, "expert", scene.meeting.id)
    alice = new_page()
    enter(alice, "alice", scene.meeting.id)
    send(alice, CRISIS)
    alice.locator("#hand-button:not([disabled])").click()
    expect(phone.locator("#attention [data-count=alerts] .count")).to_have_text("1", timeout=10000)
    expect(phone.locator("#attention [data-count=hands] .count")).to_have_text("1", timeout=10000)
    for selector in ("#attention", "#message-input", "#messages .message:last-child"):
        box = phone.locator(selector).bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= 740, (selector, box)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    SCREENSHOTS.mkdir(exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "console-phone.png"))
    # A tap on "Alerts" opens the alerts below the chat; the strip stays on screen above them.
    chip(phone, "Alerts").click()
    phone.locator("#sec-alerts").wait_for(state="visible")
    expect(phone.locator("#alerts-title")).to_be_focused()
    assert in_viewport(phone, "#alerts-title")
    strip = phone.locator("#attention").bounding_box()
    assert strip and 0 <= strip["y"] < 200, strip
    phone.screenshot(path=str(SCREENSHOTS / "console-phone-alerts.png"))


def test_a_peer_experts_message_actions_are_in_its_menu(factory, live, new_page):
    scene = factory.scene()
    expert = new_page()
    enter(expert, "expert", scene.meeting.id)
    alice = new_page()
    enter(alice, "alice", scene.meeting.id)
    send(alice, "Please pin this one")
    send(alice, "A line for the incident")
    send(alice, "A line to delete")
    pin_line = expert.locator("#messages .message", has_text="Please pin this one")
    incident_line = expert.locator("#messages .message", has_text="A line for the incident")
    delete_line = expert.locator("#messages .message", has_text="A line to delete")
    delete_line.wait_for(timeout=10000)
    assert expert.locator("#messages input[type=checkbox]").count() == 0  # no checkbox on every message
    assert pin_line.get_by_role("button", name="Pin").is_hidden()

    pin_line.get_by_role("button", name=MENU).click()
    pin_line.get_by_role("button", name="Pin").click()
    alice.locator("#pinned", has_text="Please pin this one").wait_for(timeout=10000)
    assert pin_line.get_by_role("button", name=MENU).get_attribute("aria-expanded") == "false"

    incident_line.get_by_role("button", name=MENU).click()
    mark = incident_line.locator(".msg-menu .incident-pick")
    assert mark.is_visible() and mark.inner_text() == "Mark for incident"
    assert mark.get_attribute("aria-pressed") == "false"
    mark.click()
    assert mark.get_attribute("aria-pressed") == "true"
    assert incident_line.locator(".incident-tag").is_visible()
    assert expert.locator("#incident-selected").inner_text() == "1 messages selected"

    delete_line.get_by_role("button", name=MENU).click()
    delete_line.get_by_role("button", name="Delete").click()
    alice.locator("#messages .message", has_text="A line to delete").wait_for(state="detached", timeout=10000)


def test_unmute_shows_only_for_who_is_muted(factory, live, new_page):
    scene = factory.scene()
    expert = new_page()
    enter(expert, "expert", scene.meeting.id)
    alice = new_page()
    enter(alice, "alice", scene.meeting.id)
    alias = scene.memberships["alice"].alias

    def person():
        people = expert.locator("#sec-people")
        if people.get_attribute("open") is None:
            people.locator("summary").first.click()
        row = expert.locator("#present li.person", has_text=alias)
        row.wait_for(timeout=10000)
        if row.locator("details.person-actions").get_attribute("open") is None:
            row.get_by_text("Actions", exact=True).click()
        return row

    row = person()
    assert row.get_by_role("button", name="Mute", exact=True).is_visible()
    assert row.get_by_role("button", name="Unmute").is_hidden()
    row.get_by_label("Mute for").select_option(label="until unmuted")
    row.get_by_label("Reason").first.fill("A pause")
    row.get_by_role("button", name="Mute", exact=True).click()
    row.get_by_role("button", name="Unmute").wait_for(state="visible", timeout=10000)

    expert.reload()  # the server says who is muted: still there after a reload
    expert.locator(LIVE_INPUT).wait_for(timeout=10000)
    row = person()
    row.get_by_role("button", name="Unmute").wait_for(state="visible", timeout=10000)
    row.get_by_role("button", name="Unmute").click()
    row.get_by_role("button", name="Unmute").wait_for(state="hidden", timeout=10000)
    alice.locator(LIVE_INPUT).wait_for(timeout=10000)


def test_a_handover_note_just_written_is_not_under_earlier_meetings(factory, live, new_page):
    scene = factory.scene()
    earlier = factory.meeting(scene.group, MeetingState.CLOSED, starts_in=timedelta(days=-7), title="Last week")
    expert_member = membership(scene, scene.expert)
    db.session.add(
        HandoverNote(
            group_id=scene.group.id, meeting_id=earlier.id, author_membership_id=expert_member.id, note="From last week"
        )
    )
    db.session.commit()
    expert = new_page()
    enter(expert, "expert", scene.meeting.id)
    earlier_list = expert.locator("#handover-list")
    this_list = expert.locator("#handover-this-meeting")
    earlier_list.locator("li", has_text="From last week").wait_for(state="attached", timeout=10000)
    assert this_list.is_hidden()

    section = expert.locator("#sec-incident")
    if section.get_attribute("open") is None:
        section.locator("summary").click()
    expert.locator("#handover-note").fill("Alice may need a call")
    expert.get_by_role("button", name="Save note").click()
    expert.get_by_text("Your note is saved for the next meeting.").wait_for(timeout=10000)
    this_list.locator("li", has_text="Alice may need a call").wait_for(timeout=10000)
    assert earlier_list.locator("li", has_text="Alice may need a call").count() == 0
    assert expert.get_by_role("heading", name="Notes written in this meeting").is_visible()

    expert.reload()  # and so from the snapshot
    expert.locator(LIVE_INPUT).wait_for(timeout=10000)
    this_list.locator("li", has_text="Alice may need a call").wait_for(state="attached", timeout=10000)
    assert earlier_list.locator("li", has_text="Alice may need a call").count() == 0
    assert earlier_list.locator("li", has_text="From last week").count() == 1
