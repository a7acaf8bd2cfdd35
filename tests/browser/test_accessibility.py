"""An automated accessibility scan (axe-core) of the main pages, as each role sees them.

axe-core (MPL-2.0) is pinned in package.json and vendored by `make vendor` into tests/browser/vendor/axe-core/;
the test injects it into the page. Only WCAG 2.0/2.1 A and AA rules run; a violation of impact "serious" or
"critical" fails the test. An automated scan finds only part of the problems: it does not replace testing
with a keyboard and a screen reader. Screenshots go to test-output/a11y-*.png.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from supportgroup.extensions import db
from supportgroup.models import MeetingState

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_RUN = "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
BLOCKING = {"serious", "critical"}


@pytest.fixture
def new_page(browser, live):
    """Like conftest's `new_page`, but the context bypasses the site's Content Security Policy (script-src 'self'),
    which would otherwise block the axe-core script the test injects. Only the test's own script needs it."""
    contexts = []

    def make(width: int = 1280, height: int = 800, locale: str = "en-GB"):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale=locale, base_url=live.url, bypass_csp=True
        )
        context.set_default_timeout(8000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def scan(page, name: str) -> None:
    """Screenshot the page, run axe-core on it and fail on serious or critical violations."""
    page.wait_for_load_state("load")
    screenshot(page, f"a11y-{name}")
    if page.evaluate("typeof window.axe") == "undefined":
        page.add_script_tag(path=str(AXE))
    results = page.evaluate(AXE_RUN)
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING]
    if blocking:
        lines = [f"{name} ({page.url}): {len(blocking)} serious/critical accessibility violation(s)"]
        for violation in blocking:
            lines.append(f"- {violation['id']} [{violation['impact']}]: {violation['help']} ({violation['helpUrl']})")
            for node in violation["nodes"]:
                lines.append(f"    {' '.join(map(str, node['target']))}")
                summary = (node.get("failureSummary") or "").replace("\n", " ")
                if summary:
                    lines.append(f"      {summary[:300]}")
        pytest.fail("\n".join(lines), pytrace=False)


def enter_meeting(page, meeting_id: int) -> None:
    page.goto(f"/meetings/{meeting_id}")
    page.get_by_role("button", name="Skip the check").click()
    page.locator("#send-form").wait_for()


def test_login_and_register(factory, live, new_page):
    page = new_page()
    page.goto("/login")
    scan(page, "login")
    page.goto("/register")
    scan(page, "register")


def test_participant_pages(factory, live, new_page):
    scene = factory.scene()
    page = new_page()
    login(page, "alice")
    page.goto("/home")
    scan(page, "participant-home")
    page.goto(f"/groups/{scene.group.id}/about")
    scan(page, "participant-group-about")
    page.goto(f"/meetings/{scene.meeting.id}")
    page.get_by_role("button", name="Skip the check").wait_for()
    scan(page, "participant-safety-check")
    page.get_by_role("button", name="Skip the check").click()
    page.locator("#send-form").wait_for()
    scan(page, "participant-meeting")


def test_participant_meeting_on_a_phone(factory, live, new_page):
    scene = factory.scene()
    page = new_page(width=360, height=640)
    login(page, "alice")
    enter_meeting(page, scene.meeting.id)
    scan(page, "participant-meeting-phone")


def test_participant_before_and_after_a_meeting_on_a_phone(factory, live, new_page):
    """The countdown before the lobby, the house rules on the meeting page, the closing screen."""
    scene = factory.scene(MeetingState.SCHEDULED)
    scene.meeting.starts_at = datetime.now(UTC) + timedelta(hours=2)
    db.session.commit()
    carol = factory.user("carol")
    factory.member(scene.group, carol, accept_rules=False)
    page = new_page(width=360, height=640)
    login(page, "carol")
    page.goto(f"/meetings/{scene.meeting.id}")
    expect(page.locator("#countdown-left")).to_have_text(re.compile(r"\S"))
    scan(page, "participant-meeting-countdown-phone")

    scene.meeting.starts_at = datetime.now(UTC) + timedelta(minutes=5)  # the lobby is open
    db.session.commit()
    page.goto(f"/meetings/{scene.meeting.id}")
    page.get_by_role("button", name="Skip the check").click()
    page.locator("#rules-card").wait_for()
    scan(page, "participant-meeting-rules-phone")

    scene.meeting.state = MeetingState.CLOSED
    db.session.commit()
    page.goto(f"/meetings/{scene.meeting.id}")
    page.locator("#closing").wait_for()
    scan(page, "participant-meeting-closing-phone")


def test_peer_expert_console(factory, live, new_page):
    scene = factory.scene()
    alice = new_page()
    login(alice, "alice")
    enter_meeting(alice, scene.meeting.id)  # someone present, so the console has a person in it
    page = new_page()
    login(page, "expert")
    page.goto(f"/meetings/{scene.meeting.id}")
    page.locator("#message-input:not([disabled])").wait_for()
    scan(page, "expert-meeting")
    page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")  # every action panel
    scan(page, "expert-meeting-all-open")


