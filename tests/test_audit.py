"""The one audit log (`supportgroup/audit.py`): every write a coordinator or peer expert makes, and every read
that links a person to an alias or an incident, is one row with the action and ids, never the content."""

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from supportgroup.audit import AuditAction, record
from supportgroup.models import Group, Invite, Meeting, MeetingSeries, MeetingState, Membership, ModerationAction, Role
from tests import scheduling_helpers
from tests.chat_helpers import mod, open_room, send
from tests.conftest import csrf_token
from tests.scheduling_helpers import next_year, soon

SECRET = "a detail nobody may read in the audit log"


def post_form(http, page, action, data=None):
    return http.post(action, data={"csrf_token": csrf_token(http, page), **(data or {})})


def rows(db, action: AuditAction) -> list[ModerationAction]:
    db.session.expire_all()
    return db.session.query(ModerationAction).filter_by(action=action).order_by(ModerationAction.id).all()


def the_row(db, action: AuditAction, actor, target_type: str, target_id) -> ModerationAction:
    """The one row of `action`, by `actor`, on that target, with no content in it."""
    found = rows(db, action)
    assert len(found) == 1, (action, [(r.action, r.target_id) for r in found])
    row = found[0]
    assert (row.actor_user_id, row.target_type, row.target_id) == (actor.id, target_type, str(target_id))
    assert SECRET not in repr([row.reason, row.target_id, row.target_type])
    return row


@pytest.fixture
def coordinator_user(factory):
    return factory.user("planner", Role.COORDINATOR)


@pytest.fixture
def coordinator(coordinator_user, login_client):
    return login_client("planner")


# --- groups -------------------------------------------------------------------------------------------


def test_creating_editing_and_archiving_a_group_is_audited(coordinator, coordinator_user, db):
    response = post_form(
        coordinator,
        "/groups/new",
        "/groups/new",
        {
            "name": "Thursday",
            "kind": "survivors",
            "language": "en",
            "capacity": "8",
            "description": SECRET,
            "house_rules": SECRET,
        },
    )
    assert response.status_code == 302
    group = db.session.query(Group).one()
    assert the_row(db, AuditAction.CREATE_GROUP, coordinator_user, "group", group.id).group_id == group.id

    page = f"/groups/{group.id}/edit"
    response = post_form(
        coordinator,
        page,
        page,
        {
            "name": "Thursday",
            "kind": "survivors",
            "language": "en",
            "capacity": "9",
            "retention_days": "30",
            "description": SECRET,
        },
    )
    assert response.status_code == 302
    the_row(db, AuditAction.EDIT_GROUP, coordinator_user, "group", group.id)

    assert post_form(coordinator, f"/groups/{group.id}", f"/groups/{group.id}/archive").status_code == 302
    the_row(db, AuditAction.ARCHIVE_GROUP, coordinator_user, "group", group.id)


# --- memberships --------------------------------------------------------------------------------------


def test_adding_members_and_moderators_is_audited(coordinator, coordinator_user, factory, db):
    group = factory.group()
    factory.user("alice")
    factory.user("expert", Role.PEER_EXPERT)
    page = f"/groups/{group.id}"
    assert (
        post_form(
            coordinator, page, f"{page}/members", {"member-username": "alice", "member-organisation": "0"}
        ).status_code
        == 302
    )
    assert post_form(coordinator, page, f"{page}/moderators", {"moderator-username": "expert"}).status_code == 302
    alice = db.session.query(Membership).join(Membership.user).filter_by(username="alice").one()
    expert = db.session.query(Membership).join(Membership.user).filter_by(username="expert").one()
    assert the_row(db, AuditAction.ADD_MEMBER, coordinator_user, "membership", alice.id).group_id == group.id
    assert the_row(db, AuditAction.ASSIGN_MODERATOR, coordinator_user, "membership", expert.id).group_id == group.id


@pytest.mark.parametrize(
    "verb,action", [("approve", AuditAction.APPROVE_REQUEST), ("decline", AuditAction.DECLINE_REQUEST)]
)
def test_answering_a_request_is_audited(coordinator, coordinator_user, factory, login_client, db, verb, action):
    group = factory.group()
    group.open_for_requests = True
    db.session.commit()
    factory.user("alice")
    assert post_form(login_client("alice"), "/groups/directory", f"/groups/{group.id}/request").status_code == 302
    membership = db.session.query(Membership).one()
    page = f"/groups/{group.id}"
    assert post_form(coordinator, page, f"/groups/memberships/{membership.id}/{verb}").status_code == 302
    the_row(db, action, coordinator_user, "membership", membership.id)


