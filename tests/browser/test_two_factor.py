"""A coordinator's first login with two-factor sign-in, in Chromium: enrol (the key read from the page, the code
computed with pyotp as the phone's app would), save the backup codes, log out, log in with a code. On a desktop and
a 360 px phone, in English and Dutch. Screenshots: test-output/two-factor-*.png."""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from supportgroup.models import Role
from tests.conftest import DEFAULT_PASSWORD
from tests.two_factor_helpers import enrol

from .conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

VIEWS = [
    pytest.param("desktop", 1280, 800, "en-GB", id="desktop-en"),
    pytest.param("phone", 360, 740, "nl-NL", id="phone-nl"),
    pytest.param("desktop", 1280, 800, "nl-NL", id="desktop-nl"),
    pytest.param("phone", 360, 740, "en-GB", id="phone-en"),
]


@pytest.fixture
def live_env() -> dict:
    """The server as `TWO_FACTOR_DEFERRED=0 make run` starts it: development, with two-factor sign-in."""
    return {"TWO_FACTOR_DEFERRED": "0"}


def _password_step(page, username: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.locator("form:has(input[name=password]) [type=submit]").click()


def _log_out(page) -> None:
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible():  # a phone: the links are folded into the menu
        toggle.click()
    page.locator("#nav-list form[action='/logout'] button").click()
    page.wait_for_url(re.compile(r"/login$"))


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "the page scrolls sideways"


@pytest.mark.parametrize("device,width,height,locale", VIEWS)
def test_a_coordinator_enrols_and_logs_in_with_a_code(factory, live, new_page, device, width, height, locale):
    name = f"coord_{device}_{locale[:2]}"
    factory.user(name, Role.COORDINATOR)
    page = new_page(width=width, height=height, locale=locale)
    console: list[str] = []  # a QR code or style the CSP refused would be reported here
    page.on("console", lambda message: console.append(message.text))
    shot = f"two-factor-{device}-{locale[:2]}"

    _password_step(page, name)
    page.wait_for_url(re.compile(r"/account/two-factor/setup$"))
    qr = page.locator("svg.qr")
    box = qr.bounding_box()
    assert box and 180 <= box["width"] <= 240 and abs(box["width"] - box["height"]) < 1  # square, phone-camera size
    secret = page.locator("#totp-secret").inner_text()
    assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4}){7}", secret), secret  # base32, in groups of four
    _fits(page, width)
    screenshot(page, f"{shot}-1-setup")

    app_totp = pyotp.TOTP(secret.replace(" ", ""))
    page.fill("input[name=code]", app_totp.now())
    page.locator("form:has(input[name=code]) [type=submit]").click()
    codes = page.locator("#backup-codes code")
    codes.first.wait_for()
    backup = codes.all_inner_texts()
    assert len(backup) == 10 and all(re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", c) for c in backup)
    _fits(page, width)
    screenshot(page, f"{shot}-2-backup-codes")

    page.locator("a.button.primary").click()  # "I have saved my backup codes"
    page.wait_for_url(re.compile(r"/home$"))
    _log_out(page)

    _password_step(page, name)
    page.wait_for_url(re.compile(r"/login/code$"))
    assert page.locator("#nav-list a").count() == 1  # only the language link: nothing of the account yet
    _fits(page, width)
    screenshot(page, f"{shot}-3-code")
    # The code of the next step (the one enrolment used is spent; a person would wait for the next, which the
    # server accepts a step early for clock drift).
    page.fill("input[name=code]", app_totp.at(time.time() + 30))
    page.locator("form:has(input[name=code]) [type=submit]").click()
    page.wait_for_url(re.compile(r"/home$"))
    assert page.locator("#nav-list a[href='/groups/']").count() == 1  # the coordinator's pages are there now
    screenshot(page, f"{shot}-4-signed-in")

    page.goto("/account/two-factor")
    assert "10" in page.locator("#main").inner_text()  # backup codes left
    screenshot(page, f"{shot}-5-manage")
    assert not [text for text in console if "Content Security Policy" in text], console


@pytest.mark.parametrize("device,width,height,locale", VIEWS[:2])
def test_an_admin_resets_a_lost_second_factor(factory, live, new_page, device, width, height, locale, db):
    admin, coordinator = factory.user("root", Role.ADMIN), factory.user("coord", Role.COORDINATOR)
    enrol(admin)
    enrol(coordinator)
    db.session.refresh(admin)
    page = new_page(width=width, height=height, locale=locale)
    _password_step(page, "root")
    page.wait_for_url(re.compile(r"/login/code$"))
    page.fill("input[name=code]", pyotp.TOTP(admin.totp_secret).at(time.time() + 30))  # enrolment spent now's
    page.locator("form:has(input[name=code]) [type=submit]").click()
    page.wait_for_url(re.compile(r"/home$"))

    page.goto(f"/admin/accounts/{coordinator.id}")
    assert "10" in page.locator("#two-factor-admin-status").inner_text()
    _fits(page, width)
    screenshot(page, f"two-factor-admin-{device}-{locale[:2]}-1-status")
    page.fill("textarea[name=reason]", "Lost phone; called from the office line")
    page.locator("form:has(textarea[name=reason]) [type=submit]").click()
    page.wait_for_url(re.compile(rf"/admin/accounts/{coordinator.id}$"))
    page.locator(".flash-success").wait_for()
    assert page.locator("form:has(textarea[name=reason])").count() == 0  # nothing left to reset
    screenshot(page, f"two-factor-admin-{device}-{locale[:2]}-2-reset")
    db.session.refresh(coordinator)
    assert coordinator.totp_secret is None
    page.goto(f"/admin/accounts/{admin.id}")  # your own account: no reset of your own second factor
    assert page.locator("#own-account").count() == 1 and page.locator("#two-factor").count() == 0
    _fits(page, width)
    screenshot(page, f"two-factor-admin-{device}-{locale[:2]}-3-own-account")
