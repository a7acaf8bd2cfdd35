"""Platform settings in the admin console: quick exit's address, the crisis resources per language, two-factor
sign-in for peer experts. Checked with clear errors that lose nothing, audited by name (never the value), admins
only, applied at once on every page and in every app (read from the database per request)."""

from __future__ import annotations

import contextlib
import html
import logging
import re

import pytest
import requests
from sqlalchemy import event, select, text

from supportgroup import platform_settings
from supportgroup.audit import AuditAction
from supportgroup.extensions import db as _db
from supportgroup.models import Message, ModerationAction, PlatformSetting, Role
from supportgroup.safety import resources
from tests.conftest import DEFAULT_PASSWORD, AuthActions, close_app_connections, csrf_token, make_app

SETTINGS = "/admin/settings"
NEW_EXIT = "https://neutral.example/weer?stad=utrecht"


@pytest.fixture(autouse=True)
def fresh_resources():
    resources.clear_cache()
    yield
    resources.clear_cache()


def post_form(http, page, action, data=None):
    return http.post(action, data={"csrf_token": csrf_token(http, page), **(data or {})})


@pytest.fixture
def root(factory, login_client):
    factory.user("root", Role.ADMIN)
    return login_client("root")


def change_rows(db):
    db.session.expire_all()
    return db.session.scalars(
        select(ModerationAction).where(ModerationAction.action == AuditAction.CHANGE_SETTING)
    ).all()


def stored(db, name: str):
    db.session.expire_all()
    row = db.session.get(PlatformSetting, name)
    return row.value if row is not None else None


def quick_exit_link(page: str) -> tuple[str, str]:
    link = re.search(r'<a id="quick-exit"[^>]*>', page).group(0)
    return html.unescape(re.search(r'href="([^"]*)"', link).group(1)), html.unescape(
        re.search(r'data-url="([^"]*)"', link).group(1)
    )


def crisis_form(current: dict, rows: list[dict], **top) -> dict:
    """The editor's fields: the intro, the rows as given (name, phone, hours, description, emergency, remove)."""
    data = {"intro": current.get("intro", ""), "what_happens": current.get("what_happens", ""), **top}
    for index, row in enumerate(rows):
        for key in ("name", "phone", "hours", "description"):
            data[f"resources-{index}-{key}"] = row.get(key, "")
        for key in ("emergency", "remove"):
            if row.get(key):
                data[f"resources-{index}-{key}"] = "y"
    return data


# --- quick exit -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter the address of a neutral website."),
        ("javascript:alert(1)", "Enter a full address that starts with https://"),
        ("http://neutral.example/", "Use an address that starts with https://"),
        ("https://someone:secret@neutral.example/", "may not contain a user name or password"),
        ("https://neutral.example/" + "a" * 480, "at most 500 characters"),
        ("https://neutral.example/a b", "An address has no spaces in it."),
        ("/static/favicon.svg", "Enter a full address that starts with https://"),
        ("https://localhost/elsewhere", "quick exit must leave this site"),
        ("https://neutral.example:99999/", "Enter a full address that starts with https://"),
    ],
    ids=["empty", "javascript", "http", "credentials", "too-long", "spaces", "a-path", "this-site", "bad-port"],
)
def test_a_bad_quick_exit_address_is_refused_clearly_and_nothing_typed_is_lost(root, db, typed, message):
    response = post_form(root, SETTINGS, f"{SETTINGS}/quick-exit", {"exit-url": typed})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert f'name="exit-url" type="text" value="{html.escape(typed)}"' in page
    assert db.session.get(PlatformSetting, "quick_exit_url") is None and change_rows(db) == []


@pytest.mark.parametrize(
    ("app_overrides", "status"), [({"ENV_NAME": "development"}, 302), ({"ENV_NAME": "production"}, 400)]
)
def test_http_is_allowed_in_development_only(root, db, status):
    response = post_form(root, SETTINGS, f"{SETTINGS}/quick-exit", {"exit-url": "http://neutral.example/"})
    assert response.status_code == status
    assert stored(db, "quick_exit_url") == ("http://neutral.example/" if status == 302 else None)


def test_a_new_address_applies_on_every_page_at_once_and_is_audited_by_name(root, app, factory, login_client, db):
    default = app.config["QUICK_EXIT_URL"]
    factory.user("alice")
    alice, visitor = login_client("alice"), app.test_client()
    assert quick_exit_link(alice.get("/home").get_data(as_text=True)) == (default, default)

    assert post_form(root, SETTINGS, f"{SETTINGS}/quick-exit", {"exit-url": f"  {NEW_EXIT} "}).status_code == 302
    for page in (alice.get("/home"), alice.get("/account/settings"), visitor.get("/login"), visitor.get("/nowhere")):
        assert quick_exit_link(page.get_data(as_text=True)) == (NEW_EXIT, NEW_EXIT)

    settings_page = root.get(SETTINGS).get_data(as_text=True)
    assert "by root (Administrator)" in settings_page and "Back to the default" in settings_page
    (row,) = change_rows(db)
    assert (row.target_type, row.target_id, row.reason, row.actor_role) == (
        "platform_setting",
        "quick_exit_url",
        "changed",
        "admin",
    )
    assert "neutral" not in row.reason

    assert post_form(root, SETTINGS, f"{SETTINGS}/quick_exit_url/default").status_code == 302
    assert quick_exit_link(alice.get("/home").get_data(as_text=True)) == (default, default)
    assert [r.reason for r in change_rows(db)] == ["changed", "default"]
    assert f"from the server's environment: {default}" in html.unescape(root.get(SETTINGS).get_data(as_text=True))


