"""The operators' account commands (issue #15): `flask reset-password` prints a one-time code; `set-role`,
`disable-user` and `enable-user` take `--reason`; every one is audited as the CLI (no actor)."""

from __future__ import annotations

import re

from supportgroup.audit import AuditAction
from supportgroup.auth import accounts, codes
from supportgroup.extensions import db
from supportgroup.models import CodeKind, Role
from tests.account_helpers import audit_rows, reload


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
    first = re.search(r": (\S+)\n", runner.invoke(args=["reset-password", "alice"]).output).group(1)
    second = re.search(r": (\S+)\n", runner.invoke(args=["reset-password", "alice"]).output).group(1)
    assert not codes.spend(alice, CodeKind.RESET, first) and codes.spend(alice, CodeKind.RESET, second)
    assert [row.reason for row in audit_rows(AuditAction.ISSUE_RESET_CODE, alice.id)] == ["CLI", "CLI"]


def test_reset_password_refuses_cleanly(runner, factory):
    admin = factory.user("root", Role.ADMIN)
    accounts.create_staff(admin, "newcomer", Role.COORDINATOR, None)
    db.session.commit()
    for args, message in (
        (["reset-password", "nobody"], "There is no account with this username."),
        (["reset-password", "newcomer"], "Make a new activation link instead."),
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
    assert runner.invoke(args=["enable-user", "sam"]).exit_code == 0
    rows = [
        *audit_rows(AuditAction.SET_ROLE, sam.id),
        *audit_rows(AuditAction.DISABLE_USER, sam.id),
        *audit_rows(AuditAction.ENABLE_USER, sam.id),
    ]
    assert [(r.actor_user_id, r.reason) for r in rows] == [
        (None, "coordinator -> peer_expert: joins the pool"),
        (None, "on leave"),
        (None, "CLI"),
    ]


def test_set_role_to_peer_expert_without_a_first_name_is_refused(runner, factory):
    factory.user("sam", Role.COORDINATOR)
    result = runner.invoke(args=["set-role", "sam", "peer_expert"])
    assert result.exit_code == 1 and "needs a first name" in result.output
    assert audit_rows(AuditAction.SET_ROLE) == []


def test_a_command_run_again_changes_nothing_and_says_so(runner, factory):
    factory.user("sam")
    result = runner.invoke(args=["enable-user", "sam"])
    assert result.exit_code == 0 and "The account is enabled already." in result.output
    result = runner.invoke(args=["set-role", "sam", "participant"])
    assert result.exit_code == 0 and "The account has this role already." in result.output
    assert "Disconnected sockets: 0." in result.output  # the rooms are checked again all the same
    assert audit_rows(AuditAction.ENABLE_USER) == audit_rows(AuditAction.SET_ROLE) == []