def test_chat_menus_and_console_on_a_phone(factory, live, new_page):
    """The phone's site menu open, a message's menu open, and the peer expert's console with its attention
    strip on a 360 px phone (issue #14)."""
    scene = factory.scene()
    expert = new_page(width=360, height=740)
    login(expert, "expert")
    expert.goto(f"/meetings/{scene.meeting.id}")
    expert.locator("#message-input:not([disabled])").wait_for()
    page = new_page(width=360, height=740)
    login(page, "alice")
    enter_meeting(page, scene.meeting.id)
    page.locator("#message-input:not([disabled])").wait_for()
    page.locator("#message-input").fill("A line with a menu")
    page.locator("#send-button").click()
    line = page.locator("#messages .message", has_text="A line with a menu")
    line.wait_for()
    line.get_by_role("button", name="Actions for this message").click()
    scan(page, "participant-message-menu-phone")
    page.get_by_role("button", name="Menu").click()
    page.locator("#nav-list").wait_for(state="visible")
    scan(page, "participant-site-menu-phone")
    expert.locator("#messages .message", has_text="A line with a menu").wait_for()
    scan(expert, "expert-meeting-phone")
    expert.locator("#messages .message", has_text="A line with a menu").get_by_role(
        "button", name="Actions for this message"
    ).click()
    scan(expert, "expert-message-menu-phone")


def test_help_panel_open(factory, live, new_page):
    factory.user("alice")
    page = new_page(width=360, height=640)
    login(page, "alice")
    page.goto("/home")
    page.get_by_role("button", name="Help").click()
    page.locator("#help-panel").wait_for(state="visible")
    scan(page, "help-panel-phone")


def test_coordinator_pages(factory, live, new_page):
    scene = factory.scene()
    page = new_page()
    login(page, "coord")
    for path, name in [
        ("/groups/", "coordinator-groups"),
        (f"/groups/{scene.group.id}", "coordinator-group-detail"),
        ("/groups/pool", "coordinator-pool"),
        ("/schedule/calendar", "coordinator-calendar"),
        (f"/schedule/groups/{scene.group.id}/meetings/new", "coordinator-new-meeting"),
    ]:
        response = page.goto(path)
        assert response is not None and response.ok, (path, response and response.status)
        scan(page, name)


def test_planning_rota_and_early_opening(factory, live, new_page):
    from datetime import timedelta

    from supportgroup.models import MeetingState

    scene = factory.scene(MeetingState.CLOSED)
    later = factory.meeting(scene.group, MeetingState.SCHEDULED, starts_in=timedelta(days=3))
    expert = new_page(width=360, height=740)
    login(expert, "expert")
    expert.goto("/schedule/rota")
    scan(expert, "expert-rota-phone")
    response = expert.goto(f"/schedule/meetings/{later.id}/open-early")
    assert response is not None and response.ok
    scan(expert, "expert-confirm-early-open-phone")
    coord = new_page(width=360, height=740)
    login(coord, "coord")
    coord.goto(f"/schedule/groups/{scene.group.id}/meetings/new?lang=nl")
    scan(coord, "coordinator-new-meeting-phone-nl")


def test_participant_pages_outside_a_meeting(factory, live, new_page):
    """#14: the invite on login, register and join; home's and "My meetings"' next-meeting card; settings with the
    timezone list and the export warning; the calendar feed with its reminder; deleting the account."""
    from supportgroup.extensions import db
    from supportgroup.groups import invites

    scene = factory.scene()
    invite = invites.create_invite(scene.group, scene.coordinator, None, None)
    db.session.commit()
    link = f"/groups/join/{invite.code}"
    page = new_page(width=360, height=740)
    page.goto(link)
    page.wait_for_url(re.compile(r"/login\?next="))
    scan(page, "invite-login-phone")
    page.goto(f"/register?next={link}")
    scan(page, "invite-register-phone")
    login(page, "eve")
    page.goto(link)
    scan(page, "invite-join-phone")
    page = new_page()
    login(page, "alice")
    for path, name in [
        ("/home", "participant-home-next-meeting"),
        ("/schedule/mine", "participant-my-meetings"),
        ("/schedule/feed", "participant-calendar-feed"),
        ("/account/settings", "participant-settings"),
        ("/account/erase", "participant-erase"),
    ]:
        response = page.goto(path)
        assert response is not None and response.ok, (path, response and response.status)
        scan(page, name)


def test_coordinator_group_pages_of_issue_14(factory, live, new_page):
    """The overview's "needs attention", archive and restore, the rules editor with its preview, the type-ahead
    open with suggestions (desktop and phone)."""
    scene = factory.scene()
    factory.user("bobby")
    factory.group("Archived one").archived_at = scene.group.created_at
    from supportgroup.extensions import db

    db.session.commit()
    for width, height, suffix in ((1280, 800, ""), (360, 740, "-phone")):
        page = new_page(width, height)
        login(page, "coord")
        for path, name in [
            ("/home", "coordinator-overview"),
            (f"/groups/{scene.group.id}/archive", "coordinator-archive-confirm"),
            ("/groups/archived", "coordinator-archived"),
            ("/groups/new", "coordinator-new-group"),
        ]:
            response = page.goto(path)
            assert response is not None and response.ok, (path, response and response.status)
            scan(page, name + suffix)
        page.goto(f"/groups/{scene.group.id}/edit")
        page.get_by_label("House rules").fill("Be **kind**.\n\n- No names")
        with page.expect_navigation():
            page.get_by_role("button", name="Preview the house rules").click()
        page.locator("#rules-preview strong").wait_for()
        scan(page, "coordinator-rules-editor" + suffix)
        page.goto(f"/groups/{scene.group.id}")
        page.get_by_role("combobox", name="Username").press_sequentially("bob", delay=30)
        page.get_by_role("option", name="bobby").wait_for()
        scan(page, "coordinator-typeahead" + suffix)
