"""A closed group's request answers strangers as a missing one; a former moderator enrolled again takes part."""

from __future__ import annotations

from supportgroup.groups import enrolment
from supportgroup.models import MembershipStatus, Role
from supportgroup.models.enums import MembershipRole

from .conftest import csrf_token


def test_requests_to_a_group_not_in_the_directory_answer_as_if_it_did_not_exist(factory, login_client, db):
    closed = factory.group("Closed group")
    closed.open_for_requests = False
    archived = factory.group("Archived group")
    archived.open_for_requests = True
    archived.archived_at = closed.created_at
    db.session.commit()
    factory.user("stranger")
    http = login_client("stranger")
    token = csrf_token(http, "/groups/directory")
    answers = {
        gid: http.post(f"/groups/{gid}/request", data={"csrf_token": token}).status_code
        for gid in (closed.id, archived.id, 999999)
    }
    assert answers == {closed.id: 404, archived.id: 404, 999999: 404}


def test_a_former_moderator_enrolled_as_participant_does_not_moderate(factory, db):
    group = factory.group()
    expert = factory.user("sam", Role.PEER_EXPERT)
    membership = factory.moderator(group, expert)
    membership.status = MembershipStatus.REMOVED
    expert.role = Role.PARTICIPANT  # `flask set-role`: no longer a peer expert, now takes part
    db.session.commit()
    again = enrolment.add_participant(group, expert)
    db.session.commit()
    assert again.id == membership.id and again.role == MembershipRole.PARTICIPANT and not again.is_moderator
