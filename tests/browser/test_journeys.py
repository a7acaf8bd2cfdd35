"""Whole journeys in real Chromium, the way people go through them, several people at once where they meet:
a coordinator sets up a group with a weekly meeting and an invite code; a new participant registers, joins
and accepts the house rules; the peer expert opens the meeting and they chat; the peer expert deletes a
message and mutes the participant. Then: the interface in Dutch, markup in a message shown as plain text,
and the chat and quick exit on a phone. (Quick exit itself: test_safety_browser.py.)"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from supportgroup.models import Role

from .conftest import LIVE_INPUT, enter_meeting, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

NEW_PASSWORD = "a long enough passphrase 42"


def open_meeting_as_expert(new_page, meeting_id, username="expert"):
    page = new_page()
    login(page, username)
    page.goto(f"/meetings/{meeting_id}")
    page.locator(LIVE_INPUT).wait_for(timeout=10000)
    return page


def send(page, text):
    page.locator("#message-input").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def message(page, text):
    return page.locator("#messages .message", has=page.locator(".text", has_text=text))


# --- 1-4: from an empty group to a moderated chat -------------------------------------------------------


def test_from_new_group_to_moderated_meeting(factory, live, new_page):
    factory.user("coord", Role.COORDINATOR)
    factory.user("expert", Role.PEER_EXPERT, first_name="Sam")  # trained

    # 1. The coordinator creates a group ...
    coord = new_page()
    login(coord, "coord")
    coord.goto("/groups/new")
    coord.get_by_label("Name").fill("Thursday evening group")
    coord.get_by_label("Kind").select_option(label="Survivors")
    coord.get_by_label("Language").select_option(label="English")
    coord.get_by_label("Capacity").fill("8")
    coord.get_by_label("Description").fill("A group for the evening.")
    screenshot(coord, "journey-01-new-group")
    coord.get_by_role("button", name="Create group").click()
    coord.wait_for_url(re.compile(r"/groups/\d+$"))
    group_url = coord.url
    group_id = int(group_url.rstrip("/").rsplit("/", 1)[1])
    coord.get_by_role("heading", name="Thursday evening group", level=1).wait_for()
    coord.get_by_text("The group has been created.").wait_for()

    # ... assigns the peer expert ...
    coord.locator("#moderator-username").fill("expert")
    coord.get_by_role("button", name="Assign peer expert").click()
    coord.get_by_text("The peer expert now moderates this group.").wait_for()
    peer_experts = coord.locator("section.card", has=coord.get_by_role("heading", name="Peer experts"))
    assert "Sam" in peer_experts.inner_text()

    # ... plans a weekly meeting ...
    coord.get_by_role("link", name="Plan a meeting or a series").click()
    coord.wait_for_url(re.compile(rf"/schedule/groups/{group_id}/meetings/new$"))
    first_day = date.today() + timedelta(days=1)
    coord.get_by_label("Title").fill("Weekly talk")
    coord.get_by_label("Date", exact=True).fill(first_day.isoformat())
    coord.get_by_label("Start time (local)").fill("19:30")
    coord.get_by_label("Duration in minutes").fill("90")
    coord.get_by_label("Every week or every few weeks").check()
    coord.get_by_label("Every how many weeks or months").fill("1")
    coord.get_by_label("Day of the week").select_option(str(first_day.weekday()))
    coord.get_by_label("Or: number of meetings (optional)").fill("4")
    screenshot(coord, "journey-02-plan-weekly")
    coord.get_by_role("button", name="Plan", exact=True).click()
    coord.get_by_text("The series has been planned.").wait_for()
    screenshot(coord, "journey-03-calendar")

    coord.goto(group_url)
    meetings = coord.locator("section.card", has=coord.get_by_role("heading", name="Meetings")).get_by_role(
        "link", name="Weekly talk"
    )
    assert meetings.count() == 4  # a weekly series of four
    meeting_href = meetings.first.get_attribute("href")
    meeting_id = int(re.search(r"/meetings/(\d+)", meeting_href).group(1))

    # ... and makes an invite code.
    coord.get_by_role("button", name="Make invite code").click()
    coord.get_by_text("New invite code:").wait_for()
    invites = coord.locator("section.card", has=coord.get_by_role("heading", name="Invite codes"))
    code = invites.locator("li code").first.inner_text().strip()
    assert code and code in coord.get_by_text("New invite code:").inner_text()
    screenshot(coord, "journey-04-group-page")

    # 2. A new participant registers, uses the invite and accepts the house rules.
    newbie = new_page()
    newbie.goto("/register")
    newbie.get_by_label("Username").fill("newcomer")
    newbie.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    newbie.get_by_label("Repeat password").fill(NEW_PASSWORD)
    screenshot(newbie, "journey-05-register")
    newbie.get_by_role("button", name="Create account").click()
    newbie.get_by_text("Welcome. Your account is ready.").wait_for()
    newbie.get_by_role("link", name="I have saved them, continue").click()  # after the recovery codes
    newbie.wait_for_url(re.compile(r"/home$"))

    newbie.goto("/groups/join")
    newbie.get_by_label("Invite code").fill(code)
    newbie.get_by_role("button", name="Join the group").click()
    newbie.wait_for_url(re.compile(rf"/groups/{group_id}/about$"))
    intro = newbie.get_by_text(re.compile(r"In this group you are .+\. Nobody in the group sees your username\."))
    alias = re.search(r"In this group you are (.+?)\. Nobody", intro.inner_text()).group(1)
    assert alias and "newcomer" not in alias
    assert alias in newbie.get_by_text("Welcome to the group.").inner_text()
    newbie.get_by_role("button", name="I accept the house rules").click()
    newbie.get_by_text("You have accepted these house rules.").first.wait_for()
    assert newbie.get_by_text(f"In this group you are {alias}.").is_visible()
    screenshot(newbie, "journey-06-joined")

    # The coordinator sees the alias, not the username.
    coord.goto(group_url)
    participants = coord.locator("section.card", has=coord.get_by_role("heading", name="Participants"))
    assert alias in participants.inner_text() and "newcomer" not in participants.inner_text()

    # 3. The peer expert opens the meeting; participant and peer expert chat.
    expert = new_page()
    login(expert, "expert")
    expert.goto(f"/meetings/{meeting_id}")
    expert.get_by_role("button", name="Open meeting").click()
    # The meeting starts tomorrow: opening it before its lobby time asks to confirm first.
    expert.get_by_role("button", name="Yes, open it now").click()
    expert.locator(LIVE_INPUT).wait_for(timeout=10000)
    assert expert.locator("#meeting-state").get_attribute("data-state") == "open"
    screenshot(expert, "journey-07-meeting-opened")

    enter_meeting(newbie, meeting_id)
    assert newbie.get_by_text(f"You are here as {alias}.").is_visible()
    expert.locator("#present", has_text=alias).wait_for(timeout=10000)

    send(newbie, "Hello, this is my first time here")
    message(newbie, "Hello, this is my first time here").wait_for(timeout=10000)
    message(expert, "Hello, this is my first time here").wait_for(timeout=10000)
    send(expert, "Welcome, glad you came")
    message(expert, "Welcome, glad you came").wait_for(timeout=10000)
    message(newbie, "Welcome, glad you came").wait_for(timeout=10000)
    send(newbie, "Something I regret writing")
    message(expert, "Something I regret writing").wait_for(timeout=10000)
    screenshot(newbie, "journey-08-chat-participant")
    screenshot(expert, "journey-09-chat-expert")

    # 4. The peer expert deletes a message: it vanishes for the participant too ...
    message(expert, "Something I regret writing").get_by_role("button", name="Actions for this message").click()
    message(expert, "Something I regret writing").get_by_role("button", name="Delete").click()
    message(expert, "Something I regret writing").wait_for(state="detached", timeout=10000)
    message(newbie, "Something I regret writing").wait_for(state="detached", timeout=10000)
    assert message(newbie, "Hello, this is my first time here").is_visible()

    # ... and mutes the participant: the participant can no longer write.
    people = expert.locator("#sec-people")
    if people.get_attribute("open") is None:
        people.locator("summary").first.click()
    person = expert.locator("#present li.person", has_text=alias)
    person.get_by_text("Actions", exact=True).click()
    person.get_by_label("Mute for").select_option(label="until unmuted")
    person.get_by_label("Reason").first.fill("Time to listen for a while")
    person.get_by_role("button", name="Mute", exact=True).click()
    person.locator(".tag.muted-tag").wait_for(timeout=10000)
    screenshot(expert, "journey-10-muted-console")

    newbie.locator("#message-input[disabled]").wait_for(timeout=10000)
    assert newbie.locator("#send-button").is_disabled()
    notice = newbie.locator("#notice-muted")
    notice.wait_for(state="visible", timeout=10000)
    assert "You cannot write until a peer expert allows it again." in notice.inner_text()
    assert "Time to listen for a while" in notice.inner_text()
    screenshot(newbie, "journey-11-muted-participant")


# --- 6: the interface in Dutch ---------------------------------------------------------------------------


def test_interface_in_dutch_from_the_browser_language(factory, live, browser):
    factory.user("alice")
    context = browser.new_context(
        base_url=live.url,
        locale="nl-NL",
        extra_http_headers={"Accept-Language": "nl"},
        viewport={"width": 1280, "height": 800},
    )
    context.set_default_timeout(8000)
    try:
        page = context.new_page()
        page.goto("/login")
        assert page.locator("html").get_attribute("lang") == "nl"
        page.get_by_role("button", name="Inloggen").wait_for()
        assert page.get_by_role("link", name="Snel weg").is_visible()
        screenshot(page, "journey-12-login-dutch")
        login(page, "alice")
        assert page.locator("html").get_attribute("lang") == "nl"
        assert page.get_by_role("link", name="Snel weg").is_visible()
        screenshot(page, "journey-13-home-dutch")
    finally:
        context.close()


# --- 7: markup in a message is text, and runs nothing ----------------------------------------------------

PAYLOAD = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def test_markup_in_a_message_shows_as_plain_text(factory, live, new_page):
    scene = factory.scene()
    dialogs = []
    expert = open_meeting_as_expert(new_page, scene.meeting.id)
    expert.on("dialog", lambda dialog: (dialogs.append(("expert", dialog.message)), dialog.dismiss()))
    alice = new_page()
    alice.on("dialog", lambda dialog: (dialogs.append(("alice", dialog.message)), dialog.dismiss()))
    login(alice, "alice")
    enter_meeting(alice, scene.meeting.id)

    send(alice, PAYLOAD)
    for page in (alice, expert):
        text = page.locator("#messages .message .text", has_text="onerror=alert(1)")
        text.wait_for(timeout=10000)
        assert text.inner_text() == PAYLOAD  # literally, as typed
        assert page.locator("#messages img, #messages script").count() == 0
    alice.reload()  # and again from the replay of earlier messages
    alice.locator(LIVE_INPUT).wait_for(timeout=10000)
    replayed = alice.locator("#messages .message .text", has_text="onerror=alert(1)")
    replayed.wait_for(timeout=10000)
    assert replayed.inner_text() == PAYLOAD
    alice.wait_for_timeout(1000)  # give a broken image time to fire onerror
    assert dialogs == []
    assert alice.locator("#messages img, #messages script").count() == 0
    screenshot(alice, "journey-14-markup-as-text")


# --- 8: on a phone ---------------------------------------------------------------------------------------


def test_chat_and_quick_exit_on_a_phone(factory, live, new_page):
    width, height = 360, 740
    scene = factory.scene()
    expert = open_meeting_as_expert(new_page, scene.meeting.id)
    phone = new_page(width=width, height=height)
    login(phone, "alice")
    enter_meeting(phone, scene.meeting.id)

    box = phone.locator("#message-input")
    box.click()
    box.fill("Writing from my phone")
    phone.get_by_role("button", name="Send", exact=True).click()
    message(phone, "Writing from my phone").wait_for(timeout=10000)
    message(expert, "Writing from my phone").wait_for(timeout=10000)

    send(expert, "Read you on the phone")
    message(phone, "Read you on the phone").wait_for(timeout=10000)

    # nothing sticks out sideways
    assert phone.evaluate("document.documentElement.scrollWidth") <= width
    for selector in ("#message-input", "#send-button"):
        phone.locator(selector).scroll_into_view_if_needed()
        rect = phone.locator(selector).bounding_box()
        assert rect and rect["x"] >= 0 and rect["x"] + rect["width"] <= width, (selector, rect)

    quick_exit = phone.get_by_role("link", name="Quick exit")
    assert quick_exit.is_visible()
    rect = quick_exit.bounding_box()
    assert rect and rect["x"] >= 0 and rect["x"] + rect["width"] <= width, rect
    assert rect["y"] >= 0 and rect["y"] + rect["height"] <= height, rect  # in view, also after sending
    screenshot(phone, "journey-15-phone-chat")