@pytest.mark.parametrize("verb,action", [("remove", AuditAction.REMOVE_MEMBER), ("ban", AuditAction.BAN_MEMBER)])
def test_removing_and_banning_is_audited(coordinator, coordinator_user, factory, db, verb, action):
    group = factory.group()
    membership = factory.member(group, factory.user("alice"))
    page = f"/groups/{group.id}"
    response = post_form(coordinator, page, f"/groups/memberships/{membership.id}/{verb}", {"reason": "threats"})
    assert response.status_code == 302
    assert the_row(db, action, coordinator_user, "membership", membership.id).reason == "threats"


# --- invites --------------------------------------------------------------------------------------------


def test_making_and_revoking_an_invite_is_audited(coordinator, coordinator_user, factory, db):
    group = factory.group()
    page = f"/groups/{group.id}"
    assert post_form(coordinator, page, f"{page}/invites", {"invite-max_uses": "5"}).status_code == 302
    invite = db.session.query(Invite).one()
    assert the_row(db, AuditAction.CREATE_INVITE, coordinator_user, "invite", invite.id).group_id == group.id
    assert invite.code not in repr([r.reason for r in rows(db, AuditAction.CREATE_INVITE)])
    assert post_form(coordinator, page, f"/groups/invites/{invite.id}/revoke").status_code == 302
    the_row(db, AuditAction.REVOKE_INVITE, coordinator_user, "invite", invite.id)


# --- the pool, organisations, conflicts ----------------------------------------------------------------


def test_training_a_peer_expert_and_editing_profiles_is_audited(
    coordinator, coordinator_user, factory, login_client, db
):
    expert = factory.user("noor", Role.PEER_EXPERT, trained=False, first_name="Noor")
    page = f"/groups/pool/{expert.id}/edit"
    response = post_form(
        coordinator,
        page,
        page,
        {"first_name": "Noor", "story": SECRET, "trained": "y", "trained_on": date.today().isoformat()},
    )
    assert response.status_code == 302
    the_row(db, AuditAction.TRAIN_PEER_EXPERT, coordinator_user, "user", expert.id)
    the_row(db, AuditAction.EDIT_PROFILE, coordinator_user, "user", expert.id)

    response = post_form(coordinator, page, page, {"first_name": "Noor", "story": SECRET})
    assert response.status_code == 302
    the_row(db, AuditAction.UNTRAIN_PEER_EXPERT, coordinator_user, "user", expert.id)

    # A peer expert's own edit is a write too; they cannot change their training.
    response = post_form(login_client("noor"), page, page, {"first_name": "Noor", "story": SECRET})
    assert response.status_code == 302
    assert [r.actor_user_id for r in rows(db, AuditAction.EDIT_PROFILE)] == [coordinator_user.id] * 2 + [expert.id]


def test_organisations_and_conflicts_are_audited_without_the_note(coordinator, coordinator_user, factory, db):
    assert (
        post_form(coordinator, "/groups/organisations", "/groups/organisations", {"name": "Shelter"}).status_code == 302
    )
    assert len(rows(db, AuditAction.CREATE_ORGANISATION)) == 1
    first, second = factory.user("x_one"), factory.user("x_two")
    response = post_form(
        coordinator, "/groups/conflicts", "/groups/conflicts", {"first": "x_one", "second": "x_two", "note": SECRET}
    )
    assert response.status_code == 302
    low, high = sorted((first.id, second.id))
    the_row(db, AuditAction.RECORD_CONFLICT, coordinator_user, "conflict", f"{low}-{high}")


# --- meetings and series -------------------------------------------------------------------------------


def plan(http, group, **fields):
    return scheduling_helpers.plan(http, group, **{"title": SECRET[:40], "weekday": "0", **fields})


def test_planning_editing_and_cancelling_meetings_is_audited(coordinator, coordinator_user, factory, db):
    group = factory.group()
    assert plan(coordinator, group).status_code == 302
    meeting = db.session.query(Meeting).one()
    row = the_row(db, AuditAction.CREATE_MEETING, coordinator_user, "meeting", meeting.id)
    assert (row.group_id, row.meeting_id) == (group.id, meeting.id)

    assert (
        plan(
            coordinator,
            group,
            repeat="weekly",
            weekday=str(date(next_year(), 1, 1).weekday()),  # a weekly series starts on its day
            count="3",
            starts_on=date(next_year(), 1, 1).isoformat(),
        ).status_code
        == 302
    )
    series = db.session.query(MeetingSeries).one()
    assert the_row(db, AuditAction.CREATE_SERIES, coordinator_user, "series", series.id).group_id == group.id

    page = f"/schedule/meetings/{meeting.id}/edit"
    start = soon() + timedelta(days=1)
    assert (
        post_form(
            coordinator,
            page,
            page,
            {
                "title": "Check-in",
                "starts_on": start.isoformat(),
                "local_start": "20:00",
                "duration_minutes": "60",
                "timezone": "Europe/Amsterdam",
                "scope": "this",
            },
        ).status_code
        == 302
    )
    the_row(db, AuditAction.EDIT_MEETING, coordinator_user, "meeting", meeting.id)

    page = f"/schedule/meetings/{meeting.id}/cancel"
    assert post_form(coordinator, page, page, {"reason": "The peer expert is ill.", "scope": "this"}).status_code == 302
    the_row(db, AuditAction.CANCEL_MEETING, coordinator_user, "meeting", meeting.id)


