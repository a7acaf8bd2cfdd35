"""A person's own data: download it as JSON, or erase the account."""

import json

import pytest

from supportgroup.audit import record as record_action
from supportgroup.auth.data import actor_pseudonym
from supportgroup.models import (
    Attendance,
    Membership,
    MembershipStatus,
    Message,
    ModerationAction,
    PeerExpertProfile,
    Report,
    User,
)
from tests.chat_helpers import join
from tests.conftest import DEFAULT_PASSWORD, csrf_token


def _say(db, meeting, membership, text, client_id, **extra):
    meeting.last_message_seq += 1
    message = Message(
        meeting_id=meeting.id,
        seq=meeting.last_message_seq,
        author_membership_id=membership.id,
        client_id=client_id,
        text=text,
        **extra,
    )
    db.session.add(message)
    db.session.commit()
    return message


@pytest.fixture
def scene(factory, db):
    scene = factory.scene()
    alice, bob = scene.memberships["alice"], scene.memberships["bob"]
    expert = db.session.query(Membership).filter_by(user_id=scene.expert.id).one()
    scene.expert_membership = expert
    _say(db, scene.meeting, alice, "alice says hello", "a-1")
    _say(db, scene.meeting, alice, "alice was held", "a-2", status="pending", held_reason="premoderation")
    _say(db, scene.meeting, bob, "bob answers", "b-1")
    _say(db, scene.meeting, expert, "expert welcomes", "e-1", kind="announcement")
    # A second group, where alice has another alias.
    other = factory.group("Evening group")
    scene.alice_other = factory.member(other, scene.alice)
    return scene


def _erase(client, password=DEFAULT_PASSWORD, confirm=True):
    token = csrf_token(client, "/account/erase")
    form = {"csrf_token": token, "password": password}
    if confirm:
        form["confirm"] = "y"
    return client.post("/account/erase", data=form)


