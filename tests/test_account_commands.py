"""The operators' account commands (issue #15): `flask reset-password` prints a one-time code; `set-role`,
`disable-user`, `enable-user` and `reset-two-factor` need `--reason`; every one is audited as the CLI (no actor),
`create-user` too."""

from __future__ import annotations

import re

import pytest

from supportgroup.audit import AuditAction
from supportgroup.auth import accounts, codes
from supportgroup.extensions import db
from supportgroup.models import CodeKind, Role
from tests.account_helpers import audit_rows, reload
from tests.conftest import socket_test_client
from tests.two_factor_helpers import ON, SETUP, enrol, location, password_step, signed_in
from tests.two_factor_helpers import totp_clock as totp_clock  # autouse


@pytest.fixture
def app_overrides(request) -> dict:
    return getattr(request, "param", {})


def test_reset_password_prints_a_one_time_code_and_its_expiry(runner, factory):
    alice = factory.user("alice")
    result = runner.invoke(args=["reset-password", "Alice", "--reason", "phoned the helpdesk"])
    assert result.exit_code == 0, result.output
    code = re.search(r"Reset code for 'alice': ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", result.output).group(1)
    assert re.search(r"Valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC, once", result.output)
    [row] = audit_rows(AuditAction.ISSUE_RESET_CODE, alice.id)
    assert (row.actor_user_id, row.actor_role, row.reason) == (None, None, "phoned the helpdesk")
    assert codes.spend(alice, CodeKind.RESET, code) and not codes.spend(alice, CodeKind.RESET, code)


def test_a_second_reset_code_voids_the_first(runner, factory):
    alice = factory.user("alice")
    args = ["reset-password", "alice", "--reason", "phoned"]
    first = re.search(r": (\S+)\n", runner.invoke(args=args).output).group(1)
    second = re.search(r": (\S+)\n", runner.invoke(args=[*args[:-1], "phoned again"]).output).group(1)
    assert not codes.spend(alice, CodeKind.RESET, first) and codes.spend(alice, CodeKind.RESET, second)
    assert [row.reason for row in audit_rows(AuditAction.ISSUE_RESET_CODE, alice.id)] == ["phoned", "phoned again"]


def test_reset_password_refuses_cleanly(runner, factory):
    admin = factory.user("root", Role.ADMIN)
    accounts.create_staff(admin, "newcomer", Role.COORDINATOR, None)
    db.session.commit()
    for args, message in (
        (["reset-password", "nobody", "--reason", "phoned"], "There is no account with this username."),
        (["reset-password", "newcomer", "--reason", "phoned"], "Make a new activation link instead."),
        (["reset-password", "root", "--reason", " "], "Please give a reason"),
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output
    assert audit_rows(AuditAction.ISSUE_RESET_CODE) == []


def test_set_role_disable_and_enable_are_audited_with_the_reason(runner, factory):
    factory.user("root", Role.ADMIN)
    sam = factory.user("sam", Role.COORDINATOR)
    result = runner.invoke(args=["set-role", "sam", "peer_expert", "--first-name", "Sam", "--reason", "joins the pool"])
    assert result.exit_code == 0, result.output
    assert reload(sam).role == Role.PEER_EXPERT and reload(sam).profile.first_name == "Sam"
    assert runner.invoke(args=["disable-user", "sam", "--reason", "on leave"]).exit_code == 0
    assert runner.invoke(args=["enable-user", "sam", "--reason", "back"]).exit_code == 0
    rows = [
        *audit_rows(AuditAction.SET_ROLE, sam.id),
        *audit_rows(AuditAction.DISABLE_USER, sam.id),
        *audit_rows(AuditAction.ENABLE_USER, sam.id),
    ]
    assert [(r.actor_user_id, r.reason) for r in rows] == [
        (None, "coordinator -> peer_expert: joins the pool"),
        (None, "on leave"),
        (None, "back"),
    ]


def test_set_role_to_peer_expert_without_a_first_name_is_refused(runner, factory):
    factory.user("sam", Role.COORDINATOR)
    result = runner.invoke(args=["set-role", "sam", "peer_expert", "--reason", "joins the pool"])
    assert result.exit_code == 1 and "needs a first name" in result.output
    assert audit_rows(AuditAction.SET_ROLE) == []


def test_a_command_run_again_changes_nothing_and_says_so(runner, factory):
    factory.user("sam")
    result = runner.invoke(args=["enable-user", "sam", "--reason", "back"])
    assert result.exit_code == 0 and "The account is enabled already." in result.output
    result = runner.invoke(args=["set-role", "sam", "participant", "--reason", "again"])
    assert result.exit_code == 0 and "The account has this role already." in result.output
    assert "Disconnected sockets: 0." in result.output  # the rooms are checked again all the same
    assert audit_rows(AuditAction.ENABLE_USER) == audit_rows(AuditAction.SET_ROLE) == []


def test_every_account_command_needs_a_reason(runner, factory):
    factory.user("root", Role.ADMIN)
    sam = factory.user("sam", Role.COORDINATOR)
    for args in (
        ["set-role", "sam", "participant"],
        ["disable-user", "sam"],
        ["enable-user", "sam"],
        ["reset-password", "sam"],
        ["reset-two-factor", "sam"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code == 2 and "Missing option '--reason'" in result.output, args
    assert reload(sam).role == Role.COORDINATOR and reload(sam).is_enabled
    assert audit_rows(AuditAction.SET_ROLE) == audit_rows(AuditAction.DISABLE_USER) == []
    assert audit_rows(AuditAction.ISSUE_RESET_CODE) == []


def test_create_user_is_audited_as_the_cli(runner):
    password = "a long enough password"
    result = runner.invoke(args=["create-user", "Noor", "--role", "coordinator", "--password", password])
    assert result.exit_code == 0, result.output
    [row] = audit_rows(AuditAction.CREATE_ACCOUNT)
    assert (row.actor_user_id, row.actor_role, row.target_type, row.reason) == (None, None, "user", "coordinator")
    assert password not in (row.reason or "")


@pytest.mark.parametrize("app_overrides", [ON], indirect=True)
def test_reset_two_factor_helps_a_lone_admin_who_lost_phone_and_backup_codes(app, runner, factory):
    root = factory.user("root", Role.ADMIN)
    enrol(root)
    http = signed_in(app, root, "root")
    socket = socket_test_client(app, http)
    assert socket.is_connected()
    result = runner.invoke(args=["reset-two-factor", "ROOT", "--reason", "lost phone and codes; known by voice"])
    assert result.exit_code == 0, result.output
    assert "Two-factor sign-in of 'root' is reset" in result.output
    root = reload(root)
    assert root.totp_secret is None and codes.remaining(root, CodeKind.BACKUP) == 0
    [row] = audit_rows(AuditAction.RESET_TWO_FACTOR, root.id)
    assert (row.actor_user_id, row.reason) == (None, "lost phone and codes; known by voice")
    assert not socket.is_connected() and location(http.get("/home")).startswith("/login")
    assert location(password_step(app.test_client(), "root")) == SETUP  # sets it up again
    again = runner.invoke(args=["reset-two-factor", "root", "--reason", "twice"])
    assert again.exit_code == 1 and "no second factor to reset" in again.output
