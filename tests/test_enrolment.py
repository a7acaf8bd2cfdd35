"""Enrolment: invites, referrals, requests, the waitlist, aliases, house rules, conflict screening."""

from datetime import timedelta

import pytest

from supportgroup.errors import DomainError
from supportgroup.groups import conflicts, enrolment, invites, lifecycle
from supportgroup.models import (
    Attendance,
    Invite,
    Membership,
    MembershipStatus,
    ModerationAction,
    Organisation,
    Role,
    User,
    utcnow,
)
from tests.conftest import csrf_token

NEUTRAL = "It is not possible to join this group"


def post_form(http, page, action, data=None):
    return http.post(action, data={"csrf_token": csrf_token(http, page), **(data or {})})


@pytest.fixture
def coordinator(factory, login_client):
    factory.user("planner", Role.COORDINATOR)
    return login_client("planner")


def membership_of(db, username):
    return db.session.query(Membership).join(Membership.user).filter_by(username=username).one()


def redeem(http, code):
    return post_form(http, "/groups/join", "/groups/join", {"code": code})


# --- invites ----------------------------------------------------------------------------------------


def test_coordinator_makes_an_invite_and_a_participant_joins_with_it(coordinator, factory, login_client, db):
    group = factory.group(language="nl")
    response = post_form(coordinator, f"/groups/{group.id}", f"/groups/{group.id}/invites", {"invite-max_uses": "5"})
    assert response.status_code == 302
    invite = db.session.query(Invite).one()
    assert invite.max_uses == 5 and len(invite.code) >= 12
    factory.user("newcomer")
    http = login_client("newcomer")
    joined = redeem(http, invite.code)
    assert joined.status_code == 302 and joined.headers["Location"] == f"/groups/{group.id}/about"
    membership = membership_of(db, "newcomer")
    assert membership.status == MembershipStatus.ACTIVE and membership.source == "invite"
    db.session.refresh(invite)
    assert invite.uses == 1
    page = http.get(f"/groups/{group.id}/about").get_data(as_text=True)
    assert membership.alias in page and "newcomer" not in page.split("<main", 1)[1]


def test_invite_link_prefills_the_code(factory, login_client, db):
    group = factory.group()
    invite = invites.create_invite(group, factory.user("coord", Role.COORDINATOR), None, None)
    db.session.commit()
    factory.user("newcomer")
    assert invite.code in login_client("newcomer").get(f"/groups/join/{invite.code}").get_data(as_text=True)


@pytest.mark.parametrize(
    "spoil,message",
    [
        (lambda i: setattr(i, "revoked_at", utcnow()), "withdrawn"),
        (lambda i: setattr(i, "expires_at", utcnow() - timedelta(minutes=1)), "expired"),
        (lambda i: (setattr(i, "max_uses", 1), setattr(i, "uses", 1)), "used up"),
    ],
)
def test_unusable_invites_are_refused_clearly(factory, login_client, db, spoil, message):
    group = factory.group()
    invite = invites.create_invite(group, factory.user("coord", Role.COORDINATOR), None, None)
    spoil(invite)
    db.session.commit()
    factory.user("newcomer")
    response = redeem(login_client("newcomer"), invite.code)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.query(Membership).count() == 0


def test_unknown_invite_code(factory, login_client, db):
    factory.user("newcomer")
    response = redeem(login_client("newcomer"), "no-such-code")
    assert "not valid" in response.get_data(as_text=True)


def test_an_invite_cannot_be_used_twice_by_the_same_person(factory, login_client, db):
    group = factory.group()
    invite = invites.create_invite(group, factory.user("coord", Role.COORDINATOR), None, None)
    db.session.commit()
    factory.user("newcomer")
    http = login_client("newcomer")
    assert redeem(http, invite.code).status_code == 302
    again = redeem(http, invite.code)
    assert again.status_code == 400 and "Already in this group" in again.get_data(as_text=True)
    db.session.refresh(invite)
    assert invite.uses == 1


