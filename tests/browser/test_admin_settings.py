"""An admin changes quick exit's address and a Dutch helpline in the console, on a 360 px phone; a participant's
next page (Dutch, phone and desktop) shows the new helpline, and quick exit goes to the new address (the neutral
site is answered by the browser itself: nothing leaves the machine). Screenshots in English and Dutch."""

from __future__ import annotations

import pytest

from supportgroup.models import Role

from .conftest import SCREENSHOTS, login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

PHONE = (360, 740)
DESKTOP = (1280, 800)
NEUTRAL = "https://neutral.example/"


def fits_the_screen(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")


def test_an_admin_changes_quick_exit_and_a_dutch_helpline_and_a_participant_sees_both(factory, live, new_page):
    factory.user("root", Role.ADMIN)
    factory.user("alice")

    admin = new_page(*PHONE)
    login(admin, "root")
    admin.goto("/admin/")
    admin.get_by_role("link", name="Platform settings").click()
    admin.locator("#exit-url").wait_for()
    assert fits_the_screen(admin)

    # A bad address first: a clear error, what was typed stays.
    admin.fill("#exit-url", "neutral.example")
    admin.get_by_role("button", name="Save address").click()
    admin.locator("#exit-url-errors").wait_for()
    assert "https://" in admin.locator("#exit-url-errors").inner_text()
    assert admin.input_value("#exit-url") == "neutral.example"
    screenshot(admin, "admin-settings-error-en-phone")

    admin.fill("#exit-url", NEUTRAL)
    admin.get_by_role("button", name="Save address").click()
    admin.get_by_text("Quick exit now goes to the new address").wait_for()
    assert admin.locator("#quick-exit").get_attribute("data-url") == NEUTRAL
    screenshot(admin, "admin-settings-en-phone")

    # The Dutch helplines, in the console's Dutch.
    admin.goto("/admin/settings?lang=nl")
    admin.get_by_role("link", name="Hulplijnen in het Nederlands").click()
    admin.locator("#resources-0-name").wait_for()
    assert admin.input_value("#resources-0-name") == "Veilig Thuis"
    admin.fill("#resources-0-name", "Veilig Thuis Regio Test")
    admin.fill("#resources-0-phone", "0800 20 01 x")  # a typo: refused on its row, nothing lost
    admin.locator("details.helpline-new summary").first.click()
    admin.fill("#resources-3-name", "Steunpunt Test")
    admin.fill("#resources-3-phone", "0800 3003")
    admin.fill("#resources-3-description", "Een nieuwe lijn\nover twee regels.")
    admin.locator("form:has(#resources-0-name) button[type=submit]").click()
    admin.locator("#resources-0-phone-errors").wait_for()
    assert "telefoonnummer" in admin.locator("#resources-0-phone-errors").inner_text()
    assert admin.input_value("#resources-0-name") == "Veilig Thuis Regio Test"
    assert admin.input_value("#resources-3-name") == "Steunpunt Test"
    assert fits_the_screen(admin)
    summary = admin.locator(".form-problems")
    assert "Hulplijn 1, Telefoonnummer" in summary.inner_text()
    admin.screenshot(path=str(SCREENSHOTS / "admin-crisis-error-nl-phone-top.png"))  # what the phone shows first
    screenshot(admin, "admin-crisis-error-nl-phone")
    summary.get_by_role("link").first.click()  # the summary's link takes the admin to the refused field
    assert admin.evaluate("() => location.hash") == "#resources-0-phone"

    admin.fill("#resources-0-phone", "0800 2001")
    admin.locator("form:has(#resources-0-name) button[type=submit]").click()
    admin.get_by_text("De hulplijnen zijn opgeslagen").wait_for()
    assert admin.input_value("#resources-3-description") == "Een nieuwe lijn over twee regels."
    screenshot(admin, "admin-crisis-nl-phone")

    desktop_admin = new_page(*DESKTOP)
    login(desktop_admin, "root")
    desktop_admin.goto("/admin/settings?lang=nl")
    screenshot(desktop_admin, "admin-settings-nl-desktop")
    desktop_admin.goto("/admin/settings?lang=en")
    screenshot(desktop_admin, "admin-settings-en-desktop")

    # A participant's next page: the new Dutch helpline (help panel and footer), quick exit to the new address.
    for screen, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page = new_page(*size, locale="nl-NL")
        neutral_requests = []

        def neutral_site(route, request, seen=neutral_requests):
            seen.append(request.url)
            route.fulfill(status=200, content_type="text/html", body="<title>Weer</title><p>Het weer</p>")

        page.context.route(NEUTRAL + "**", neutral_site)
        login(page, "alice")
        page.goto("/home")
        footer = page.locator("footer").inner_text()
        assert "Veilig Thuis Regio Test" in footer and "0800 2001" in footer and "Steunpunt Test" in footer
        page.get_by_role("button", name="Hulp").click()
        panel = page.locator("#help-panel")
        panel.get_by_text("Veilig Thuis Regio Test").wait_for()
        assert panel.locator('a[href="tel:08002001"]').count() == 1
        screenshot(page, f"participant-help-nl-{screen}")
        page.get_by_role("button", name="Sluiten").click()
        with page.expect_request(lambda request: request.is_navigation_request() and request.url == NEUTRAL):
            page.get_by_role("link", name="Snel weg").click()
        page.wait_for_url(NEUTRAL)
        assert neutral_requests == [NEUTRAL]

    # English readers keep the English file's helplines.
    english = new_page(*DESKTOP)
    english.goto("/login?lang=en")
    text = english.locator("footer").inner_text()
    assert "Veilig Thuis" in text and "Regio Test" not in text
    assert english.locator("#quick-exit").get_attribute("href") == NEUTRAL
    english.get_by_role("button", name="Help").click()
    screenshot(english, "participant-help-en-desktop")


def test_a_coordinator_renames_and_removes_organisations_on_a_phone(factory, live, new_page, db):
    from supportgroup.groups import enrolment

    factory.user("coord", Role.COORDINATOR)
    shelter = enrolment.create_organisation("Shelter")
    enrolment.create_organisation("Veilig Thuis")
    db.session.commit()
    shelter_id = shelter.id

    page = new_page(*PHONE)
    login(page, "coord")
    page.goto("/admin/")
    page.get_by_role("link", name="Organisations").click()
    row = page.locator(f"#organisation-{shelter_id}")
    row.get_by_text("Rename or remove").click()
    row.locator("input[type=text]").fill("veilig thuis")
    row.get_by_role("button", name="Rename").click()
    row = page.locator(f"#organisation-{shelter_id}")
    row.locator(".errors").wait_for()
    assert "already has this name" in row.locator(".errors").inner_text()
    assert row.locator("input[type=text]").input_value() == "veilig thuis"  # open, with what was typed
    assert fits_the_screen(page)
    screenshot(page, "organisations-error-en-phone")

    row.locator("input[type=text]").fill("Blijf Groep")
    row.get_by_role("button", name="Rename").click()
    page.get_by_text("The organisation has been renamed.").wait_for()
    page.goto("/groups/organisations?lang=nl")
    row = page.locator(f"#organisation-{shelter_id}")
    row.get_by_text("Naam wijzigen of verwijderen").click()
    screenshot(page, "organisations-nl-phone")
    row.get_by_role("button", name="Blijf Groep verwijderen").click()
    page.get_by_text("De organisatie is verwijderd.").wait_for()
    assert page.locator(f"#organisation-{shelter_id}").count() == 0
