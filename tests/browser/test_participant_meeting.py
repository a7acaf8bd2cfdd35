"""A new participant inside a meeting, on a 360 px phone (issue #14), the peer expert on a desktop beside her:
the meeting is not open yet (a countdown; the safety check waits for the lobby) -> the house rules accepted on
the meeting page -> refused because the meeting is locked -> let in live when it is unlocked (no reload) ->
the chat -> a whisper from the peer expert is obvious -> the meeting closes -> the closing screen, with nothing
of the conversation left on the page. Screenshots: test-output/meeting-countdown-phone.png,
participant-rules-phone.png, participant-locked-phone.png, whisper-cue-phone.png, closing-screen-phone.png.
The server side of each step: tests/test_participant_meeting.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from supportgroup.extensions import db
from supportgroup.models import MeetingState

from .conftest import LIVE_INPUT, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

SECRET_LINE = "I finally told my sister what happens at home"
WELCOME = "Welcome, glad you found us"
WHISPER = "Just checking in with you privately"


def open_section(page, section_id):
    """Open a section of the peer expert's console (a <details>), whatever state it was left in."""
    page.evaluate("id => { document.getElementById(id).open = true; }", section_id)


def test_a_new_participant_from_countdown_to_closing_screen(factory, live, new_page):
    scene = factory.scene(MeetingState.SCHEDULED)
    starts = datetime.now(UTC) + timedelta(hours=2)
    scene.meeting.starts_at = starts
    scene.group.house_rules = "<p>We listen to each other and keep what is said here private.</p>"
    db.session.commit()
    factory.meeting(scene.group, MeetingState.SCHEDULED, timedelta(days=7), title="Next week")
    carol_user = factory.user("carol")
    carol_alias = factory.member(scene.group, carol_user, accept_rules=False).alias

    # 1. Two hours before: the start time and a countdown; the safety check waits for the lobby.
    phone = new_page(360, 740)
    phone.clock.install()  # the page's own clock, to reach the lobby without waiting
    login(phone, "carol")
    phone.goto(f"/meetings/{scene.meeting.id}?lang=en")
    countdown = phone.locator("#countdown-left")
    countdown.wait_for()
    expect(countdown).to_have_text(re.compile(r"^Starts in "))
    assert "Starts in 1 h 5" in countdown.inner_text() or "Starts in 2 h 0" in countdown.inner_text()
    assert "The meeting starts on" in phone.locator("#countdown-title").inner_text()
    assert phone.locator("#safety-check").is_hidden()
    assert phone.get_by_text("You can come in from").is_visible()
    screenshot(phone, "meeting-countdown-phone")

    # The lobby opens (15 minutes before the start): the page shows the safety check by itself.
    phone.clock.fast_forward("01:45:05")
    phone.locator("#safety-check").wait_for(state="visible")
    assert phone.get_by_text("You can come in from").is_hidden()
    phone.get_by_role("button", name="Skip the check").click()

    # 2. The house rules, on the meeting page, instead of an empty chat.
    rules = phone.locator("#rules-card")
    rules.wait_for()
    assert "We listen to each other" in rules.inner_text()
    assert phone.get_by_text("You can come in from").is_hidden()  # the lobby is open on this page's clock
    assert phone.locator("#chat-layout").is_hidden()
    screenshot(phone, "participant-rules-phone")

    # Meanwhile the peer expert opens the meeting and locks it.
    expert = new_page()
    login(expert, "expert")
    expert.goto(f"/meetings/{scene.meeting.id}")
    expert.get_by_role("button", name="Open meeting").click()
    # Two hours ahead is before the lobby time: opening early asks to confirm first (scheduling.confirm_open).
    expert.get_by_role("button", name="Yes, open it now").click()
    expert.locator(LIVE_INPUT).wait_for(timeout=10000)
    open_section(expert, "sec-controls")
    expert.locator("#lock").click()
    expert.locator("#lock[aria-pressed=true]").wait_for()

    # 3. She accepts the rules: the page comes back with the chat, and says the meeting is locked.
    rules.get_by_role("button", name="Accept and go on").click()
    status = phone.locator("#chat-status")
    status.wait_for(state="visible")
    expect(status).to_contain_text("locked right now")
    assert phone.locator("#rules-card").count() == 0
    assert phone.locator("#message-input").is_disabled()
    screenshot(phone, "participant-locked-phone")

    # 4. The peer expert unlocks: she is let in live, without a reload.
    phone.evaluate("window.sgSamePage = true")
    expert.locator("#lock").click()
    expert.locator("#lock[aria-pressed=false]").wait_for()
    phone.locator(LIVE_INPUT).wait_for(timeout=10000)
    assert phone.evaluate("window.sgSamePage === true")
    assert status.is_hidden()

    # 5. The chat.
    expert.locator("#message-input").fill(WELCOME)
    expert.get_by_role("button", name="Send", exact=True).click()
    phone.locator("#messages .text", has_text=WELCOME).wait_for()
    phone.locator("#message-input").fill(SECRET_LINE)
    phone.get_by_role("button", name="Send", exact=True).click()
    expert.locator("#messages .text", has_text=SECRET_LINE).wait_for()

    # 6. A whisper from the peer expert: a banner and the thread opens (no sound).
    open_section(expert, "sec-whispers")
    expert.locator("#whisper-to").select_option(label=carol_alias)
    expert.locator("#mod-whisper-input").fill(WHISPER)
    expert.locator("#mod-whisper-form").get_by_role("button", name="Send privately").click()
    cue = phone.locator("#whisper-cue")
    cue.wait_for(state="visible")
    assert "New private message from a peer expert." in cue.inner_text()
    assert phone.locator("#whispers").get_attribute("open") is not None
    phone.locator("#whisper-list", has_text=WHISPER).wait_for()
    phone.evaluate("window.scrollTo(0, 0)")  # the full-page screenshot, without the sticky bar halfway
    screenshot(phone, "whisper-cue-phone")
    cue.get_by_role("button", name="Read it").click()
    cue.wait_for(state="hidden")

    # 7. The peer expert closes the meeting: the closing screen, and nothing of the conversation stays.
    expert.locator("#close-meeting").click()
    expert.locator("#close-yes").click()
    closing = phone.locator("#closing")
    closing.wait_for(state="visible")
    text = closing.inner_text()
    assert "Thank you for being here" in text and "Next week" in text
    assert "0800 2000" in text  # where to find help (safety/resources)
    html = phone.evaluate("document.documentElement.outerHTML")
    for line in (SECRET_LINE, WELCOME, WHISPER):
        assert line not in html
    assert phone.evaluate("document.getElementById('message-input').value") == ""
    assert phone.locator(".flashes").count() == 0  # "You have accepted the house rules" was said an hour ago
    phone.evaluate("window.scrollTo(0, 0)")
    screenshot(phone, "closing-screen-phone")


