"""The meeting page's scripts are plain ES modules (static/js/chat/, static/js/moderator/; no build step).

A participant's and a peer expert's meeting page load without a console error, a page error or a
Content-Security-Policy violation (script-src 'self': module scripts from our origin only); the console's
modules are fetched for the peer expert only, and nothing is shared through window globals any more. A
console control still works end to end: the peer expert mutes the participant, whose page stops them writing.
Screenshots: test-output/modules-*.png (a peer expert on a desktop, a participant on a 360 px phone).
"""

from __future__ import annotations

import pytest

from .conftest import LIVE_INPUT, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]


class Watched:
    """A page with its console errors, page errors and the static scripts it requested, recorded from the start."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.scripts: list[str] = []
        page.on(
            "console",
            lambda msg: (
                self.errors.append(f"console.{msg.type}: {msg.text}")
                if msg.type == "error" or "Content Security Policy" in msg.text
                else None
            ),
        )
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on(
            "request",
            lambda request: (
                self.scripts.append(request.url.split("/static/", 1)[1]) if "/static/js/" in request.url else None
            ),
        )

    def modules(self) -> list[str]:
        return self.page.eval_on_selector_all("script[type=module]", "nodes => nodes.map(n => n.src)")


def test_meeting_page_runs_as_modules_for_participant_and_peer_expert(factory, live, new_page):
    scene = factory.scene()
    expert = Watched(new_page())
    login(expert.page, "expert")
    expert.page.goto(f"/meetings/{scene.meeting.id}")
    expert.page.locator(LIVE_INPUT).wait_for(timeout=10000)

    alice = Watched(new_page(width=360, height=640))
    login(alice.page, "alice")
    alice.page.goto(f"/meetings/{scene.meeting.id}")
    alice.page.get_by_role("button", name="Skip the check").click()
    alice.page.locator(LIVE_INPUT).wait_for(timeout=10000)  # a peer expert is present

    for watched in (alice, expert):
        assert [src.rsplit("/static/", 1)[1] for src in watched.modules()] == ["js/chat/main.js"]
        assert watched.page.evaluate("typeof window.SGModerator") == "undefined"  # no shared globals
        assert "js/chat/socket.js" in watched.scripts
    assert not [path for path in alice.scripts if path.startswith("js/moderator/")]  # the console: experts only
    assert "js/moderator/main.js" in expert.scripts

    # The chat works both ways, and the console shows who is present.
    alice.page.locator("#message-input").fill("Hello from a phone")
    alice.page.get_by_role("button", name="Send", exact=True).click()
    expert.page.locator("#messages .message .text", has_text="Hello from a phone").wait_for(timeout=10000)
    person = expert.page.locator("#present li.person", has=expert.page.locator("details.person-actions"))
    person.wait_for(timeout=10000)
    for watched, name in ((expert, "modules-expert-desktop"), (alice, "modules-participant-phone")):
        watched.page.evaluate("window.scrollTo(0, 0)")  # the fixed safety bar at the top, as people see it
        screenshot(watched.page, name)

    # A console control: the peer expert mutes the participant, whose page then stops them writing.
    person.get_by_text("Actions", exact=True).click()
    person.get_by_label("Mute for").select_option(label="5 minutes")
    person.get_by_label("Reason").first.fill("A short pause")
    person.get_by_role("button", name="Mute", exact=True).click()
    person.locator(".tag.muted-tag").wait_for(timeout=10000)
    alice.page.locator("#message-input[disabled]").wait_for(timeout=10000)
    alice.page.locator("#notice-muted", has_text="A short pause").wait_for(state="visible", timeout=10000)

    assert alice.errors == []
    assert expert.errors == []