def test_invite_with_expiry_in_the_past_is_refused_when_made(coordinator, factory, db):
    group = factory.group()
    response = post_form(
        coordinator, f"/groups/{group.id}", f"/groups/{group.id}/invites", {"invite-expires_at": "2020-01-01T10:00"}
    )
    assert response.status_code == 400 and "past" in response.get_data(as_text=True)
    assert db.session.query(Invite).count() == 0


def test_revoking_an_invite(coordinator, factory, db):
    group = factory.group()
    invite = invites.create_invite(group, factory.user("other", Role.COORDINATOR), None, None)
    db.session.commit()
    post_form(coordinator, f"/groups/{group.id}", f"/groups/invites/{invite.id}/revoke")
    db.session.refresh(invite)
    assert invite.revoked_at is not None


# --- referral and organisations -----------------------------------------------------------------------


def test_membership_continues_after_the_referring_organisation_closes_its_case(coordinator, factory, db):
    group = factory.group()
    organisation = Organisation(name="Veilig Thuis Utrecht")
    db.session.add(organisation)
    db.session.commit()
    factory.user("alice")
    post_form(
        coordinator,
        f"/groups/{group.id}",
        f"/groups/{group.id}/members",
        {"member-username": "alice", "member-organisation": str(organisation.id)},
    )
    membership = membership_of(db, "alice")
    assert membership.referred_by_organisation_id == organisation.id
    post_form(coordinator, f"/groups/{group.id}", f"/groups/memberships/{membership.id}/close-referral")
    db.session.refresh(membership)
    assert membership.referral_closed_at is not None and membership.status == MembershipStatus.ACTIVE


def test_coordinator_adds_organisations_without_duplicates(coordinator, db):
    assert (
        post_form(coordinator, "/groups/organisations", "/groups/organisations", {"name": "Shelter"}).status_code == 302
    )
    again = post_form(coordinator, "/groups/organisations", "/groups/organisations", {"name": "shelter"})
    assert again.status_code == 400 and "already listed" in again.get_data(as_text=True)
    assert db.session.query(Organisation).count() == 1


# --- requests -----------------------------------------------------------------------------------------


def test_ask_to_join_and_approval(coordinator, factory, login_client, db):
    group = factory.group()
    group.open_for_requests = True
    db.session.commit()
    factory.user("alice")
    alice = login_client("alice")
    assert group.name in alice.get("/groups/directory").get_data(as_text=True)
    post_form(alice, "/groups/directory", f"/groups/{group.id}/request")
    membership = membership_of(db, "alice")
    assert membership.status == MembershipStatus.PENDING
    post_form(coordinator, f"/groups/{group.id}", f"/groups/memberships/{membership.id}/approve")
    db.session.refresh(membership)
    assert membership.status == MembershipStatus.ACTIVE


def test_declined_request_is_kept_as_a_state(coordinator, factory, login_client, db):
    group = factory.group()
    group.open_for_requests = True
    db.session.commit()
    factory.user("alice")
    post_form(login_client("alice"), "/groups/directory", f"/groups/{group.id}/request")
    membership = membership_of(db, "alice")
    post_form(coordinator, f"/groups/{group.id}", f"/groups/memberships/{membership.id}/decline")
    db.session.refresh(membership)
    assert membership.status == MembershipStatus.REMOVED


def test_requests_only_for_groups_that_take_them(factory, login_client, db):
    group = factory.group()
    factory.user("alice")
    post_form(login_client("alice"), "/groups/directory", f"/groups/{group.id}/request")
    assert db.session.query(Membership).count() == 0


# --- waitlist -----------------------------------------------------------------------------------------