def test_opening_and_closing_a_meeting_is_audited(factory, login_client, db):
    scene = factory.scene(MeetingState.SCHEDULED)
    expert = login_client("expert")
    page = f"/meetings/{scene.meeting.id}"
    assert post_form(expert, page, f"{page}/open").status_code == 302
    assert post_form(expert, page, f"{page}/close").status_code == 302
    the_row(db, AuditAction.OPEN_MEETING, scene.expert, "meeting", scene.meeting.id)
    the_row(db, AuditAction.CLOSE_MEETING, scene.expert, "meeting", scene.meeting.id)


# --- sensitive reads -------------------------------------------------------------------------------------


def test_resolving_an_alias_is_audited_with_the_reason_only(coordinator, coordinator_user, factory, db):
    group = factory.group()
    membership = factory.member(group, factory.user("alice"))
    page = f"/groups/{group.id}"
    response = post_form(
        coordinator, page, f"{page}/lookup", {"lookup-alias": membership.alias, "lookup-reason": "police request 12"}
    )
    assert response.status_code == 200
    row = the_row(db, AuditAction.LOOKUP_ALIAS, coordinator_user, "membership", membership.id)
    assert row.reason == "police request 12" and "alice" not in row.reason and membership.alias not in row.reason


def test_viewing_an_incident_is_audited_and_committed(factory, socket_client, login_client, db):
    room = open_room(factory, socket_client)
    sent = send(room.alice_socket, room.meeting, SECRET, "alice-audit1")
    incident_id = mod(room, "record_incident", ids=[sent["id"]], note=SECRET)["incident_id"]
    assert rows(db, AuditAction.VIEW_INCIDENT) == []
    assert login_client("coord").get("/safety/incidents/").status_code == 200  # the list shows no snapshot
    assert rows(db, AuditAction.VIEW_INCIDENT) == []
    assert login_client("coord").get(f"/safety/incidents/{incident_id}").status_code == 200
    row = the_row(db, AuditAction.VIEW_INCIDENT, room.coordinator, "incident", incident_id)
    assert (row.group_id, row.meeting_id) == (room.group.id, room.meeting.id)
    # Refused: nothing was shown, so nothing is recorded.
    assert login_client("eve").get(f"/safety/incidents/{incident_id}").status_code in (403, 404)
    assert len(rows(db, AuditAction.VIEW_INCIDENT)) == 1


# --- the action column -------------------------------------------------------------------------------------


@pytest.mark.committed  # its rollbacks must not undo what the socket events' own sessions committed
def test_the_action_column_only_holds_audit_actions(factory, socket_client, db):
    room = open_room(factory, socket_client)
    bob = room.memberships["bob"]
    assert mod(room, "mute", member=bob.public_id, minutes=None, reason="calm")["ok"]
    assert mod(room, "set_slow_mode", seconds=10)["ok"]
    assert mod(room, "set_premoderation", on=True)["ok"]
    assert mod(room, "set_floor_only", on=True)["ok"]
    stored = set(db.session.scalars(text("SELECT DISTINCT action FROM moderation_actions")))
    assert {"mute", "set_slow_mode_seconds", "set_premoderation", "set_floor_only"} <= stored
    assert stored <= {a.value for a in AuditAction}
    read = db.session.query(ModerationAction).filter_by(action=AuditAction.MUTE).one()
    assert read.action is AuditAction.MUTE

    with pytest.raises(ValueError):
        record(None, "invented_action", "user", 1)  # type: ignore[arg-type]
    db.session.rollback()
    db.session.add(ModerationAction(action="invented_action", target_type="user", target_id="1"))
    with pytest.raises(Exception, match="invented_action"):
        db.session.flush()
    db.session.rollback()
    assert set(db.session.scalars(text("SELECT DISTINCT action FROM moderation_actions"))) == stored
