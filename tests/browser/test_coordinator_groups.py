"""The coordinator's group pages in real Chromium, on a desktop and on a 360 px phone: archiving asks first
and can be undone, the house-rules preview is what the participant sees, an invite link is copied with one tap,
and a participant is found by typing the start of their username (3 letters at least; a member of the group is
listed too, and adding them is refused with a clear message). Screenshots: test-output/coordinator-*.png."""

from __future__ import annotations

import pytest

from supportgroup.models import Role

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

SIZES = {"desktop": (1280, 800), "phone": (360, 740)}
RULES = "Welcome to the group.\n\n- Be **kind**\n- Keep names *out*\n\nMore: [our site](https://example.org/)"


@pytest.fixture(params=list(SIZES))
def size(request):
    return request.param


def test_archive_asks_first_and_restore_gives_the_group_back(factory, live, new_page, size):
    factory.user("coord", Role.COORDINATOR)
    group = factory.group("Tuesday evening group")
    page = new_page(*SIZES[size])
    login(page, "coord")
    page.goto(f"/groups/{group.id}")
    page.get_by_role("link", name="Archive group").click()
    page.get_by_role("heading", name="Archive Tuesday evening group?").wait_for()
    screenshot(page, f"coordinator-archive-confirm-{size}")
    page.get_by_role("link", name="No, keep the group").click()
    page.get_by_role("heading", name="Tuesday evening group").wait_for()
    page.get_by_role("link", name="Archive group").click()
    page.get_by_role("button", name="Yes, archive the group").click()
    page.get_by_text("The group has been archived.").wait_for()
    assert page.locator("main ul.list").get_by_text("Tuesday evening group").count() == 0
    page.get_by_role("link", name="Archived groups").click()
    screenshot(page, f"coordinator-archived-{size}")
    page.get_by_role("button", name="Restore Tuesday evening group").click()
    page.get_by_text("The group has been restored.").wait_for()
    screenshot(page, f"coordinator-restored-{size}")
    page.goto("/groups/")
    page.get_by_role("link", name="Tuesday evening group").wait_for()


def test_rules_preview_is_what_the_participant_sees(factory, live, new_page, size):
    scene = factory.scene()
    page = new_page(*SIZES[size])
    login(page, "coord")
    page.goto(f"/groups/{scene.group.id}/edit")
    page.get_by_label("House rules").fill(RULES)
    preview = page.locator("#rules-preview")
    preview.locator("strong", has_text="kind").wait_for()  # refreshed while typing
    with page.expect_navigation():
        page.get_by_role("button", name="Preview the house rules").click()  # and without JavaScript's help
    preview.locator("strong", has_text="kind").wait_for()
    shown_to_coordinator = preview.inner_html().strip()
    screenshot(page, f"coordinator-rules-preview-{size}")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The group has been saved.").wait_for()

    participant = new_page(*SIZES[size])
    login(participant, "alice")
    participant.goto(f"/groups/{scene.group.id}/about")
    rules = participant.locator("div.rules")
    assert rules.inner_html().strip() == shown_to_coordinator
    assert rules.locator("li").count() == 2 and rules.get_by_role("link", name="our site").count() == 1
    screenshot(participant, f"coordinator-rules-participant-{size}")


def test_copy_an_invite_link_and_add_a_member_by_typing(factory, live, new_page, size):
    scene = factory.scene()
    factory.user("noor")
    factory.user("noortje")
    page = new_page(*SIZES[size])
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)
    login(page, "coord")
    page.clock.install()  # the page's own clock: the type-ahead's pause is run through, not waited for
    page.goto(f"/groups/{scene.group.id}")
    page.get_by_role("button", name="Make invite code").click()
    page.get_by_role("button", name="Copy link").click()
    page.get_by_text("Copied").wait_for()
    link = page.get_by_label("Link to send").input_value()
    assert "/groups/join/" in link and page.evaluate("navigator.clipboard.readText()") == link

    asked = []
    page.on("request", lambda request: "/people?" in request.url and asked.append(request.url.split("q=")[1]))
    field = page.get_by_role("combobox", name="Username")
    field.press_sequentially("no")
    page.clock.run_for(1000)  # past the type-ahead's 250 ms pause: 2 letters ask nothing
    field.press_sequentially("o")
    page.clock.run_for(1000)
    listbox = page.get_by_role("listbox")
    listbox.get_by_role("option", name="noortje").wait_for()
    assert listbox.get_by_role("option").count() == 2
    assert asked == ["noo"]  # nothing was asked for 2 letters
    screenshot(page, f"coordinator-typeahead-{size}")
    field.press("ArrowDown")
    field.press("ArrowDown")
    field.press("Enter")  # chooses noortje; nothing is sent yet
    assert field.input_value() == "noortje" and listbox.is_hidden()
    page.get_by_role("button", name="Add participant").click()
    page.get_by_text("The participant has been added.").wait_for()
    assert page.locator("#participants tbody tr").count() == 3  # alice, bob and noortje


def test_a_member_found_by_typing_is_refused_with_a_clear_message(factory, live, new_page, size):
    scene = factory.scene()
    page = new_page(*SIZES[size])
    login(page, "coord")
    page.goto(f"/groups/{scene.group.id}")
    field = page.get_by_role("combobox", name="Username")
    field.press_sequentially("ali", delay=30)
    page.get_by_role("listbox").get_by_role("option", name="alice").click()  # in the group already: listed
    page.get_by_role("button", name="Add participant").click()
    page.get_by_text("Already in this group, or waiting for a place.").wait_for()
    screenshot(page, f"coordinator-typeahead-member-{size}")