def test_waitlist_moves_up_when_a_place_frees(factory, login_client, db):
    group = factory.group(capacity=2)
    for name in ("alice", "bob", "carol", "dave"):
        factory.member(group, factory.user(name))
    assert [membership_of(db, n).status.value for n in ("alice", "bob", "carol", "dave")] == [
        "active",
        "active",
        "waitlisted",
        "waitlisted",
    ]
    post_form(login_client("alice"), f"/groups/{group.id}/about", f"/groups/{group.id}/leave")
    assert membership_of(db, "alice").status == MembershipStatus.LEFT  # a state, not a deletion
    assert membership_of(db, "carol").status == MembershipStatus.ACTIVE  # first in line
    assert membership_of(db, "dave").status == MembershipStatus.WAITLISTED


def test_raising_the_capacity_promotes_the_waitlist(factory, db):
    group = factory.group(capacity=1)
    factory.member(group, factory.user("alice"))
    factory.member(group, factory.user("bob"))
    promoted = lifecycle.update_group(
        group,
        name=group.name,
        kind=group.kind,
        language=group.language,
        capacity=3,
        description="",
        house_rules="",
        waiting_room=False,
        premoderation=False,
        retention_days=30,
        open_for_requests=False,
    )
    db.session.commit()
    assert [m.alias for m in promoted] == [membership_of(db, "bob").alias]


@pytest.mark.parametrize("action,status", [("remove", MembershipStatus.REMOVED), ("ban", MembershipStatus.BANNED)])
def test_remove_and_ban_are_states_and_free_a_place(coordinator, factory, db, action, status):
    group = factory.group(capacity=1)
    factory.member(group, factory.user("alice"))
    factory.member(group, factory.user("bob"))
    alice = membership_of(db, "alice")
    post_form(coordinator, f"/groups/{group.id}", f"/groups/memberships/{alice.id}/{action}", {"reason": "r"})
    db.session.refresh(alice)
    assert alice.status == status
    assert membership_of(db, "bob").status == MembershipStatus.ACTIVE
    audit = db.session.query(ModerationAction).filter_by(target_id=str(alice.id)).one()
    assert audit.action == f"{action}_member" if action == "ban" else "remove_member"


def test_banned_person_cannot_come_back(factory, db):
    group = factory.group()
    alice = factory.user("alice")
    membership = factory.member(group, alice)
    enrolment.end_membership(membership, alice, MembershipStatus.BANNED)
    db.session.commit()
    invite = invites.create_invite(group, alice, None, None)
    with pytest.raises(DomainError) as refused:
        invites.redeem_invite(invite.code, alice)
    assert NEUTRAL in str(refused.value.message)


def test_capacity_cannot_go_below_the_active_members(coordinator, factory, db):
    group = factory.group(capacity=5)
    for name in ("alice", "bob", "carol"):
        factory.member(group, factory.user(name))
    response = post_form(
        coordinator,
        f"/groups/{group.id}/edit",
        f"/groups/{group.id}/edit",
        {"name": group.name, "kind": "survivors", "language": "en", "capacity": "2", "retention_days": "30"},
    )
    assert response.status_code == 400 and "cannot be lower" in response.get_data(as_text=True)
    db.session.refresh(group)
    assert group.capacity == 5


# --- aliases ------------------------------------------------------------------------------------------


def test_aliases_are_not_linkable_across_groups(factory, db):
    alice = factory.user("alice")
    aliases = [factory.member(factory.group(f"group {n}", language="en"), alice).alias for n in range(6)]
    assert len(set(aliases)) == 6  # different in every group
    assert all("alice" not in a.lower() for a in aliases)


def test_redraw_alias_before_the_first_meeting_only(factory, login_client, db):
    scene = factory.scene()
    alice = login_client("alice")
    before = scene.memberships["alice"].alias
    post_form(alice, f"/groups/{scene.group.id}/about", f"/groups/{scene.group.id}/alias")
    db.session.refresh(scene.memberships["alice"])
    after = scene.memberships["alice"].alias
    assert after != before
    db.session.add(Attendance(meeting_id=scene.meeting.id, membership_id=scene.memberships["alice"].id))
    db.session.commit()
    response = post_form(alice, f"/groups/{scene.group.id}/about", f"/groups/{scene.group.id}/alias")
    db.session.refresh(scene.memberships["alice"])
    assert scene.memberships["alice"].alias == after
    assert "stays the same" in alice.get(response.headers["Location"]).get_data(as_text=True)