def test_a_stored_address_changed_by_hand_can_never_put_a_script_in_the_link(root, app, factory, db):
    platform_settings.put("quick_exit_url", "javascript:alert(1)", None)
    db.session.commit()
    default = app.config["QUICK_EXIT_URL"]
    assert quick_exit_link(app.test_client().get("/login").get_data(as_text=True)) == (default, default)


# --- who may ----------------------------------------------------------------------------------------------


def test_only_admins_open_or_change_the_settings(factory, login_client, app, db):
    factory.user("coord", Role.COORDINATOR)
    factory.user("alice")
    for username in ("coord", "alice"):
        http = login_client(username)
        token = csrf_token(http, "/home")
        assert http.get(SETTINGS).status_code == 403
        assert http.get(f"{SETTINGS}/crisis/nl").status_code == 403
        for action, data in (
            ("quick-exit", {"exit-url": NEW_EXIT}),
            ("two-factor", {"twofactor-required": "y"}),
            ("quick_exit_url/default", {}),
            ("crisis/nl", crisis_form({}, [{"name": "X", "phone": "0800 1234", "description": "Y"}])),
            ("crisis/nl/file", {}),
        ):
            assert http.post(f"{SETTINGS}/{action}", data={"csrf_token": token, **data}).status_code == 403, action
    visitor = app.test_client()
    assert visitor.get(SETTINGS).status_code == 302 and "/login" in visitor.get(SETTINGS).headers["Location"]
    assert db.session.scalars(select(PlatformSetting)).all() == [] and change_rows(db) == []


def test_an_unknown_language_or_setting_is_404(root):
    assert root.get(f"{SETTINGS}/crisis/de").status_code == 404
    assert post_form(root, SETTINGS, f"{SETTINGS}/crisis_resources/default").status_code == 404
    assert post_form(root, SETTINGS, f"{SETTINGS}/secret_key/default").status_code == 404


# --- two-factor sign-in for peer experts ----------------------------------------------------------------


def test_two_factor_for_peer_experts_is_stored_and_staff_always_need_it(root, app, db):
    page = root.get(SETTINGS).get_data(as_text=True)
    assert "Coordinators and administrators always sign in with a code from an app as well" in page
    assert "from the server's environment: not required" in html.unescape(page)
    assert post_form(root, SETTINGS, f"{SETTINGS}/two-factor", {"twofactor-required": "y"}).status_code == 302
    assert stored(db, "require_two_factor_peer_experts") is True
    assert '<input checked id="twofactor-required"' in root.get(SETTINGS).get_data(as_text=True)
    assert post_form(root, SETTINGS, f"{SETTINGS}/two-factor", {}).status_code == 302
    assert stored(db, "require_two_factor_peer_experts") is False
    assert [(r.target_id, r.reason) for r in change_rows(db)] == [("require_two_factor_peer_experts", "changed")] * 2


# --- every process, at its next request -------------------------------------------------------------------

DUTCH_LINE = {
    "resources-0-name": "Hulplijn Regio Test",
    "resources-0-phone": "0800 1234",
    "resources-0-description": "Voor advies.",
}


def change_both(http, exit_url: str, dutch: dict) -> None:
    assert post_form(http, SETTINGS, f"{SETTINGS}/quick-exit", {"exit-url": exit_url}).status_code == 302
    assert post_form(http, f"{SETTINGS}/crisis/nl", f"{SETTINGS}/crisis/nl", dutch).status_code == 302


@pytest.mark.committed
def test_a_change_applies_in_a_second_app_on_the_same_database_at_its_next_request(
    app, schema, redis_prefix, factory, login_client
):
    other = make_app(schema, redis_prefix)
    factory.user("root", Role.ADMIN)
    readers = {"first": app.test_client(), "second": other.test_client()}
    for reader in readers.values():  # each app has read the settings and the files: whatever it keeps is warm
        page = reader.get("/login?lang=nl").get_data(as_text=True)
        assert quick_exit_link(page)[0] == app.config["QUICK_EXIT_URL"] and "Veilig Thuis" in page

    change_both(login_client("root"), NEW_EXIT, DUTCH_LINE)  # through the first app
    page = readers["second"].get("/login?lang=nl").get_data(as_text=True)
    assert quick_exit_link(page) == (NEW_EXIT, NEW_EXIT) and "Hulplijn Regio Test" in page and "Veilig" not in page

    admin_there = other.test_client()  # and back, through the second
    assert AuthActions(admin_there).login("root").status_code == 302
    change_both(admin_there, "https://weather.example/", {**DUTCH_LINE, "resources-0-name": "Tweede lijn"})
    page = readers["first"].get("/login?lang=nl").get_data(as_text=True)
    assert quick_exit_link(page)[0] == "https://weather.example/" and "Tweede lijn" in page
    close_app_connections(other)


