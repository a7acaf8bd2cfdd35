"""The crisis resources per language in the admin console: an editor per language whose rules are
`safety/resources.validate`'s (an error on each row's field, nothing typed lost), stored in the database where it
wins over the file, shown in the help panel and footer in each language; back to the file; a broken stored version
never fails a page (the file serves, logged once)."""

from __future__ import annotations

import html
import logging

import pytest
from sqlalchemy import select

from supportgroup import platform_settings
from supportgroup.audit import AuditAction
from supportgroup.models import ModerationAction, PlatformSetting, Role
from supportgroup.safety import resources
from tests.conftest import csrf_token

EDITOR = "/admin/settings/crisis"


@pytest.fixture(autouse=True)
def fresh_resources():
    resources.clear_cache()
    yield
    resources.clear_cache()


@pytest.fixture
def root(factory, login_client):
    factory.user("root", Role.ADMIN)
    return login_client("root")


def crisis_form(rows: list[dict], intro: str = "", what_happens: str = "") -> dict:
    """The editor's fields: the intro, the rows as given (name, phone, hours, description, emergency, remove)."""
    data = {"intro": intro, "what_happens": what_happens}
    for index, row in enumerate(rows):
        for key in ("name", "phone", "hours", "description"):
            data[f"resources-{index}-{key}"] = row.get(key, "")
        for key in ("emergency", "remove"):
            if row.get(key):
                data[f"resources-{index}-{key}"] = "y"
    return data


def save(http, locale: str, rows: list[dict], **top):
    page = f"{EDITOR}/{locale}"
    return http.post(page, data={"csrf_token": csrf_token(http, page), **crisis_form(rows, **top)})


def stored(db):
    db.session.expire_all()
    row = db.session.get(PlatformSetting, "crisis_resources")
    return row.value if row is not None else None


def change_rows(db):
    db.session.expire_all()
    return db.session.scalars(
        select(ModerationAction).where(ModerationAction.action == AuditAction.CHANGE_SETTING)
    ).all()


def help_panel_and_footer(page: str) -> tuple[str, str]:
    panel = page[page.index('<section id="help-panel"') : page.index("</section>", page.index('id="help-panel"'))]
    footer = page[page.index('<footer class="site-footer"') :]
    return panel, footer


LINE = {"name": "Hulplijn Regio Test", "phone": "0800 1234", "hours": "ma-vr 9-17", "description": "Voor advies."}


def test_the_editor_starts_from_the_file_with_blank_rows_to_add(root):
    page = root.get(f"{EDITOR}/nl").get_data(as_text=True)
    assert 'value="Veilig Thuis"' in page and 'value="0800 2000"' in page and "Alarmnummer" in page
    assert page.count('<details class="helpline-new">') == 2 and "from the file on the server" in page
    assert "Back to the file" not in page  # nothing to go back from


def test_every_problem_is_shown_on_its_row_and_nothing_typed_is_lost(root, db):
    rows = [
        {"name": "", "phone": "0800 2000", "description": "Advies en steun."},  # no name
        {"name": "Bel ons", "phone": "bel ons", "description": "Iets."},  # not a phone number
        {"name": "Weg ermee", "phone": "nope", "remove": True},  # marked for removal: not checked
        {},  # a blank row: skipped
        {"name": "Nieuw", "phone": "+31 20 123 4567", "description": ""},  # no description
    ]
    response = save(root, "nl", rows, intro="Mijn nieuwe intro", what_happens="x" * 1001)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    errors = {
        field: page[page.index(f'id="{field}-errors"') : page.index("</ul>", page.index(f'id="{field}-errors"'))]
        for field in ("resources-0-name", "resources-1-phone", "resources-4-description", "what_happens")
    }
    assert "This field is required." in errors["resources-0-name"]
    assert "Enter a phone number" in errors["resources-1-phone"]
    assert "This field is required." in errors["resources-4-description"]
    assert "At most 1000 characters." in errors["what_happens"]
    assert 'id="resources-2-phone-errors"' not in page  # the row marked for removal is not checked
    for typed in ("Mijn nieuwe intro", "bel ons", "Bel ons", "+31 20 123 4567", "Weg ermee", "x" * 1001):
        assert html.escape(typed) in page, typed
    assert 'id="resources-2-remove" name="resources-2-remove" type="checkbox" value="y"' in page
    assert stored(db) is None and change_rows(db) == []


def test_a_list_without_helplines_is_refused_above_the_form(root, db):
    response = save(root, "en", [{}, {"name": "Gone", "phone": "112", "description": "x", "remove": True}])
    assert response.status_code == 400 and "Add at least one helpline." in response.get_data(as_text=True)
    assert stored(db) is None


