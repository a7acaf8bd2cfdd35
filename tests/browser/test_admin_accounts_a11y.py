"""The accounts pages of the admin console and the activation page under the axe-core scan (WCAG 2.0/2.1 A and
AA, serious and critical violations fail), on a desktop and on a phone (issue #15)."""

from __future__ import annotations

import pytest

from supportgroup.auth import accounts, issued_codes
from supportgroup.extensions import db
from supportgroup.models import Role

from .conftest import login
from .test_accessibility import new_page, scan  # noqa: F401  (new_page: the fixture that lets axe-core in)

pytestmark = [pytest.mark.browser, pytest.mark.live]


@pytest.mark.parametrize("width", [1280, 360])
def test_the_accounts_pages_pass_the_scan(factory, live, new_page, width):  # noqa: F811
    root = factory.user("root", Role.ADMIN)
    factory.user("coord", Role.COORDINATOR)
    factory.user("alice")
    newcomer = accounts.create_staff(root, "newcomer", Role.PEER_EXPERT, "Nina")
    token, _expires = issued_codes.issue_activation(root, newcomer, "new account")
    db.session.commit()
    admin = new_page(width=width, height=800)
    login(admin, "root")
    for path, name in (
        ("/admin/accounts", "accounts"),
        ("/admin/accounts?status=awaiting", "accounts-filtered"),
        (f"/admin/accounts/{newcomer.id}", "account-awaiting"),
        (f"/admin/accounts/{root.id}", "account"),
        ("/admin/accounts/new", "account-new"),
        ("/admin/reset-code", "reset-code"),
    ):
        admin.goto(path)
        scan(admin, f"{name}-{width}")
    admin.goto("/admin/reset-code")
    admin.fill("input[name=username]", "alice")
    admin.fill("textarea[name=reason]", "phoned")
    admin.locator("#main form [type=submit]").click()
    admin.locator("#reset-code").wait_for()
    scan(admin, f"reset-code-shown-{width}")

    person = new_page(width=width, height=800)
    person.goto(f"/activate/{token}")
    scan(person, f"activate-{width}")
    person.goto("/activate/not-a-link")
    scan(person, f"activate-dead-{width}")
