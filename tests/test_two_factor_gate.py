"""A session that passed the password but not the code reaches nothing of a staff account: every endpoint of the
app (walked from `app.url_map`, none skipped silently) and the socket connect."""

from __future__ import annotations

import pytest

from supportgroup.auth.two_factor_gate import EXEMPT
from supportgroup.models import Group, Meeting, MeetingState, Role
from tests.conftest import csrf_token, socket_test_client
from tests.two_factor_helpers import (
    ON,
    SECOND_STEP,
    SETUP,
    enrol,
    give_code,
    location,
    next_code,
    password_step,
    totp_clock,  # noqa: F401  (autouse)
)

# Endpoints open between password and code, each for its reason. A new page is gated without doing anything; a new
# exemption must be added to the gate's EXEMPT and here, with its reason.
EXPECTED_EXEMPT = {
    "two_factor.verify": "the second step itself",
    "two_factor.setup": "enrolment, for an account that has no second factor yet",
    "auth.logout": "leaving",
    "auth.quick_exit": "leaving at once",
    "auth.login": "sends a logged-in session on (to the gate)",
    "static": "CSS, scripts, the icon",
    "health.healthz": "the load balancer's check",
    "health.readyz": "the load balancer's check",
}
# Never reached through Flask: Engine.IO answers /socket.io/ first; the connect handler is tested below.
SOCKET_PATHS = {"socketio_path_http", "socketio_path_ws"}


@pytest.fixture
def app_overrides():
    return ON


def _arguments(scene) -> dict[str, object]:
    """A value for every URL argument the app's rules name, from the scene (ids of rows the scene lacks do not
    matter: the gate answers before any route loads anything; the control walk shows each page's own answer)."""
    return {
        "group_id": scene.group.id,
        "meeting_id": scene.meeting.id,
        "membership_id": scene.memberships["alice"].id,
        "user_id": scene.expert.id,
        "conflict_id": 1,
        "invite_id": 1,
        "organisation_id": 1,
        "locale": "nl",
        "name": "quick_exit_url",
        "incident_id": 1,
        "code": "some-invite-code",
        "token": "some-feed-token",
        "filename": "css/app.css",
    }


def _walk(app, scene):
    """Every (endpoint, url, method) of the app: GET where a rule takes it, else its one write method."""
    values = _arguments(scene)
    seen = []
    for rule in app.url_map.iter_rules():
        missing = rule.arguments - values.keys()
        assert not missing, f"{rule.endpoint}: give the walk a value for {missing}"
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
        seen.append((rule.endpoint, url, method))
    return seen


def test_the_exemptions_are_the_listed_ones():
    assert set(EXEMPT) == set(EXPECTED_EXEMPT)


def test_every_route_sends_a_session_without_its_code_to_the_second_step(app, factory, db):
    scene = factory.scene()
    enrol(scene.coordinator)
    http = app.test_client()
    assert location(password_step(http, "coord")) == SECOND_STEP
    token = csrf_token(http, SECOND_STEP)
    walked = _walk(app, scene)
    gated = [(e, url, m) for e, url, m in walked if e not in EXPECTED_EXEMPT and e not in SOCKET_PATHS]
    assert len(gated) >= 60  # the app's pages and actions, not a handful
    for endpoint, url, method in gated:
        if method == "GET":
            response = http.get(url)
        else:
            response = http.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302 and location(response) == SECOND_STEP, (endpoint, url, response.status_code)
    # Nothing was done by the writes the walk sent (archive, close, cancel, leave ...).
    db.session.expire_all()
    assert db.session.get(Group, scene.group.id).archived_at is None
    assert db.session.get(Meeting, scene.meeting.id).state == MeetingState.OPEN
    # A page that does not exist is no way round either.
    assert location(http.get("/no/such/page")) == SECOND_STEP
    # The control: after the code, the same pages answer for themselves (the gate was what stopped them).
    assert give_code(http, next_code(scene.coordinator)).status_code == 302
    answered = {}
    for endpoint, url, method in gated:
        if method == "GET":
            # buffered: a streamed download (the audit log's CSV) runs to its end inside the request
            answered[endpoint] = http.get(url, buffered=True)
    assert all(location(r) not in (SECOND_STEP, SETUP) for r in answered.values())
    assert answered["groups.index"].status_code == 200 and answered["admin.index"].status_code == 200


def test_a_coordinator_without_a_second_factor_is_sent_to_enrolment_from_everywhere(app, factory, db):
    scene = factory.scene()
    http = app.test_client()
    assert location(password_step(http, "coord")) == SETUP
    for endpoint, url, method in _walk(app, scene):
        if method == "GET" and endpoint not in EXPECTED_EXEMPT and endpoint not in SOCKET_PATHS:
            assert location(http.get(url)) == SETUP, endpoint


def test_the_socket_is_refused_until_the_code(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    http = app.test_client()
    password_step(http, "coord")
    refused = socket_test_client(app, http)
    assert not refused.is_connected()
    assert give_code(http, next_code(coordinator)).status_code == 302
    accepted = socket_test_client(app, http)
    assert accepted.is_connected()
    accepted.disconnect()


def test_a_socket_of_a_session_restored_from_the_remember_cookie_is_refused(app, factory, db):
    coordinator = factory.user("coord", Role.COORDINATOR)
    enrol(coordinator)
    http = app.test_client()
    password_step(http, "coord", remember="y")
    give_code(http, next_code(coordinator))
    http.delete_cookie("sg_session")
    assert location(http.get("/home")) == SECOND_STEP  # logged in again from the cookie, the code still owed
    assert not socket_test_client(app, http).is_connected()


def test_participants_and_peer_experts_without_a_second_factor_connect_as_before(app, factory, db):
    factory.user("alice")
    factory.user("expert", Role.PEER_EXPERT)
    for name in ("alice", "expert"):
        http = app.test_client()
        password_step(http, name)
        sock = socket_test_client(app, http)
        assert sock.is_connected(), name
        sock.disconnect()
