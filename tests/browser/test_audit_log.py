"""The audit log in real Chromium, in English and in Dutch: a coordinator looks up who is behind an alias (with a
reason), opens the audit log from the console, filters it to look-ups and downloads the CSV; the participant then
finds the look-up on their own page on a 360 px phone: when, where and by which role, never who.
Screenshots: test-output/audit-*.png."""

from __future__ import annotations

import csv
import io

import pytest

from .conftest import login, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.live]

WORDS = {
    "en": {"action": "Alias looked up", "by": "looked up by a coordinator", "lookups": "Who looked up my alias"},
    "nl": {
        "action": "Schuilnaam opgezocht",
        "by": "opgezocht door een coördinator",
        "lookups": "Wie heeft mijn schuilnaam opgezocht",
    },
}
LOCALES = {"en": "en-GB", "nl": "nl-NL"}
REASON = "Safety concern raised by the peer expert"


@pytest.mark.parametrize("lang", list(WORDS))
def test_a_look_up_reaches_the_audit_log_the_csv_and_the_participants_own_page(factory, live, new_page, lang):
    scene = factory.scene()
    alias = scene.memberships["alice"].alias
    words = WORDS[lang]

    page = new_page(1280, 900, locale=LOCALES[lang])
    login(page, "coord")
    page.goto(f"/groups/{scene.group.id}")
    lookup = page.locator("form[action$='/lookup']")
    lookup.locator("input[name='lookup-alias']").fill(alias)
    lookup.locator("input[name='lookup-reason']").fill(REASON)
    lookup.locator("button[type=submit]").click()
    page.locator("p.flash", has_text="alice").wait_for()

    page.goto("/admin/")
    page.locator("main a[href='/admin/audit']").click()
    page.locator("#audit-rows").wait_for()
    page.select_option("select[name=action]", "lookup_alias")
    page.locator("form.audit-filter button.primary").click()
    page.wait_for_url("**/admin/audit?*action=lookup_alias*")
    rows = page.locator("#audit-rows tbody tr")
    assert rows.count() == 1
    row = rows.first
    assert words["action"] in row.inner_text() and REASON in row.inner_text() and "coord" in row.inner_text()
    assert "alice" not in page.locator("#audit-rows").inner_text()
    screenshot(page, f"audit-log-desktop-{lang}")

    with page.expect_download() as caught:
        page.locator("form.audit-filter button[formaction$='/admin/audit.csv']").click()
    download = caught.value
    assert download.suggested_filename.startswith("audit-log-") and download.suggested_filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig") as handle:
        written = list(csv.DictReader(io.StringIO(handle.read())))
    assert [(r["action"], r["reason"], r["actor_username"]) for r in written] == [("lookup_alias", REASON, "coord")]
    assert written[0]["action_label"] == words["action"] and written[0]["time_utc"].endswith("Z")

    phone = new_page(360, 740, locale=LOCALES[lang])
    login(phone, "coord")
    phone.goto("/admin/audit")
    phone.locator("#audit-rows").wait_for()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    screenshot(phone, f"audit-log-phone-{lang}")

    participant = new_page(360, 740, locale=LOCALES[lang])
    login(participant, "alice")
    participant.goto("/account/settings")
    participant.get_by_role("link", name=words["lookups"]).click()
    item = participant.locator("#alias-lookups li")
    item.first.wait_for()
    assert item.count() == 1
    text = item.first.inner_text()
    assert alias in text and words["by"] in text and scene.group.name in text
    assert "coord" not in participant.locator("main").inner_text().replace("coördinator", "").replace("coordinator", "")
    assert REASON not in participant.locator("main").inner_text()
    assert participant.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(participant, f"audit-participant-lookups-phone-{lang}")

    bob = new_page(360, 740, locale=LOCALES[lang])
    login(bob, "bob")
    bob.goto("/account/alias-lookups")
    bob.locator("#alias-lookups-empty").wait_for()
    screenshot(bob, f"audit-participant-none-phone-{lang}")
