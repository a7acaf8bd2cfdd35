"""The coordinator's slice (groups, members, moderators, meetings) and the peer expert's open/close."""

from datetime import timedelta

import pytest

from supportgroup.models import Group, MeetingState, Membership, ModerationAction, Role, utcnow
from tests.chat_helpers import join
from tests.conftest import csrf_token


@pytest.fixture
def coordinator(factory, login_client):
    factory.user("coord", Role.COORDINATOR)
    return login_client("coord")


def post_form(http, page, action, data):
    return http.post(action, data={"csrf_token": csrf_token(http, page), **data})


def test_coordinator_creates_a_group(coordinator, db):
    response = post_form(
        coordinator,
        "/groups/new",
        "/groups/new",
        {
            "name": "Thursday evening",
            "kind": "perpetrators",
            "language": "nl",
            "capacity": "8",
            "description": "For people who want to stop using violence.",
        },
    )
    assert response.status_code == 302
    group = db.session.query(Group).one()
    assert (group.name, group.kind.value, group.language, group.capacity) == (
        "Thursday evening",
        "perpetrators",
        "nl",
        8,
    )


@pytest.mark.parametrize(
    "data,error",
    [
        ({"name": "", "kind": "survivors", "language": "nl", "capacity": "8"}, "This field is required"),
        ({"name": "G", "kind": "nonsense", "language": "nl", "capacity": "8"}, "Not a valid choice"),
        ({"name": "G", "kind": "survivors", "language": "nl", "capacity": "1"}, "Number must be between"),
    ],
)
def test_group_form_refuses_bad_input(coordinator, db, data, error):
    response = post_form(coordinator, "/groups/new", "/groups/new", data)
    assert response.status_code == 200 and error in response.get_data(as_text=True)
    assert db.session.query(Group).count() == 0


def test_participants_cannot_reach_the_coordinator_pages(factory, login_client):
    group = factory.group()
    factory.user("alice")
    alice = login_client("alice")
    assert alice.get("/groups/").status_code == 403
    assert alice.get(f"/groups/{group.id}").status_code == 404
    assert alice.post(f"/groups/{group.id}/members", data={}).status_code in (400, 404)


def test_coordinator_adds_members_under_random_aliases(coordinator, factory, db):
    group = factory.group(language="nl")
    factory.user("alice")
    page = f"/groups/{group.id}"
    response = post_form(coordinator, page, f"/groups/{group.id}/members", {"member-username": "alice"})
    assert response.status_code == 302
    membership = db.session.query(Membership).one()
    assert membership.alias and "alice" not in membership.alias.lower()
    adjective, animal = membership.alias.split(" ")[:2]
    from supportgroup.groups.aliases import ADJECTIVES, ANIMALS

    assert adjective in ADJECTIVES["nl"] and animal in ANIMALS["nl"]
    # The alias shows on the group page, the username does not.
    html = coordinator.get(page).get_data(as_text=True)
    assert membership.alias in html


@pytest.mark.parametrize("username,error", [("nobody", "no account"), ("alice", "Already in this group")])
def test_adding_a_member_refuses_unknown_or_double(coordinator, factory, db, username, error):
    group = factory.group()
    factory.member(group, factory.user("alice"))
    response = post_form(
        coordinator, f"/groups/{group.id}", f"/groups/{group.id}/members", {"member-username": username}
    )
    assert response.status_code == 400 and error in response.get_data(as_text=True)
    assert db.session.query(Membership).count() == 1


def test_full_group_puts_a_new_member_on_the_waitlist(coordinator, factory, db):
    group = factory.group(capacity=2)
    factory.member(group, factory.user("alice"))
    factory.member(group, factory.user("bob"))
    factory.user("carol")
    response = post_form(
        coordinator, f"/groups/{group.id}", f"/groups/{group.id}/members", {"member-username": "carol"}
    )
    assert response.status_code == 302
    carol = db.session.query(Membership).join(Membership.user).filter_by(username="carol").one()
    assert carol.status.value == "waitlisted"


def test_aliases_are_unique_within_a_group(factory, db):
    group = factory.group(capacity=50)
    for n in range(40):
        factory.member(group, factory.user(f"member{n:02d}"))
    aliases = [m.alias for m in db.session.query(Membership).all()]
    assert len(aliases) == len(set(aliases)) == 40


