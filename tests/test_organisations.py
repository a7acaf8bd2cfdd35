"""Partner organisations: coordinators and admins add, rename and remove them (an unused one only); audited by id;
the console's start page links them."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from supportgroup.audit import AuditAction
from supportgroup.groups import enrolment
from supportgroup.models import ModerationAction, Organisation, Role
from tests.conftest import csrf_token

PAGE = "/groups/organisations"


def post_form(http, page, action, data=None):
    return http.post(action, data={"csrf_token": csrf_token(http, page), **(data or {})})


@pytest.fixture
def coordinator(factory, login_client):
    factory.user("planner", Role.COORDINATOR)
    return login_client("planner")


def organisation(db, name: str) -> Organisation:
    found = enrolment.create_organisation(name)
    db.session.commit()
    return found


def audit_rows(db):
    db.session.expire_all()
    return db.session.scalars(
        select(ModerationAction).where(ModerationAction.action == AuditAction.EDIT_ORGANISATION)
    ).all()


def test_a_coordinator_renames_an_organisation_and_the_audit_log_keeps_its_id(coordinator, db):
    shelter = organisation(db, "Shelter")
    response = post_form(coordinator, PAGE, f"{PAGE}/{shelter.id}/rename", {f"org{shelter.id}-name": "Blijf Groep"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, shelter.id).name == "Blijf Groep"
    assert "Blijf Groep" in coordinator.get(PAGE).get_data(as_text=True)
    (row,) = audit_rows(db)
    assert (row.target_type, row.target_id, row.reason, row.actor_role) == (
        "organisation",
        str(shelter.id),
        "renamed",
        "coordinator",
    )
    assert "Shelter" not in row.reason and "Blijf" not in row.reason


def test_a_duplicate_name_is_refused_on_the_field_and_what_was_typed_stays(coordinator, db):
    shelter, other = organisation(db, "Shelter"), organisation(db, "Veilig Thuis")
    typed = "veilig thuis"  # names are unique whatever their capitals
    response = post_form(coordinator, PAGE, f"{PAGE}/{shelter.id}/rename", {f"org{shelter.id}-name": typed})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Another organisation already has this name." in page
    assert f'value="{html.escape(typed)}"' in page  # nothing typed is lost
    assert f'id="organisation-{shelter.id}"' in page and "<details class=\"row-actions\" open>" in page
    db.session.expire_all()
    assert db.session.get(Organisation, shelter.id).name == "Shelter" and other.name == "Veilig Thuis"
    assert audit_rows(db) == []
    # The organisation's own name in other capitals is not a clash.
    renamed = post_form(coordinator, PAGE, f"{PAGE}/{shelter.id}/rename", {f"org{shelter.id}-name": "SHELTER"})
    assert renamed.status_code == 302
    db.session.expire_all()
    assert db.session.get(Organisation, shelter.id).name == "SHELTER"


def test_an_empty_name_is_refused(coordinator, db):
    shelter = organisation(db, "Shelter")
    response = post_form(coordinator, PAGE, f"{PAGE}/{shelter.id}/rename", {f"org{shelter.id}-name": " \u200b "})
    assert response.status_code == 400 and "This field is required." in response.get_data(as_text=True)


def test_an_unused_organisation_is_removed_and_a_referring_one_stays(coordinator, factory, db):
    unused, referring = organisation(db, "Unused"), organisation(db, "Referring")
    unused_id = unused.id
    group = factory.group()
    membership = enrolment.add_participant(group, factory.user("alice"), referring)
    db.session.commit()

    page = coordinator.get(PAGE).get_data(as_text=True)
    assert "Remove Unused" in page and "Remove Referring" not in page
    assert "1 membership names it as the referrer" in page

    assert post_form(coordinator, PAGE, f"{PAGE}/{unused_id}/remove").status_code == 302
    refused = post_form(coordinator, PAGE, f"{PAGE}/{referring.id}/remove")
    assert refused.status_code == 302
    after = coordinator.get(PAGE).get_data(as_text=True)
    assert "so it stays listed" in after and "Unused" not in after
    db.session.expire_all()
    assert db.session.get(Organisation, unused_id) is None
    assert db.session.get(Organisation, referring.id) is not None
    assert membership.referred_by_organisation_id == referring.id
    assert [(r.target_id, r.reason) for r in audit_rows(db)] == [(str(unused_id), "removed")]


def test_participants_and_peer_experts_get_nothing(factory, login_client, db):
    shelter = organisation(db, "Shelter")
    factory.user("alice")
    factory.user("expert", Role.PEER_EXPERT)
    for username in ("alice", "expert"):
        http = login_client(username)
        assert http.get(PAGE).status_code == 403
        token = csrf_token(http, "/home")
        for action in ("rename", "remove"):
            # One 404 for an organisation that exists and one that does not (ids are guessable).
            real = http.post(f"{PAGE}/{shelter.id}/{action}", data={"csrf_token": token, f"org{shelter.id}-name": "X"})
            missing = http.post(f"{PAGE}/999999/{action}", data={"csrf_token": token})
            assert real.status_code == missing.status_code == 404
    db.session.expire_all()
    assert db.session.get(Organisation, shelter.id).name == "Shelter" and audit_rows(db) == []


def test_an_admin_may_too_and_a_missing_one_is_404(factory, login_client, db):
    factory.user("root", Role.ADMIN)
    root = login_client("root")
    shelter_id = organisation(db, "Shelter").id
    assert post_form(root, PAGE, f"{PAGE}/{shelter_id}/remove").status_code == 302
    assert post_form(root, PAGE, f"{PAGE}/{shelter_id}/remove").status_code == 404


@pytest.mark.parametrize(("role", "shown"), [(Role.COORDINATOR, False), (Role.ADMIN, True)])
def test_the_console_links_organisations_for_staff_and_settings_for_admins(factory, login_client, role, shown):
    factory.user("someone", role)
    page = login_client("someone").get("/admin/").get_data(as_text=True)
    assert 'href="/groups/organisations"><strong>Organisations</strong>' in page
    assert ('href="/admin/settings"' in page) is shown
