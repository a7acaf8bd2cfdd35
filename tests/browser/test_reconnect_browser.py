"""The chat page when its session ends elsewhere (issue #12): it says so and offers the way back.

Before, a refused reconnect left "Reconnecting…" on the page for ever. Now the page's socket, closed by the
server when the account logs out in another browser, tries again, is refused (`not_authenticated`), and shows
a banner with a "Log in again" link back to this meeting; desktop and a 360 px phone, English and Dutch.
Screenshots go to test-output/.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import LIVE_INPUT, login, screenshot

pytestmark = pytest.mark.browser

TEXTS = {
    "en-GB": {
        "skip": "Skip the check",
        "ended": "Your session has ended.",
        "link": "Log in again",
        "logout": "Log out",
    },
    "nl-NL": {
        "skip": "Check overslaan",
        "ended": "Je sessie is beëindigd.",
        "link": "Opnieuw inloggen",
        "logout": "Uitloggen",
    },
}


def enter_meeting(page, meeting_id: int, skip_label: str) -> None:
    page.goto(f"/meetings/{meeting_id}")
    page.locator(f"{LIVE_INPUT}, #safety-check").first.wait_for(timeout=10000)
    skip = page.get_by_role("button", name=skip_label)
    if skip.count():
        skip.click()
    page.locator(LIVE_INPUT).wait_for(timeout=10000)


@pytest.mark.parametrize(
    ("width", "height", "locale"), [(1280, 800, "en-GB"), (360, 740, "nl-NL")], ids=["desktop-en", "phone-nl"]
)
def test_a_session_ended_elsewhere_shows_log_in_again(factory, live, new_page, width, height, locale):
    texts = TEXTS[locale]
    scene = factory.scene()
    expert = new_page()  # a peer expert is present, so the participant's chat is open for writing
    login(expert, "expert")
    expert.goto(f"/meetings/{scene.meeting.id}")
    expert.locator(LIVE_INPUT).wait_for(timeout=10000)
    page = new_page(width=width, height=height, locale=locale)
    login(page, "alice")
    enter_meeting(page, scene.meeting.id, texts["skip"])

    page.locator("#message-input").fill("A line before the session ends")
    page.locator("#send-button").click()
    page.locator("#messages .message .text", has_text="A line before the session ends").wait_for()

    elsewhere = new_page(locale=locale)  # the same account in another browser logs out: every session ends
    login(elsewhere, "alice")
    elsewhere.get_by_role("button", name=texts["logout"]).click()
    elsewhere.wait_for_url(re.compile(r"/login"))

    banner = page.get_by_role("alert").filter(has_text=texts["ended"])
    banner.wait_for(timeout=10000)
    assert page.locator("#chat-status").is_hidden()  # not "Reconnecting…" for ever
    assert page.locator("#message-input").is_disabled()
    assert page.locator("#messages .message").count() == 0  # nothing of the chat stays on the page
    assert page.get_by_text("A line before the session ends").count() == 0
    alias = scene.memberships["alice"].alias  # nor the alias, the group or the logged-in menu
    assert not page.get_by_text(alias).is_visible() and not page.get_by_text(scene.group.name).first.is_visible()
    assert page.locator(".site-header nav").is_hidden() and scene.group.name not in page.title()
    link = banner.get_by_role("link", name=texts["link"])
    assert link.get_attribute("href") == f"/login?next=%2Fmeetings%2F{scene.meeting.id}"
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    rect = link.bounding_box()
    assert rect and rect["x"] >= 0 and rect["x"] + rect["width"] <= width
    screenshot(page, f"reconnect-session-ended-{locale}-{width}")

    link.click()  # the way back: log in, and land in the meeting again
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "correct horse battery")
    page.locator("form:has(input[name=password]) [type=submit]").click()
    page.wait_for_url(re.compile(rf"/meetings/{scene.meeting.id}$"))
    enter_meeting(page, scene.meeting.id, texts["skip"])
