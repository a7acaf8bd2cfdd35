"""Quick exit ends the session (issue #11), in Chromium on a desktop and a 360 px phone: after leaving by the
button or by Escape x3, opening the site's address again shows the login page, not the person's groups;
and without network the neutral page still comes at once (the session then ends on the next visit)."""

from __future__ import annotations

import re
import time

import pytest

from .conftest import NEUTRAL_PATH, login, screenshot
from .test_safety_browser import enter_meeting

pytestmark = [pytest.mark.browser, pytest.mark.live]

NEUTRAL = re.compile(re.escape(NEUTRAL_PATH) + "$")
SCREENS = {"desktop": (1280, 800), "phone": (360, 640)}
OUR_STORAGE = "() => [Object.keys(localStorage), Object.keys(sessionStorage)]"


def leave(page, how: str, online: bool = True) -> float:
    """Quick exit by the button or by Escape x3; the seconds until the browser goes to the neutral page
    (until it is there, when the network is up)."""
    started = time.monotonic()
    with page.expect_request(lambda request: request.is_navigation_request() and NEUTRAL.search(request.url)):
        if how == "button":
            page.get_by_role("link", name="Quick exit").click()
        else:
            for _ in range(3):
                page.keyboard.press("Escape")
    if online:
        page.wait_for_url(NEUTRAL, wait_until="commit")
    return time.monotonic() - started


def assert_login_page_only(page, scene):
    """The site's address shows the login page; nothing of the person: no group, alias or meeting."""
    page.goto("/")
    page.locator("input[name=password]").wait_for()
    assert "/login" in page.url
    text = page.locator("body").inner_text()
    for secret in (scene.group.name, scene.memberships["alice"].alias, scene.meeting.title):
        assert secret and secret not in text, secret
    assert page.get_by_role("button", name="Log out").count() == 0


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("how", ["button", "escape"])
def test_quick_exit_then_the_address_shows_the_login_page(factory, live, new_page, how, screen):
    scene = factory.scene()
    page = new_page(*SCREENS[screen])
    login(page, "alice")
    other_device = new_page()
    login(other_device, "alice")
    enter_meeting(page, scene.meeting.id, ready="#send-form")
    page.evaluate("() => { localStorage.setItem('sg-draft', 'x'); sessionStorage.setItem('sg-scroll', '1'); }")
    page.locator("body").click(position={"x": 5, "y": 300})  # Escape from the page, not a field

    seconds = leave(page, how)
    assert seconds < 2, seconds
    # On the neutral page (ours in tests, without scripts): only the neutral marker (it tells nothing of quick
    # exit) that makes the next page of ours end the session should the end not have reached the server.
    assert page.evaluate("() => JSON.stringify(localStorage)") == '{"cache-version":"2"}'
    assert_login_page_only(page, scene)
    assert page.evaluate(OUR_STORAGE) == [[], []]  # nothing of ours kept in the browser
    screenshot(page, f"quick-exit-{how}-{screen}-after")

    other_device.goto("/home")  # every session of the account ended, the other device's too
    assert "/login" in other_device.url


def test_quick_exit_before_the_pages_scripts_have_run_still_forgets(factory, live, new_page):
    """On a slow phone the page's scripts may still be loading when the person taps quick exit: the tap must clear
    what the site kept, not merely follow the link (the link's handler waited for DOMContentLoaded)."""
    scene = factory.scene()
    page = new_page(*SCREENS["phone"])
    login(page, "alice")
    enter_meeting(page, scene.meeting.id, ready="#send-form")  # the safety check is done: the chat page comes next
    page.evaluate("() => localStorage.setItem('sg-draft', 'x')")
    held = []  # the chat's scripts, never answered: the page stays "loading"
    page.route(re.compile(r"/static/js/(?!safety\.js)"), lambda route: held.append(route))
    page.goto(f"/meetings/{scene.meeting.id}", wait_until="commit")
    page.locator("#quick-exit").wait_for(state="attached")
    assert page.evaluate("() => document.readyState") == "loading"

    leave(page, "button")
    assert page.evaluate("() => JSON.stringify(localStorage)") == '{"cache-version":"2"}'


@pytest.mark.parametrize("screen", SCREENS)
def test_quick_exit_offline_leaves_at_once_and_ends_the_session_next_time(factory, live, new_page, screen):
    scene = factory.scene()
    page = new_page(*SCREENS[screen])
    login(page, "alice")
    page.goto("/home")
    assert scene.group.name in page.locator("main").inner_text()

    page.context.set_offline(True)  # the network is gone: the session end cannot reach the server
    seconds = leave(page, "button", online=False)
    assert seconds < 2, seconds
    page.wait_for_load_state()
    assert page.locator("main, header, #help-panel").count() == 0  # the browser's own offline page
    screenshot(page, f"quick-exit-offline-{screen}")

    page.context.set_offline(False)
    page.goto(NEUTRAL_PATH)  # no script of ours runs here: the marker, as anyone inspecting the browser sees it
    assert page.evaluate("() => JSON.stringify(localStorage)") == '{"cache-version":"2"}'  # neutral
    drawn = []
    page.on("framenavigated", lambda frame: drawn.append(frame.url))
    assert_login_page_only(page, scene)  # the first page of ours ended the session before showing anything
    assert any(url.endswith("/home") for url in drawn)  # (it did open logged in)
    page.goto("/home")
    assert "/login" in page.url


@pytest.mark.parametrize(("how", "server"), [("button", "hangs"), ("escape", "unreachable")])
def test_a_dead_server_does_not_delay_quick_exit(factory, live, new_page, how, server):
    """Our server does not answer (or cannot be reached) while the neutral site can: leave at once."""
    scene = factory.scene()
    page = new_page()
    login(page, "alice")
    page.goto("/home")
    held = []

    def dead(route):
        held.append(route)
        if server == "unreachable":
            route.abort("internetdisconnected")

    page.route("**/account/quick-exit", dead)
    page.locator("body").click(position={"x": 5, "y": 300})
    seconds = leave(page, how)
    assert seconds < 2, seconds
    assert held, "quick exit sent no request to end the session"
    request = held[0].request
    assert request.method == "POST" and "csrf_token=" in (request.post_data or "")

    if server == "hangs":
        held[0].abort()  # it never reached the server
    page.unroute("**/account/quick-exit")
    # The browser "sent" the session end (it cannot know the server never got it): the neutral marker makes the
    # next page of ours end it.
    page.goto(NEUTRAL_PATH)
    assert page.evaluate("() => JSON.stringify(localStorage)") == '{"cache-version":"2"}'
    assert_login_page_only(page, scene)  # ended on the next visit
