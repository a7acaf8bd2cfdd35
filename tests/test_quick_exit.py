"""Quick exit ends the session on the server, not only the page (issue #11).

safety.js sends `POST /account/quick-exit` with `navigator.sendBeacon` (a form-encoded body carrying the
CSRF token, the session cookie, no Referer) while it replaces the page. Afterwards the site's address
must show the login page on this device and on every other device of the account.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.chat_helpers import join
from tests.conftest import AuthActions, csrf_token, socket_test_client

QUICK_EXIT = "/account/quick-exit"


def beacon(client, token: str | None, encoding: str = "urlencoded"):
    """What sendBeacon sends: URLSearchParams (form-encoded) or FormData (multipart); no Referer header."""
    fields = {"csrf_token": token} if token is not None else {}
    if encoding == "urlencoded":
        return client.post(
            QUICK_EXIT, data=urlencode(fields), content_type="application/x-www-form-urlencoded;charset=UTF-8"
        )
    return client.post(QUICK_EXIT, data=fields, content_type="multipart/form-data")


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_quick_exit_ends_the_session_on_every_device(app, client, auth, factory, encoding):
    factory.user("alice")
    auth.login("alice")
    copied = client.get_cookie("sg_session").value
    other_device = app.test_client()
    AuthActions(other_device).login("alice")
    assert other_device.get("/home").status_code == 200

    response = beacon(client, csrf_token(client, "/home"), encoding)
    assert response.status_code == 204
    assert response.headers["Cache-Control"] == "no-store"

    home = client.get("/home")
    assert home.status_code == 302 and "/login" in home.headers["Location"]
    assert client.get("/", follow_redirects=True).request.path == "/login"  # typing the address again
    assert other_device.get("/home").status_code == 302  # the partner's device shows nothing either
    client.set_cookie("sg_session", copied)  # a copy of the old cookie does not bring it back
    assert client.get("/home").status_code == 302


def test_quick_exit_needs_the_csrf_token(client, auth, factory):
    """Another site cannot end someone's sessions (and SameSite keeps the cookie from its requests anyway)."""
    factory.user("alice")
    auth.login("alice")
    assert beacon(client, None).status_code == 400
    assert beacon(client, "not-the-token").status_code == 400
    assert client.get(QUICK_EXIT).status_code == 405
    assert client.get("/home").status_code == 200


def test_quick_exit_deletes_the_session_and_remember_cookies(client, auth, factory):
    factory.user("alice")
    auth.login("alice", remember="y")
    assert client.get_cookie("remember_token") is not None
    assert beacon(client, csrf_token(client, "/home")).status_code == 204
    assert client.get_cookie("remember_token") is None
    assert client.get_cookie("sg_session") is None
    assert client.get("/home").status_code == 302


def test_quick_exit_disconnects_every_socket_of_the_account(app, factory, login_client):
    scene = factory.scene()
    here, elsewhere = login_client("alice"), login_client("alice")
    sockets = [socket_test_client(app, here), socket_test_client(app, elsewhere)]
    for sio in sockets:
        join(sio, scene.meeting)
    assert beacon(here, csrf_token(here, "/home")).status_code == 204
    assert [sio.is_connected() for sio in sockets] == [False, False]


def test_quick_exit_without_a_session_is_harmless(client, factory):
    """A second beacon, or one after an idle logout, just answers: nothing to end."""
    assert beacon(client, csrf_token(client, "/login")).status_code == 204
    assert client.get("/home").status_code == 302


def test_personal_pages_are_never_stored(client, auth, factory):
    """Back or the address bar must not bring a personal page back from the browser's cache."""
    scene = factory.scene()
    auth.login("alice")
    for path in ("/home", f"/meetings/{scene.meeting.id}", "/account/settings", "/schedule/mine"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path
