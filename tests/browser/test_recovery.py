"""A participant on a phone (360 px) registers, sees the ten recovery codes once, copies them and continues; later,
on another visit, the password is forgotten and a code sets a new one (#15). In English and in Dutch."""

from __future__ import annotations

import re

import pytest

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

PASSWORD = "a long enough passphrase 42"
NEW_PASSWORD = "another good passphrase 77"
TEXTS = {
    "en": {
        "explained": "ten recovery codes",
        "saved": "I have saved them, continue",
        "copied": "Copied.",
        "forgot": "Forgot password?",
        "refused": "The username or the code is not correct",
        "done": "Your new password is set.",
        "left": "You have 9 recovery codes left.",
    },
    "nl": {
        "explained": "tien herstelcodes",
        "saved": "Ik heb ze bewaard, verder",
        "copied": "Gekopieerd.",
        "forgot": "Wachtwoord vergeten?",
        "refused": "De gebruikersnaam of de code klopt niet",
        "done": "Je nieuwe wachtwoord is ingesteld.",
        "left": "Je hebt nog 9 herstelcodes.",
    },
}


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= 360


@pytest.mark.parametrize("lang,browser_locale", [("en", "en-GB"), ("nl", "nl-NL")])
def test_a_participant_registers_keeps_the_codes_and_later_recovers_with_one(live, new_page, lang, browser_locale):
    texts = TEXTS[lang]
    username = f"phone_person_{lang}"
    page = new_page(width=360, height=740, locale=browser_locale)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live.url)

    # Registering: the page says what the codes are for before the account is made.
    page.goto("/register")
    assert texts["explained"] in page.locator("#recovery-explained").inner_text()
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    screenshot(page, f"recovery-{lang}-1-register")
    page.locator("main form button[type=submit]").click()

    # The ten codes, once, with the username; copy them for a password manager.
    page.locator("#code-list").wait_for()
    issued = [code.strip() for code in page.locator("#code-list code").all_inner_texts()]
    assert len(issued) == 10 and all(re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", c) for c in issued)
    assert page.locator("#code-list-username").inner_text() == username
    assert page.locator("#code-list-print").is_visible()
    page.locator("#code-list-copy").click()
    page.get_by_text(texts["copied"]).wait_for()
    assert page.evaluate("navigator.clipboard.readText()").split("\n") == [username, *issued]
    assert fits_the_phone(page)
    screenshot(page, f"recovery-{lang}-2-codes")
    page.get_by_role("link", name=texts["saved"]).click()
    page.wait_for_url(re.compile(r"/home$"))

    # Later, on another visit: the password is gone from memory. A mistyped code first, then a right one.
    later = new_page(width=360, height=740, locale=browser_locale)
    later.goto("/login")
    later.get_by_role("link", name=texts["forgot"]).click()
    later.wait_for_url(re.compile(r"/account/recover$"))
    later.fill("input[name=username]", username)
    later.fill("input[name=code]", "QRST-VWXY-6789")
    later.fill("input[name=password]", NEW_PASSWORD)
    later.fill("input[name=confirm]", NEW_PASSWORD)
    later.locator("main form button[type=submit]").click()
    later.get_by_text(texts["refused"]).wait_for()
    assert later.input_value("input[name=username]") == username  # kept; the code and passwords are typed again
    assert later.input_value("input[name=code]") == ""
    assert fits_the_phone(later)
    screenshot(later, f"recovery-{lang}-3-refused")
    later.fill("input[name=code]", issued[4].lower().replace("-", " "))  # as a person might copy it from paper
    later.fill("input[name=password]", NEW_PASSWORD)
    later.fill("input[name=confirm]", NEW_PASSWORD)
    later.locator("main form button[type=submit]").click()

    later.wait_for_url(re.compile(r"/account/recovery-codes\?next=/home$"))
    assert texts["done"] in later.locator(".flashes").inner_text()
    assert later.locator("#codes-left").inner_text() == texts["left"]
    assert fits_the_phone(later)
    screenshot(later, f"recovery-{lang}-4-recovered")
    later.locator("#continue").click()
    later.wait_for_url(re.compile(r"/home$"))

    # The first visit's session ended with the recovery; the spent code opens nothing again.
    page.goto("/home")
    page.wait_for_url(re.compile(r"/login"))
    page.goto("/account/recover")
    page.fill("input[name=username]", username)
    page.fill("input[name=code]", issued[4])
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.get_by_text(texts["refused"]).wait_for()


def test_the_codes_page_on_a_desktop_and_on_paper(live, new_page):
    page = new_page()
    page.goto("/register")
    page.fill("input[name=username]", "desk_person")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    screenshot(page, "recovery-desktop-1-register")
    page.locator("main form button[type=submit]").click()
    page.locator("#code-list").wait_for()
    screenshot(page, "recovery-desktop-2-codes")
    page.emulate_media(media="print")  # what "Print" puts on paper: the codes and the username, no menus
    assert not page.locator(".site-header").is_visible() and not page.locator("#codes-saved").is_visible()
    assert page.locator("#code-list").is_visible() and page.locator("#code-list-username").is_visible()
    screenshot(page, "recovery-desktop-3-print")
    page.emulate_media(media="screen")
    # Reloading (a phone reloads a tab it put away) sends the form again: no codes, but the way to new ones.
    page.reload()
    page.wait_for_url(re.compile(r"/account/recovery-codes\?next=/home$"))
    assert page.locator("#code-list").count() == 0
    assert "We show recovery codes only once." in page.locator(".flashes").inner_text()
    screenshot(page, "recovery-desktop-4-reloaded")
    page.goto("/account/settings")
    screenshot(page, "recovery-desktop-5-settings")
    page.locator("#recovery-codes-link").click()
    page.fill("input[name=password]", PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.locator("#code-list").wait_for()
    assert page.locator("#code-list code").count() == 10
    screenshot(page, "recovery-desktop-6-new-codes")


def test_the_recovery_pages_pass_the_accessibility_scan(browser, live, factory):
    """axe-core on the codes page, "Forgot password?" with its error, and the count in the settings (a phone)."""
    from .test_accessibility import scan

    factory.user("scanned")
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="en-GB", base_url=live.url, bypass_csp=True
    )  # bypass_csp: only for the injected axe-core script
    context.set_default_timeout(8000)
    try:
        page = context.new_page()
        page.goto("/register")
        page.fill("input[name=username]", "scanned_person")
        page.fill("input[name=password]", PASSWORD)
        page.fill("input[name=confirm]", PASSWORD)
        page.locator("main form button[type=submit]").click()
        page.locator("#code-list").wait_for()
        scan(page, "recovery-codes-phone")
        page.goto("/account/recovery-codes")
        scan(page, "recovery-codes-count-phone")
        other = context.browser.new_context(
            viewport={"width": 360, "height": 740}, locale="en-GB", base_url=live.url, bypass_csp=True
        )
        try:
            recover_page = other.new_page()
            recover_page.goto("/account/recover")
            scan(recover_page, "recover-phone")
            recover_page.fill("input[name=username]", "scanned")
            recover_page.fill("input[name=code]", "QRST-VWXY-6789")
            recover_page.fill("input[name=password]", NEW_PASSWORD)
            recover_page.fill("input[name=confirm]", NEW_PASSWORD)
            recover_page.locator("main form button[type=submit]").click()
            recover_page.locator(".has-error").wait_for()
            scan(recover_page, "recover-refused-phone")
        finally:
            other.close()
    finally:
        context.close()
