"""Issue #15's review fixes as a person meets them: the last admin who tries to erase their account is told why and
keeps it; a disabled account's page offers no reset code (and a participant's no second factor). Desktop in
English, a 360 px phone in Dutch."""

from __future__ import annotations

import re

import pytest

from supportgroup.auth import accounts
from supportgroup.extensions import db
from supportgroup.models import Role
from tests.conftest import DEFAULT_PASSWORD

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

VIEWS = [("desktop", 1280, 800, "en-GB"), ("phone", 360, 740, "nl-NL")]
LAST_ADMIN = {"en": "This is the last administrator.", "nl": "Dit is de laatste beheerder."}


@pytest.mark.parametrize("device,width,height,locale", VIEWS)
def test_the_last_admin_is_told_why_their_account_stays(factory, live, new_page, device, width, height, locale):
    factory.user("root", Role.ADMIN)
    pat = factory.user("pat")
    accounts.set_enabled(None, pat, False, "asked for a pause")
    db.session.commit()
    page = new_page(width=width, height=height, locale=locale)
    login(page, "root")
    lang = locale[:2]

    page.goto("/account/erase")
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.check("input[name=confirm]")
    page.locator("main form [type=submit]").click()
    page.wait_for_url(re.compile(r"/account/erase$"))
    assert LAST_ADMIN[lang] in page.locator(".flash-error").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"review15-erase-last-admin-{device}-{lang}")

    page.goto(f"/admin/accounts/{pat.id}")  # disabled: enabling is offered, a reset code is not
    assert page.locator("#enable").count() == 1 and page.locator("#reset").count() == 0
    assert page.locator("#two-factor").count() == 0  # a participant has no second factor to reset
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"review15-disabled-account-{device}-{lang}")