def test_the_saved_helplines_show_in_the_help_panel_and_footer_in_each_language(root, app, db):
    dutch = [LINE, {"name": "Alarmnummer", "phone": "112", "description": "Bij direct gevaar.", "emergency": True}]
    assert save(root, "nl", dutch, intro="Bel gerust.").status_code == 302
    english = [{"name": "Test line", "phone": "0800 5555", "description": "For testing."}]
    assert save(root, "en", english).status_code == 302

    visitor = app.test_client()
    panel, footer = help_panel_and_footer(visitor.get("/login?lang=nl").get_data(as_text=True))
    for part in (panel, footer):
        assert "Hulplijn Regio Test" in part and 'href="tel:08001234"' in part and "Veilig Thuis" not in part
    assert "Bel gerust." in panel and "ma-vr 9-17" in panel and 'class="crisis-resource emergency"' in panel
    panel, footer = help_panel_and_footer(visitor.get("/login?lang=en").get_data(as_text=True))
    assert "Test line" in panel and "Test line" in footer and "Hulplijn" not in panel
    with app.test_request_context():  # the crisis note of a socket event reads the same
        assert [r["name"] for r in resources.crisis_resources("nl")] == ["Hulplijn Regio Test", "Alarmnummer"]

    assert stored(db)["nl"]["resources"][0] == {**LINE, "emergency": False}  # no derived `tel` stored
    editor = root.get(f"{EDITOR}/nl").get_data(as_text=True)
    assert "by root (Administrator)" in editor and "Back to the file" in editor
    assert [r.reason for r in change_rows(db)] == ["nl", "en"]
    assert {r.target_id for r in change_rows(db)} == {"crisis_resources"}

    # Back to the file, for Dutch only.
    page = f"{EDITOR}/nl"
    assert root.post(f"{page}/file", data={"csrf_token": csrf_token(root, page)}).status_code == 302
    panel, _footer = help_panel_and_footer(visitor.get("/login?lang=nl").get_data(as_text=True))
    assert "Veilig Thuis" in panel and "Hulplijn" not in panel
    assert "Test line" in visitor.get("/login?lang=en").get_data(as_text=True)
    assert set(stored(db)) == {"en"} and change_rows(db)[-1].reason == "nl: file"
    assert all("Hulplijn" not in r.reason and "0800" not in r.reason for r in change_rows(db))


def test_removing_a_helpline_and_adding_one_in_a_blank_row(root, app, db):
    current = resources.load("nl")["resources"]
    rows = [{**current[0], "remove": True}, current[1], current[2], LINE, {}]
    assert save(root, "nl", rows).status_code == 302
    assert [r["name"] for r in stored(db)["nl"]["resources"]] == [current[1]["name"], current[2]["name"], LINE["name"]]


def test_a_broken_stored_version_falls_back_to_the_file_and_is_logged_once(root, app, db, caplog):
    platform_settings.put(
        "crisis_resources",
        {"nl": {"resources": [{"name": "Kapot", "phone": "geen nummer", "description": "x"}]}, "en": "garbage"},
        None,
    )
    db.session.commit()
    visitor = app.test_client()
    with caplog.at_level(logging.WARNING, logger="supportgroup.safety"):
        for _ in range(3):
            nl = visitor.get("/login?lang=nl")
            assert nl.status_code == 200 and "Veilig Thuis" in nl.get_data(as_text=True)
            assert "Kapot" not in nl.get_data(as_text=True)
            assert "Emergency number" in visitor.get("/login?lang=en").get_data(as_text=True)
    unusable = [r for r in caplog.records if "stored version" in r.getMessage()]
    assert sorted(r.getMessage().split(" is unusable")[0] for r in unusable) == [
        "crisis resources: the stored version for en",
        "crisis resources: the stored version for nl",
    ]
    editor = root.get(f"{EDITOR}/nl").get_data(as_text=True)
    assert "could not be used" in editor and 'value="Veilig Thuis"' in editor  # the editor starts from the file


def test_a_deployments_file_still_serves_languages_the_admin_did_not_change(root, app, tmp_path):
    (tmp_path / "en.json").write_text('{"resources": [{"name": "Local", "phone": "0800 9999", "description": "Ours"}]}')
    app.config["CRISIS_RESOURCES_DIR"] = str(tmp_path)
    assert save(root, "nl", [LINE]).status_code == 302
    visitor = app.test_client()
    assert "Local" in visitor.get("/login?lang=en").get_data(as_text=True)
    assert "Hulplijn Regio Test" in visitor.get("/login?lang=nl").get_data(as_text=True)
