"""permissions.py: who may do what, read from the database."""

import pytest

from supportgroup import permissions
from supportgroup.models import MeetingState, MembershipStatus, Role
from supportgroup.permissions import Denied


def code_of(call, *args):
    with pytest.raises(Denied) as refusal:
        call(*args)
    return refusal.value.code


def test_member_may_join_and_moderator_may_moderate(factory):
    scene = factory.scene()
    assert permissions.require_meeting_member(scene.alice, scene.meeting).alias
    assert permissions.require_meeting_moderator(scene.expert, scene.meeting).is_moderator


def test_participant_may_not_moderate(factory):
    scene = factory.scene()
    assert code_of(permissions.require_meeting_moderator, scene.alice, scene.meeting) == "not_moderator"


def test_outsiders_and_coordinators_are_not_meeting_members(factory):
    scene = factory.scene()
    assert code_of(permissions.require_meeting_member, scene.eve, scene.meeting) == "meeting_not_found"
    assert code_of(permissions.require_meeting_member, scene.coordinator, scene.meeting) == "not_member"


def test_banned_member_is_refused(factory, db):
    scene = factory.scene()
    scene.memberships["bob"].status = MembershipStatus.BANNED
    db.session.commit()
    assert code_of(permissions.require_meeting_member, scene.bob, scene.meeting) == "banned"


def test_moderator_whose_training_lapsed_no_longer_moderates(factory, db):
    scene = factory.scene()
    scene.expert.profile.trained = False
    db.session.commit()
    assert code_of(permissions.require_meeting_member, scene.expert, scene.meeting) == "meeting_not_found"


def test_meeting_must_be_open(factory):
    scene = factory.scene(MeetingState.CLOSED)
    assert code_of(permissions.require_meeting_open, scene.meeting) == "meeting_not_open"


def test_group_management_is_for_coordinators_and_admins(factory):
    coordinator = factory.user("coord", Role.COORDINATOR)
    admin = factory.user("root", Role.ADMIN)
    participant = factory.user("alice")
    expert = factory.user("expert", Role.PEER_EXPERT)
    assert permissions.can_manage_groups(coordinator) and permissions.can_manage_groups(admin)
    assert not permissions.can_manage_groups(participant) and not permissions.can_manage_groups(expert)
    assert code_of(permissions.require_group_manager, participant) == "forbidden"


def test_anonymous_user_is_not_authenticated(app):
    from flask_login import AnonymousUserMixin

    assert code_of(permissions.require_authenticated, AnonymousUserMixin()) == "not_authenticated"


def test_only_trained_peer_experts_can_moderate(factory):
    untrained = factory.user("newbie", Role.PEER_EXPERT, trained=False)
    participant = factory.user("alice")
    assert code_of(permissions.require_trained_peer_expert, untrained) == "not_trained"
    assert code_of(permissions.require_trained_peer_expert, participant) == "not_trained"