def test_an_early_opening_reaches_the_countdown_page_without_a_reload(factory, live, new_page):
    """Days ahead, the page counts down and keeps the safety check for the lobby time. The peer expert opens the
    meeting early: within the page's next check (every 30 s) the safety check appears, no reload."""
    scene = factory.scene(MeetingState.SCHEDULED)
    scene.meeting.starts_at = datetime.now(UTC) + timedelta(days=2)
    db.session.commit()
    phone = new_page(360, 740)
    phone.clock.install()
    login(phone, "alice")
    phone.goto(f"/meetings/{scene.meeting.id}")
    phone.locator("#countdown-left").wait_for()
    assert phone.locator("#safety-check").is_hidden()

    expert = new_page()
    login(expert, "expert")
    expert.goto(f"/meetings/{scene.meeting.id}")
    expert.get_by_role("button", name="Open meeting").click()
    expert.get_by_role("button", name="Yes, open it now").click()
    expert.locator(LIVE_INPUT).wait_for(timeout=10000)

    phone.clock.fast_forward("00:31")
    phone.locator("#safety-check").wait_for(state="visible", timeout=10000)
    phone.get_by_role("button", name="Skip the check").click()
    phone.locator(LIVE_INPUT).wait_for(timeout=10000)


def test_the_wait_ends_when_slow_mode_ends(factory, live, new_page):
    """Slow mode refuses a second message and the send button counts down ("Wait 59 s"); when the peer expert
    turns slow mode off, the button says "Send" again at once and the note about waiting goes."""
    scene = factory.scene()
    expert = new_page()
    login(expert, "expert")
    expert.goto(f"/meetings/{scene.meeting.id}")
    expert.locator(LIVE_INPUT).wait_for(timeout=10000)
    open_section(expert, "sec-controls")
    expert.locator(".slow-mode [data-seconds='60']").click()
    expert.locator(".slow-mode [data-seconds='60'][aria-pressed=true]").wait_for()

    phone = new_page(360, 740)
    login(phone, "alice")
    phone.goto(f"/meetings/{scene.meeting.id}")
    phone.get_by_role("button", name="Skip the check").click()
    phone.locator(LIVE_INPUT).wait_for(timeout=10000)
    for text in ("first line", "second line"):
        phone.locator("#message-input").fill(text)
        phone.locator("#send-button").click()
        if text == "first line":
            phone.locator("#messages .text", has_text=text).wait_for()
    send = phone.locator("#send-button")
    expect(send).to_have_text(re.compile(r"^Wait \d+ s$"))
    assert send.is_disabled()

    expert.locator(".slow-mode [data-seconds='0']").click()
    expect(send).to_have_text("Send")
    assert send.is_enabled()
    assert "Slow mode" not in phone.locator("#send-note").inner_text()
    assert phone.locator("#notice-slow").is_hidden()