def test_only_trained_peer_experts_are_assigned(coordinator, factory, db):
    group = factory.group()
    factory.user("trained", Role.PEER_EXPERT, trained=True, first_name="Noor")
    factory.user("untrained", Role.PEER_EXPERT, trained=False)
    page, action = f"/groups/{group.id}", f"/groups/{group.id}/moderators"
    assert post_form(coordinator, page, action, {"moderator-username": "trained"}).status_code == 302
    refused = post_form(coordinator, page, action, {"moderator-username": "untrained"})
    assert refused.status_code == 400 and "trained" in refused.get_data(as_text=True)
    assert [m.user.username for m in db.session.query(Membership).all()] == ["trained"]


def test_group_page_leads_to_planning_and_attendance(coordinator, factory):
    group = factory.group()
    html = coordinator.get(f"/groups/{group.id}").get_data(as_text=True)
    assert f"/schedule/groups/{group.id}/meetings/new" in html and f"/attendance/groups/{group.id}" in html


def test_assigned_peer_expert_opens_and_closes_the_meeting(factory, login_client, db):
    scene = factory.scene(MeetingState.SCHEDULED)
    expert = login_client("expert")
    page = f"/meetings/{scene.meeting.id}"
    assert "Open meeting" in expert.get(page).get_data(as_text=True)
    assert post_form(expert, page, f"{page}/open", {}).status_code == 302
    db.session.refresh(scene.meeting)
    assert scene.meeting.state == MeetingState.OPEN and scene.meeting.opened_at is not None
    assert post_form(expert, page, f"{page}/close", {}).status_code == 302
    db.session.refresh(scene.meeting)
    assert scene.meeting.state == MeetingState.CLOSED
    actions = [a.action for a in db.session.query(ModerationAction).order_by(ModerationAction.id)]
    assert actions == ["open_meeting", "close_meeting"]


def test_participants_and_other_experts_cannot_open_a_meeting(factory, login_client, db):
    scene = factory.scene(MeetingState.SCHEDULED)
    factory.user("other", Role.PEER_EXPERT)
    for username in ("alice", "other"):
        http = login_client(username)
        token = csrf_token(http, "/home")
        expected = 403 if username == "alice" else 404  # a member who is not a moderator; a stranger
        assert http.post(f"/meetings/{scene.meeting.id}/open", data={"csrf_token": token}).status_code == expected
    db.session.refresh(scene.meeting)
    assert scene.meeting.state == MeetingState.SCHEDULED


def test_opening_reaches_people_waiting_in_the_lobby(factory, login_client, socket_client, db):
    scene = factory.scene(MeetingState.SCHEDULED)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    alice.get_received()
    expert = login_client("expert")
    page = f"/meetings/{scene.meeting.id}"
    post_form(expert, page, f"{page}/open", {})
    states = [p["args"][0] for p in alice.get_received() if p["name"] == "meeting_state"]
    assert [(s["meeting_id"], s["state"]) for s in states] == [(scene.meeting.id, "open")]


def test_meeting_page_shows_the_alias_not_the_username(factory, login_client):
    scene = factory.scene()
    alice = login_client("alice")
    page = f"/meetings/{scene.meeting.id}"
    alice.post(f"/safety/check/{scene.meeting.id}", data={"csrf_token": csrf_token(alice, page), "skip": "1"})
    html = alice.get(page).get_data(as_text=True)
    assert scene.memberships["alice"].alias in html


def test_non_member_cannot_see_the_meeting_page(factory, login_client):
    scene = factory.scene()
    assert login_client("eve").get(f"/meetings/{scene.meeting.id}").status_code == 404
    assert login_client("eve").get("/meetings/999999").status_code == 404


def test_dashboard_lists_groups_and_meetings(factory, login_client):
    scene = factory.scene(MeetingState.SCHEDULED)
    scene.meeting.starts_at = utcnow() + timedelta(days=1)
    html = login_client("alice").get("/home").get_data(as_text=True)
    assert scene.group.name in html and f"/meetings/{scene.meeting.id}" in html
