"""The chat's layout (issue #14): on a 360 px phone the messages take the screen and the box to write in stays
at the bottom, also with 50 messages and a pinned message, in English and Dutch; a pinned message does not
push the box off a desktop screen either; the site navigation folds into a "Menu" button on a phone; a
message's actions (report, delete one's own) sit in its own small menu.

Screenshots: test-output/phone-chat.png (a participant, 360 px), test-output/layout-*.png.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from supportgroup.extensions import db
from supportgroup.models import Meeting, Membership
from supportgroup.realtime import messages as services

from .conftest import LIVE_INPUT, SCREENSHOTS, enter_meeting, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

MENU = "Actions for this message"


def membership(scene, user) -> Membership:
    return db.session.scalar(
        select(Membership).where(Membership.group_id == scene.group.id, Membership.user_id == user.id)
    )


def fifty_messages_and_a_pin(scene) -> None:
    """50 lines from bob in the meeting, the first one long and pinned."""
    meeting = db.session.get(Meeting, scene.meeting.id)
    bob = membership(scene, scene.bob)
    long_text = "Please remember: what is said here stays here. " * 6
    first = services.post_message(meeting, bob, "line-00000", long_text).seq
    for number in range(1, 50):
        services.post_message(meeting, bob, f"line-{number:05d}", f"Line number {number}")
    meeting.pinned_seq = first
    db.session.commit()


def expert_present(new_page, meeting_id: int):
    expert = new_page()
    login(expert, "expert")
    expert.goto(f"/meetings/{meeting_id}")
    expert.locator(LIVE_INPUT).wait_for(timeout=10000)
    return expert


def inside(page, selector: str) -> None:
    view = page.viewport_size
    box = page.locator(selector).bounding_box()
    assert box, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= view["width"], (selector, box, view)
    assert box["y"] >= 0 and box["y"] + box["height"] <= view["height"], (selector, box, view)


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"], ids=["en", "nl"])
def test_on_a_phone_the_last_message_and_the_box_to_write_in_are_on_screen(factory, live, new_page, locale):
    scene = factory.scene()
    fifty_messages_and_a_pin(scene)
    expert_present(new_page, scene.meeting.id)
    phone = new_page(width=360, height=740, locale=locale)
    login(phone, "alice")
    enter_meeting(phone, scene.meeting.id)
    last = phone.locator("#messages .message", has_text="Line number 49")
    last.wait_for(timeout=10000)
    phone.locator("#pinned").wait_for(state="visible")
    phone.wait_for_function("document.querySelector('#messages .message:last-child') !== null")

    inside(phone, "#message-input")
    inside(phone, "#send-button")
    inside(phone, "#messages .message:last-child")
    inside(phone, "#pinned")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    # The pinned message is short (two lines) until it is opened.
    pinned_text = phone.locator("#pinned-text")
    closed_height = pinned_text.bounding_box()["height"]
    toggle = phone.locator("#pinned-toggle")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert pinned_text.bounding_box()["height"] > closed_height
    inside(phone, "#message-input")  # opened, it still leaves the box on screen
    toggle.click()

    # A line written now is shown above the box, on screen.
    phone.locator("#message-input").fill("Written on my phone")
    phone.locator("#send-button").click()
    # The server's copy (with its id) takes the place of the "sending" line: wait for it, at the end.
    phone.locator("#messages .message[data-id]:last-child", has_text="Written on my phone").wait_for(timeout=10000)
    phone.wait_for_function(
        "(() => { const box = document.querySelector('.messages');"
        " return box.scrollHeight - box.scrollTop - box.clientHeight < 4; })()"
    )
    inside(phone, "#messages .message[data-id]:last-child")
    inside(phone, "#message-input")
    SCREENSHOTS.mkdir(exist_ok=True)
    name = "phone-chat" if locale == "en-GB" else "phone-chat-nl"
    phone.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def test_a_pinned_message_leaves_the_box_on_a_desktop_screen(factory, live, new_page):
    scene = factory.scene()
    fifty_messages_and_a_pin(scene)
    expert = expert_present(new_page, scene.meeting.id)
    expert.locator("#messages .message", has_text="Line number 49").wait_for(timeout=10000)
    expert.locator("#pinned").wait_for(state="visible")
    inside(expert, "#message-input")
    inside(expert, "#messages .message:last-child")
    desk = new_page()
    login(desk, "alice")
    enter_meeting(desk, scene.meeting.id)
    desk.locator("#messages .message", has_text="Line number 49").wait_for(timeout=10000)
    desk.locator("#pinned").wait_for(state="visible")
    inside(desk, "#message-input")
    inside(desk, "#messages .message:last-child")
    SCREENSHOTS.mkdir(exist_ok=True)
    desk.screenshot(path=str(SCREENSHOTS / "layout-desktop-pinned.png"))


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"], ids=["en", "nl"])
def test_the_site_menu_folds_on_a_phone_and_opens_and_closes(factory, live, new_page, locale):
    factory.user("alice")
    names = {"en-GB": ("Menu", "Settings"), "nl-NL": ("Menu", "Instellingen")}[locale]
    phone = new_page(width=360, height=740, locale=locale)
    login(phone, "alice")
    phone.goto("/home")
    toggle = phone.locator(".site-header").get_by_role("button", name=names[0])
    settings = phone.locator(".site-header").get_by_role("link", name=names[1])
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert settings.is_hidden()
    inside(phone, ".site-header .nav-toggle")
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    settings.wait_for(state="visible")
    inside(phone, "#nav-list")
    screenshot(phone, f"layout-menu-open-{locale[:2]}")
    phone.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert settings.is_hidden()
    assert phone.evaluate("document.activeElement.classList.contains('nav-toggle')")
    toggle.click()
    settings.wait_for(state="visible")
    phone.mouse.click(20, 700)  # a tap elsewhere closes it
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    settings.click()  # and its links work
    phone.wait_for_url("**/account/settings*")

    desk = new_page(locale=locale)
    login(desk, "alice")
    desk.goto("/home")
    assert desk.locator(".site-header .nav-toggle").is_hidden()
    assert desk.locator(".site-header").get_by_role("link", name=names[1]).is_visible()


def test_without_scripts_the_phone_menu_lists_its_links(factory, live, browser):
    factory.user("alice")
    context = browser.new_context(viewport={"width": 360, "height": 740}, base_url=live.url, java_script_enabled=False)
    try:
        page = context.new_page()
        login(page, "alice")
        page.goto("/home")
        assert page.locator(".site-header .nav-toggle").is_hidden()
        assert page.locator(".site-header").get_by_role("link", name="Settings").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()


def test_a_participant_reports_and_deletes_through_the_message_menu(factory, live, new_page):
    scene = factory.scene()
    expert = expert_present(new_page, scene.meeting.id)
    phone = new_page(width=360, height=740)
    login(phone, "alice")
    enter_meeting(phone, scene.meeting.id)
    expert.locator("#message-input").fill("A line from the peer expert")
    expert.locator("#send-button").click()
    phone.locator("#message-input").fill("A line I will take back")
    phone.locator("#send-button").click()
    theirs = phone.locator("#messages .message", has_text="A line from the peer expert")
    mine = phone.locator("#messages .message", has_text="A line I will take back")
    theirs.wait_for(timeout=10000)
    mine.wait_for(timeout=10000)

    # No loose buttons under each message: one small menu button.
    assert theirs.get_by_role("button", name="Report").is_hidden()
    menu = theirs.get_by_role("button", name=MENU)
    assert menu.get_attribute("aria-expanded") == "false"
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    assert theirs.get_by_role("button", name="Delete").count() == 0  # not one's own: no delete
    theirs.get_by_role("button", name="Report").click()
    theirs.locator(".report-form input").fill("Not kind")
    theirs.get_by_role("button", name="Send report").click()
    theirs.get_by_text("Thank you. Your report was sent to the peer experts.").wait_for()
    expert.locator("#report-list li", has_text="Not kind").wait_for(timeout=10000)

    mine.get_by_role("button", name=MENU).click()
    assert mine.get_by_role("button", name="Report").count() == 0  # one's own: no report
    screenshot(phone, "layout-message-menu-phone")
    mine.get_by_role("button", name="Delete").click()
    mine.wait_for(state="detached", timeout=10000)
    expert.locator("#messages .message", has_text="A line I will take back").wait_for(state="detached")

    # Escape closes a menu and gives the focus back to its button.
    theirs.get_by_role("button", name=MENU).click()
    theirs.locator(".msg-menu button").first.focus()
    phone.keyboard.press("Escape")
    assert theirs.get_by_role("button", name=MENU).get_attribute("aria-expanded") == "false"
    assert phone.evaluate("document.activeElement.classList.contains('msg-menu-toggle')")