def test_only_coordinators_look_up_an_alias_and_it_is_audited(coordinator, factory, login_client, db):
    scene = factory.scene()
    alias = scene.memberships["bob"].alias
    no_reason = post_form(
        coordinator,
        f"/groups/{scene.group.id}",
        f"/groups/{scene.group.id}/lookup",
        {"lookup-alias": alias, "lookup-reason": ""},
    )
    assert "bob" not in no_reason.get_data(as_text=True).split("<main", 1)[1]
    found = post_form(
        coordinator,
        f"/groups/{scene.group.id}",
        f"/groups/{scene.group.id}/lookup",
        {"lookup-alias": alias, "lookup-reason": "safeguarding concern"},
    )
    assert found.status_code == 200 and "account bob" in found.get_data(as_text=True)
    audit = db.session.query(ModerationAction).filter_by(action="lookup_alias").one()
    assert audit.reason == "safeguarding concern" and audit.target_id == str(scene.memberships["bob"].id)
    expert = login_client("expert")
    token = csrf_token(expert, "/home")
    assert (
        expert.post(
            f"/groups/{scene.group.id}/lookup",
            data={"csrf_token": token, "lookup-alias": alias, "lookup-reason": "curious"},
        ).status_code
        == 404
    )


def test_group_page_shows_peer_experts_by_first_name_and_story(factory, login_client, db):
    scene = factory.scene()
    scene.expert.profile.story = "I found my way back."
    db.session.commit()
    page = login_client("alice").get(f"/groups/{scene.group.id}/about").get_data(as_text=True)
    assert "Sam" in page and "I found my way back." in page
    assert "expert" not in page.split("<main", 1)[1].lower().replace("peer expert", "")


# --- house rules --------------------------------------------------------------------------------------


def test_house_rules_are_cleaned_and_a_change_needs_new_consent(coordinator, factory, login_client, db):
    from supportgroup.permissions import Denied, require_rules_accepted

    scene = factory.scene()
    response = post_form(
        coordinator,
        f"/groups/{scene.group.id}/edit",
        f"/groups/{scene.group.id}/edit",
        {
            "name": scene.group.name,
            "kind": "survivors",
            "language": "en",
            "capacity": "12",
            "retention_days": "30",
            "house_rules": "<p>Be kind.</p><script>alert(1)</script><img src=x onerror=alert(2)>",
        },
    )
    assert response.status_code == 302
    db.session.refresh(scene.group)
    assert scene.group.house_rules == "<p>Be kind.</p>alert(1)" and scene.group.rules_version == 2
    membership = scene.memberships["alice"]
    db.session.refresh(membership)
    with pytest.raises(Denied) as refused:
        require_rules_accepted(membership)
    assert refused.value.code == "rules_not_accepted"
    alice = login_client("alice")
    assert "I accept the house rules" in alice.get(f"/groups/{scene.group.id}/about").get_data(as_text=True)
    post_form(alice, f"/groups/{scene.group.id}/about", f"/groups/{scene.group.id}/rules")
    db.session.refresh(membership)
    require_rules_accepted(membership)  # no longer raises


# --- conflict screening -------------------------------------------------------------------------------


@pytest.fixture
def former_partners(coordinator, factory, db):
    group = factory.group()
    factory.member(group, factory.user("partner_a"))
    factory.user("partner_b")
    response = post_form(
        coordinator,
        "/groups/conflicts",
        "/groups/conflicts",
        {"first": "partner_a", "second": "partner_b", "note": "former partners"},
    )
    assert response.status_code == 302
    return group