@pytest.mark.scaleout_only
def test_two_server_processes_show_a_change_made_on_one_at_the_others_next_page(factory, live_servers):
    factory.user("root", Role.ADMIN)
    first, second = live_servers(), live_servers()
    before = second.url + "/login?lang=nl"

    assert "Veilig Thuis" in requests.get(before, timeout=5).text  # the second process has read them
    admin = first.login("root", DEFAULT_PASSWORD)
    for page, data in ((SETTINGS, {"exit-url": NEW_EXIT}), (f"{SETTINGS}/crisis/nl", DUTCH_LINE)):
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', admin.get(first.url + page, timeout=5).text)
        action = f"{SETTINGS}/quick-exit" if page == SETTINGS else page
        response = admin.post(
            first.url + action, data={"csrf_token": token.group(1), **data}, allow_redirects=False, timeout=5
        )
        assert response.status_code == 302, response.text[:500]
    page = requests.get(before, timeout=5).text
    assert quick_exit_link(page) == (NEW_EXIT, NEW_EXIT) and "Hulplijn Regio Test" in page


# --- what it costs ---------------------------------------------------------------------------------------


def test_one_query_per_page_and_none_for_static_files_or_socket_events(app, factory, login_client, socket_client):
    from tests.chat_helpers import join, send

    scene = factory.scene()
    expert, alice_socket = socket_client("expert"), socket_client("alice")
    alice = login_client("alice")
    statements: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = _db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:

        def reads(call) -> int:
            statements.clear()
            call()
            return sum("platform_settings" in s for s in statements)

        assert reads(lambda: alice.get("/home")) == 1  # quick exit and the helplines: one query
        assert reads(lambda: alice.get("/nowhere")) == 1  # an error page too
        assert reads(lambda: alice.get("/static/css/app.css").close()) == 0
        assert reads(lambda: alice.get("/static/js/safety.js").close()) == 0
        assert reads(lambda: join(expert, scene.meeting)) == 0
        assert reads(lambda: join(alice_socket, scene.meeting)) == 0
        assert reads(lambda: send(alice_socket, scene.meeting)["ok"]) == 0
    finally:
        event.remove(engine, "before_cursor_execute", note)


# --- when the settings cannot be read ---------------------------------------------------------------------


@contextlib.contextmanager
def settings_unreadable():
    """The settings table gone for a while (as a failed or unreachable database would answer the query)."""
    _db.session.remove()
    with _db.engine.begin() as conn:
        conn.execute(text("ALTER TABLE platform_settings RENAME TO platform_settings_away"))
    try:
        yield
    finally:
        _db.session.remove()
        with _db.engine.begin() as conn:
            conn.execute(text("ALTER TABLE platform_settings_away RENAME TO platform_settings"))


@pytest.mark.committed
def test_unreadable_settings_never_fail_the_login_page_nor_let_a_message_pass_half_stored(
    app, factory, socket_client, caplog, monkeypatch
):
    from supportgroup.safety import live_settings
    from tests.chat_helpers import join, send

    monkeypatch.setattr(live_settings, "_last_warning", 0.0)  # at most once a minute, per process
    scene = factory.scene()
    expert, alice = socket_client("expert"), socket_client("alice")
    join(expert, scene.meeting)
    join(alice, scene.meeting)
    with settings_unreadable(), caplog.at_level(logging.WARNING, logger="supportgroup.safety"):
        for _ in range(2):  # the login page reads nothing else: the defaults and the files serve
            page = app.test_client().get("/login?lang=nl")
            assert page.status_code == 200
            html_text = page.get_data(as_text=True)
            assert quick_exit_link(html_text)[0] == app.config["QUICK_EXIT_URL"] and "Veilig Thuis" in html_text
        assert len([r for r in caplog.records if "platform settings unreadable" in r.getMessage()]) == 1
        # A crisis message's note reads the helplines inside the message's transaction: the whole event fails
        # (never acknowledged as sent while psycopg commits the aborted transaction as a rollback).
        crisis = send(alice, scene.meeting, "Ik wil niet meer leven", "alice-crisis-away")
        assert not crisis["ok"]
        assert send(alice, scene.meeting, "Gewoon een bericht", "alice-plain-away")["ok"]  # no note, no settings
    _db.session.remove()
    texts = _db.session.scalars(select(Message.text).where(Message.meeting_id == scene.meeting.id)).all()
    assert "Ik wil niet meer leven" not in texts and "Gewoon een bericht" in texts
