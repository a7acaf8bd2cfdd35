"""Changes to an account in the admin console (issue #15): role, disable, enable, reset codes. Each needs a
reason, is audited with the actor and that reason, and takes away at once what the lost right carried: a
disabled account's sessions and sockets end, in this process and (last test) in another one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from supportgroup.audit import AuditAction
from supportgroup.auth import codes
from supportgroup.auth.last_active import stamp_today
from supportgroup.extensions import db
from supportgroup.models import CodeKind, Role, User
from supportgroup.models.types import utcnow
from tests.account_helpers import RESET_CODE_RE, account_action, audit_rows, post, reload
from tests.chat_helpers import open_room
from tests.conftest import DEFAULT_PASSWORD
from tests.live import wait_until


@pytest.fixture
def root(factory) -> User:
    return factory.user("root", Role.ADMIN)


@pytest.fixture
def admin(root, login_client):
    return login_client("root")


def errors_of(response) -> str:
    return response.get_data(as_text=True)


# --- role ----------------------------------------------------------------------------------------------


def test_a_role_change_needs_a_reason_and_is_audited_with_it(factory, root, admin):
    coordinator = factory.user("cora", Role.COORDINATOR)
    refused = account_action(admin, coordinator.id, "role", "role", role="admin", reason="   ")
    assert refused.status_code == 400 and "Please give a reason" in errors_of(refused)
    assert reload(coordinator).role == Role.COORDINATOR

    done = account_action(admin, coordinator.id, "role", "role", role="admin", reason="runs the platform now")
    assert done.status_code == 302
    assert reload(coordinator).role == Role.ADMIN
    [row] = audit_rows(AuditAction.SET_ROLE, coordinator.id)
    assert row.actor_user_id == root.id and row.actor_role == "admin"
    assert row.reason == "coordinator -> admin: runs the platform now"


def test_becoming_a_peer_expert_asks_the_first_name_their_groups_see(factory, admin):
    person = factory.user("sam", Role.COORDINATOR)
    refused = account_action(admin, person.id, "role", "role", role="peer_expert", reason="joins the pool")
    assert refused.status_code == 400 and "needs a first name" in errors_of(refused)
    done = account_action(admin, person.id, "role", "role", role="peer_expert", first_name="Sam", reason="joins")
    assert done.status_code == 302
    person = reload(person)
    assert person.role == Role.PEER_EXPERT and person.profile.first_name == "Sam" and not person.profile.trained


def test_a_demoted_peer_expert_leaves_the_moderators_rooms_at_once(factory, socket_client, admin, db):
    room = open_room(factory, socket_client)
    done = account_action(admin, room.expert.id, "role", "role", role="participant", reason="left the pool")
    assert done.status_code == 302
    assert not room.expert_socket.is_connected()
    assert room.alice_socket.is_connected()


def test_an_admin_cannot_demote_or_disable_themselves(root, admin):
    own = admin.get(f"/admin/accounts/{root.id}").get_data(as_text=True)
    assert "This is your own account" in own and 'id="disable"' not in own and 'id="role"' not in own
    demote = account_action(admin, root.id, "role", "role", role="coordinator", reason="oops")
    assert demote.status_code == 400 and "You cannot change your own role." in errors_of(demote)
    disable = account_action(admin, root.id, "disable", "disable", reason="oops")
    assert disable.status_code == 400 and "You cannot disable your own account." in errors_of(disable)
    root = reload(root)
    assert root.role == Role.ADMIN and root.is_enabled
    assert audit_rows(AuditAction.SET_ROLE) == audit_rows(AuditAction.DISABLE_USER) == []


# --- disable and enable ---------------------------------------------------------------------------------


def test_disabling_ends_every_session_and_socket_and_enabling_lets_in_again(
    factory, socket_client, login_client, root, admin, auth
):
    room = open_room(factory, socket_client)
    idle = socket_client("alice")  # connected, in no meeting: only its user room
    alice_web = login_client("alice")
    refused = account_action(admin, room.alice.id, "disable", "disable", reason="")
    assert refused.status_code == 400 and room.alice_socket.is_connected()

    done = account_action(admin, room.alice.id, "disable", "disable", reason="asked us to close it for now")
    assert done.status_code == 302
    assert not room.alice_socket.is_connected() and not idle.is_connected()
    assert room.bob_socket.is_connected() and room.expert_socket.is_connected()
    assert alice_web.get("/home").status_code == 302  # the session ended: to the login page
    assert auth.login("alice").status_code != 302
    [row] = audit_rows(AuditAction.DISABLE_USER, room.alice.id)
    assert (row.actor_user_id, row.reason) == (root.id, "asked us to close it for now")
    page = admin.get(f"/admin/accounts/{room.alice.id}").get_data(as_text=True)
    assert 'id="enable"' in page and 'id="disable"' not in page

    again = account_action(admin, room.alice.id, "enable", "enable", reason="came back")
    assert again.status_code == 302 and reload(room.alice).is_enabled
    [row] = audit_rows(AuditAction.ENABLE_USER, room.alice.id)
    assert (row.actor_user_id, row.reason) == (root.id, "came back")
    assert auth.login("alice").status_code == 302


def test_the_last_enabled_admin_cannot_be_removed_by_the_command_line(root, runner):
    for args in (["disable-user", "root", "--reason", "x"], ["set-role", "root", "coordinator", "--reason", "x"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and "last administrator" in result.output
    root = reload(root)
    assert root.is_enabled and root.role == Role.ADMIN


def test_one_admin_may_disable_another(factory, root, admin):
    other = factory.user("second", Role.ADMIN)
    assert account_action(admin, other.id, "disable", "disable", reason="left the job").status_code == 302
    assert not reload(other).is_enabled


# --- reset codes ----------------------------------------------------------------------------------------


def issued_code(response) -> str:
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return RESET_CODE_RE.search(response.get_data(as_text=True)).group(1)


def test_an_admin_gives_any_account_a_reset_code_once_for_24_hours(factory, root, admin):
    coordinator = factory.user("cora", Role.COORDINATOR)
    refused = account_action(admin, coordinator.id, "reset-code", "reset", reason="")
    assert refused.status_code == 400
    code = issued_code(account_action(admin, coordinator.id, "reset-code", "reset", reason="phoned: forgot it"))
    [row] = audit_rows(AuditAction.ISSUE_RESET_CODE, coordinator.id)
    assert (row.actor_user_id, row.reason) == (root.id, "phoned: forgot it")
    assert codes.normalise(code) not in row.reason
    later = utcnow() + timedelta(hours=24, seconds=1)
    assert not codes.spend(coordinator, CodeKind.RESET, code, now=later)  # expired
    assert not codes.spend(coordinator, CodeKind.RESET, "0000-0000-0000")  # wrong
    assert codes.spend(coordinator, CodeKind.RESET, code)
    assert not codes.spend(coordinator, CodeKind.RESET, code)  # used


def test_a_coordinator_gives_a_participant_a_reset_code(factory, login_client):
    scene = factory.scene()
    coordinator = login_client("coord")
    response = post(coordinator, "/admin/reset-code", "/admin/reset-code", {"username": "Alice", "reason": "phoned"})
    code = issued_code(response)
    assert "Back to the administration" in response.get_data(as_text=True)
    assert codes.spend(scene.alice, CodeKind.RESET, code)
    [row] = audit_rows(AuditAction.ISSUE_RESET_CODE, scene.alice.id)
    assert (row.actor_user_id, row.actor_role, row.reason) == (scene.coordinator.id, "coordinator", "phoned")


@pytest.mark.parametrize("target", ["expert", "root", "coord2"])
def test_a_coordinator_cannot_give_staff_a_reset_code(factory, login_client, root, target):
    factory.scene()
    factory.user("coord2", Role.COORDINATOR)
    coordinator = login_client("coord")
    response = post(coordinator, "/admin/reset-code", "/admin/reset-code", {"username": target, "reason": "please"})
    assert response.status_code == 400
    assert "Coordinators can give reset codes to participants only." in response.get_data(as_text=True)
    assert audit_rows(AuditAction.ISSUE_RESET_CODE) == []
    user = db.session.scalar(select(User).where(User.username == target))
    assert codes.remaining(user, CodeKind.RESET) == 0


def test_the_reset_code_page_refuses_an_unknown_name_and_participants(factory, login_client):
    factory.scene()
    coordinator = login_client("coord")
    response = post(coordinator, "/admin/reset-code", "/admin/reset-code", {"username": "nobody", "reason": "x"})
    assert response.status_code == 400 and "There is no account with this username." in response.get_data(as_text=True)
    for name in ("alice", "expert"):
        assert login_client(name).get("/admin/reset-code").status_code == 403


def test_an_account_awaiting_activation_gets_a_new_link_not_a_reset_code(factory, root, admin):
    from supportgroup.auth import accounts

    newcomer = accounts.create_staff(root, "newcomer", Role.COORDINATOR, None)
    db.session.commit()
    refused = account_action(admin, newcomer.id, "reset-code", "reset", reason="forgot")
    assert refused.status_code == 400 and "Make a new activation link instead." in errors_of(refused)
    link = account_action(admin, newcomer.id, "activation-link", "activation", reason="lost the first one")
    assert link.status_code == 200 and "/activate/" in link.get_data(as_text=True)
    [row] = audit_rows(AuditAction.ISSUE_ACTIVATION, newcomer.id)
    assert (row.actor_user_id, row.reason) == (root.id, "lost the first one")


# --- last active ----------------------------------------------------------------------------------------


def test_last_active_is_stamped_at_login_and_at_most_once_a_day(factory, app, login_client):
    alice = factory.user("alice")
    assert alice.last_active_at is None
    http = login_client("alice")
    stamped = reload(alice).last_active_at
    assert stamped is not None and utcnow() - stamped < timedelta(minutes=1)
    http.get("/home")
    assert reload(alice).last_active_at == stamped  # the same day: no write
    with app.test_request_context():
        from flask_login import login_user

        login_user(reload(alice))
        assert not stamp_today(now=stamped + timedelta(minutes=5))
        tomorrow = stamped + timedelta(days=1)
        assert stamp_today(now=tomorrow)
        assert not stamp_today(now=tomorrow + timedelta(hours=1))
    assert reload(alice).last_active_at == tomorrow


# --- two processes --------------------------------------------------------------------------------------


@pytest.mark.live
@pytest.mark.scaleout_only
def test_disabling_in_the_console_ends_a_socket_held_by_the_other_process(factory, live_servers, sockets):
    import re

    from tests.test_scaleout import connect

    scene = factory.scene()
    factory.user("root", Role.ADMIN)
    first, second = live_servers(), live_servers()
    joined = connect(second, "expert", sockets)
    idle = connect(second, "expert", sockets)
    assert joined.call("join", {"meeting_id": scene.meeting.id})["ok"]
    admin = first.login("root", DEFAULT_PASSWORD)
    page = f"{first.url}/admin/accounts/{scene.expert.id}"
    token = re.search(r'name="disable-csrf_token"[^>]*value="([^"]+)"', admin.get(page).text).group(1)
    response = admin.post(
        f"{page}/disable",
        data={"disable-csrf_token": token, "disable-reason": "left the pool"},
        allow_redirects=False,
    )
    assert response.status_code == 302
    wait_until(lambda: not joined.client.connected and not idle.client.connected, 5.0, what="both sockets ending")
    assert reload(scene.expert).is_enabled is False
    [row] = audit_rows(AuditAction.DISABLE_USER, scene.expert.id)
    assert row.reason == "left the pool"