def test_conflict_refuses_an_invite_with_a_neutral_message(former_partners, factory, login_client, db):
    invite = invites.create_invite(
        former_partners, db.session.query(User).filter_by(username="planner").one(), None, None
    )
    db.session.commit()
    response = redeem(login_client("partner_b"), invite.code)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and NEUTRAL in body
    assert "partner_a" not in body and "conflict" not in body.lower() and "partner" not in body.split("<main", 1)[1]
    assert db.session.query(Membership).count() == 1
    db.session.refresh(invite)
    assert invite.uses == 0


def test_coordinator_sees_why_a_referral_was_refused(former_partners, coordinator, db):
    response = post_form(
        coordinator,
        f"/groups/{former_partners.id}",
        f"/groups/{former_partners.id}/members",
        {"member-username": "partner_b"},
    )
    assert response.status_code == 400 and "recorded conflict" in response.get_data(as_text=True)


def test_conflict_applies_to_requests_and_either_direction(former_partners, factory, db):
    partner_a, partner_b = (db.session.query(User).filter_by(username=n).one() for n in ("partner_a", "partner_b"))
    former_partners.open_for_requests = True
    db.session.commit()
    with pytest.raises(conflicts.ConflictRefused):
        enrolment.request_to_join(former_partners, partner_b)
    db.session.rollback()
    other = factory.group("other group")
    factory.member(other, partner_b)
    with pytest.raises(conflicts.ConflictRefused):
        enrolment.add_participant(other, partner_a)


def test_recording_a_conflict_warns_about_a_shared_group(coordinator, factory, db):
    group = factory.group("Shared")
    factory.member(group, factory.user("x_one"))
    factory.member(group, factory.user("x_two"))
    response = post_form(coordinator, "/groups/conflicts", "/groups/conflicts", {"first": "x_one", "second": "x_two"})
    assert "already in Shared" in coordinator.get(response.headers["Location"]).get_data(as_text=True)


# --- the pool -----------------------------------------------------------------------------------------


def test_pool_shows_who_moderates_what_and_double_bookings(coordinator, factory, db):
    scene = factory.scene()
    other = factory.group("Evening group")
    factory.moderator(other, scene.expert)
    factory.meeting(other, title="Clash")  # starts at the same moment as the scene's meeting
    page = coordinator.get("/groups/pool").get_data(as_text=True)
    assert "Sam" in page and scene.group.name in page and "Evening group" in page
    assert "Double booked" in page


def test_assigning_a_double_booked_expert_warns(coordinator, factory, db):
    factory.scene()  # the expert moderates a meeting that starts now
    other = factory.group("Evening group")
    factory.meeting(other, title="Clash")
    response = post_form(
        coordinator, f"/groups/{other.id}", f"/groups/{other.id}/moderators", {"moderator-username": "expert"}
    )
    assert "Double booking" in coordinator.get(response.headers["Location"]).get_data(as_text=True)


def test_peer_expert_edits_own_story_but_not_training(factory, login_client, db):
    expert = factory.user("noor", Role.PEER_EXPERT, trained=False, first_name="Noor")
    http = login_client("noor")
    response = post_form(
        http,
        f"/groups/pool/{expert.id}/edit",
        f"/groups/pool/{expert.id}/edit",
        {"first_name": "Noor", "story": "Mijn verhaal.", "experience_kinds": ["survivor"], "trained": "y"},
    )
    assert response.status_code == 302
    db.session.refresh(expert.profile)
    assert expert.profile.story == "Mijn verhaal." and expert.profile.trained is False


def test_participants_cannot_see_the_pool_or_conflicts(factory, login_client):
    factory.user("alice")
    alice = login_client("alice")
    for path in ("/groups/pool", "/groups/conflicts", "/groups/organisations"):
        assert alice.get(path).status_code == 403