def test_export_holds_exactly_their_own_data(scene, login_client):
    client = login_client("alice")
    response = client.get("/account/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "application/json"
    data = json.loads(response.get_data(as_text=True))

    assert data["account"]["username"] == "alice" and data["account"]["role"] == "participant"
    assert set(data["account"]) == {
        "username",
        "role",
        "created_at",
        "last_active_at",
        "timezone",
        "locale",
        "calendar_alarm_minutes",
    }
    aliases = {m["alias"] for m in data["memberships"]}
    assert aliases == {scene.memberships["alice"].alias, scene.alice_other.alias}
    assert {m["group"] for m in data["memberships"]} == {"Test group", "Evening group"}
    assert [m["text"] for m in data["messages"]] == ["alice says hello", "alice was held"]
    assert {m["kind"] for m in data["messages"]} == {"chat"}
    assert all(m["meeting"] == "Test meeting" and m["sent_at"] for m in data["messages"])

    body = response.get_data(as_text=True)
    for foreign in ("bob answers", "expert welcomes", scene.memberships["bob"].alias, "Sam", "bob", "expert"):
        assert foreign not in body
    assert "password" not in body and "session_token" not in body


def test_export_needs_login(client):
    response = client.get("/account/export")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_erase_page_has_the_form(login_client, scene):
    client = login_client("alice")
    html = client.get("/account/erase").get_data(as_text=True)
    for name in ('name="csrf_token"', 'name="password"', 'name="confirm"'):
        assert name in html


def test_erase_with_a_wrong_password_changes_nothing(scene, login_client, db):
    client = login_client("alice")
    before = (db.session.query(User).count(), db.session.query(Membership).count(), db.session.query(Message).count())
    response = _erase(client, password="not my password at all")
    assert response.status_code == 400
    assert "not correct" in response.get_data(as_text=True)
    db.session.expire_all()
    after = (db.session.query(User).count(), db.session.query(Membership).count(), db.session.query(Message).count())
    assert before == after
    assert client.get("/home").status_code == 200  # still logged in


def test_erase_without_the_confirmation_changes_nothing(scene, login_client, db):
    client = login_client("alice")
    response = _erase(client, confirm=False)
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.query(User).filter_by(username="alice").count() == 1


def test_erase_without_csrf_is_refused(scene, login_client, db):
    client = login_client("alice")
    response = client.post("/account/erase", data={"password": DEFAULT_PASSWORD, "confirm": "y"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.query(User).filter_by(username="alice").count() == 1


def test_erase_removes_the_account_memberships_and_messages(scene, login_client, db):
    alice_id = scene.alice.id
    alias = scene.memberships["alice"].alias
    bob_membership = scene.memberships["bob"]
    db.session.add(Attendance(meeting_id=scene.meeting.id, membership_id=scene.memberships["alice"].id))
    db.session.add(
        Report(
            meeting_id=scene.meeting.id,
            reporter_membership_id=scene.memberships["alice"].id,
            message_id=db.session.query(Message).filter_by(text="bob answers").one().id,
        )
    )
    db.session.commit()
    client = login_client("alice")

    response = _erase(client)
    assert response.status_code == 302 and response.headers["Location"] == "/account/erased"
    page = client.get("/account/erased")
    assert page.status_code == 200 and "deleted" in page.get_data(as_text=True)

    db.session.expire_all()
    assert db.session.get(User, alice_id) is None
    assert db.session.query(Membership).filter_by(user_id=alice_id).count() == 0
    assert db.session.query(Membership).filter_by(alias=alias).count() == 0
    texts = {m.text for m in db.session.query(Message)}
    assert texts == {"bob answers", "expert welcomes"}
    assert db.session.query(Attendance).count() == 0 and db.session.query(Report).count() == 0
    assert db.session.get(Membership, bob_membership.id) is not None
    # Logged out: the old session is gone.
    assert client.get("/home").status_code == 302


def test_erasing_frees_a_place_for_the_waitlist(factory, db, login_client):
    group = factory.group(capacity=1)
    first = factory.member(group, factory.user("first"))
    second = factory.member(group, factory.user("second"))
    assert (first.status, second.status) == (MembershipStatus.ACTIVE, MembershipStatus.WAITLISTED)
    client = login_client("first")
    assert _erase(client).status_code == 302
    db.session.expire_all()
    assert db.session.get(Membership, second.id).status == MembershipStatus.ACTIVE


def test_a_peer_experts_audit_trail_survives_as_a_pseudonym(scene, login_client, db, app):
    expert = scene.expert
    expert_id, created_at = expert.id, expert.created_at
    record_action(
        expert,
        "mute",
        "membership",
        scene.memberships["bob"].public_id,
        group_id=scene.group.id,
        meeting_id=scene.meeting.id,
        reason="kept talking over others",
    )
    record_action(expert, "delete_message", "message", 3, group_id=scene.group.id, meeting_id=scene.meeting.id)
    record_action(scene.coordinator, "lookup_alias", "membership", 1, group_id=scene.group.id)
    db.session.commit()

    client = login_client("expert")
    assert _erase(client).status_code == 302

    db.session.expire_all()
    assert db.session.get(User, expert_id) is None
    assert db.session.query(PeerExpertProfile).count() == 0
    entries = db.session.query(ModerationAction).order_by(ModerationAction.id).all()
    assert [e.action for e in entries] == ["mute", "delete_message", "lookup_alias"]
    pseudonym = actor_pseudonym(expert_id, created_at)
    for entry in entries[:2]:
        assert entry.actor_user_id is None and entry.actor_pseudonym == pseudonym
        assert entry.group_id == scene.group.id
    assert entries[0].reason == "kept talking over others"
    assert len(pseudonym) == 32 and int(pseudonym, 16) >= 0  # an opaque keyed hash
    assert pseudonym != actor_pseudonym(expert_id + 1, created_at)
    # Someone else's entries keep their actor.
    assert entries[2].actor_user_id == scene.coordinator.id and entries[2].actor_pseudonym is None


def test_the_username_can_be_registered_again(scene, login_client, client, db):
    assert _erase(login_client("alice")).status_code == 302
    token = csrf_token(client, "/register")
    response = client.post(
        "/register",
        data={
            "csrf_token": token,
            "username": "alice",
            "password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 200 and 'id="codes-saved"' in response.get_data(as_text=True)
    db.session.expire_all()
    user = db.session.query(User).filter_by(username="alice").one()
    assert db.session.query(Membership).filter_by(user_id=user.id).count() == 0
    data = json.loads(client.get("/account/export").get_data(as_text=True))
    assert data["memberships"] == [] and data["messages"] == []


def test_erasure_disconnects_their_sockets(scene, socket_client, db, app):
    sio = socket_client("alice")
    assert sio.is_connected()
    # The socket's own HTTP client erases the account.
    response = _erase(sio.flask_test_client)
    assert response.status_code == 302
    assert not sio.is_connected()


def test_erase_is_rate_limited(scene, login_client, app):
    client = login_client("alice")
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0].split("/")[0])
    codes = [_erase(client, password=f"wrong password {n}").status_code for n in range(limit + 1)]
    assert codes[-1] == 429


def test_erasing_while_in_a_meeting_leaves_it_cleanly(factory, socket_client, db, caplog):
    from tests.chat_helpers import present_scene, received

    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    scene.expert_socket.get_received()
    assert _erase(alice.flask_test_client).status_code == 302
    assert not alice.is_connected()
    presence = received(scene.expert_socket, "presence")
    assert presence and [p["role"] for p in presence[-1]["present"]] == ["peer_expert"]
    assert "Traceback" not in caplog.text
