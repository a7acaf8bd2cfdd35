"""The shared edge: one DomainError shown on forms, one commit/rollback helper, one "load or 404, then authorize"."""

from __future__ import annotations

import pytest
from wtforms import Form, StringField

from supportgroup.edge import committing
from supportgroup.errors import DomainError, show_on_form
from supportgroup.groups import conflicts, invites
from supportgroup.models import EnrolmentConflict, Incident, Invite, Organisation, Role
from supportgroup.permissions import Denied
from tests.conftest import csrf_token

REFUSAL = "Refused for this test."


def post_form(http, page: str, action: str, data: dict | None = None):
    return http.post(action, data={"csrf_token": csrf_token(http, page), **(data or {})})


@pytest.fixture
def coordinator(factory, login_client):
    factory.user("planner", Role.COORDINATOR)
    return login_client("planner")


# --- DomainError on a form ----------------------------------------------------------------------------


class NameForm(Form):
    name = StringField()


def test_show_on_form_puts_the_error_on_the_field_it_names(app):
    form = NameForm()
    show_on_form(form, DomainError("taken", REFUSAL, field="name"))
    assert form.name.errors == [REFUSAL] and form.form_errors == []


def test_show_on_form_renames_a_service_field_to_the_form_field(app):
    form = NameForm()
    show_on_form(form, DomainError("taken", REFUSAL, field="title"), rename={"title": "name"}, above_form=True)
    assert form.name.errors == [REFUSAL]


def test_show_on_form_puts_an_unknown_field_above_the_form(app):
    form = NameForm()
    with app.test_request_context():
        show_on_form(form, DomainError("odd", REFUSAL, field="no_such_field"))
        assert not form.name.errors and form.form_errors == [REFUSAL] and form.errors
        from flask import get_flashed_messages

        assert get_flashed_messages(with_categories=True) == [("error", REFUSAL)]


def _refuse(*_args, **_kwargs):
    raise DomainError("refused_for_test", REFUSAL, field="no_such_field")


@pytest.mark.parametrize(
    "target, page, action, data",
    [
        (
            "supportgroup.groups.invites.create_invite",
            "/groups/{group}",
            "/groups/{group}/invites",
            {"invite-max_uses": "5"},
        ),
        (
            "supportgroup.groups.alias_services.lookup_alias",
            "/groups/{group}",
            "/groups/{group}/lookup",
            {"lookup-alias": "Someone", "lookup-reason": "A good reason"},
        ),
        (
            "supportgroup.groups.enrolment.create_organisation",
            "/groups/organisations",
            "/groups/organisations",
            {"name": "Helpline"},
        ),
        (
            "supportgroup.auth.services.update_settings",
            "/account/settings",
            "/account/settings",
            {"timezone": "Europe/Amsterdam", "locale": ""},
        ),
    ],
    ids=["invite", "lookup", "organisation", "settings"],
)
def test_a_refusal_naming_a_field_the_form_lacks_is_a_form_error_not_a_500(
    coordinator, factory, monkeypatch, target, page, action, data
):
    group = factory.group()
    monkeypatch.setattr(target, _refuse)
    response = post_form(coordinator, page.format(group=group.id), action.format(group=group.id), data)
    assert response.status_code == 400
    assert REFUSAL in response.get_data(as_text=True)


def test_a_refusal_no_route_shows_is_its_message_not_a_500(coordinator, factory, monkeypatch):
    group = factory.group()
    monkeypatch.setattr("supportgroup.groups.lifecycle.archive_group", _refuse)
    response = post_form(coordinator, f"/groups/{group.id}", f"/groups/{group.id}/archive", {"reason": "x"})
    assert response.status_code == 400
    assert REFUSAL in response.get_data(as_text=True)


def test_denied_is_a_domain_error_with_its_status():
    refusal = Denied("forbidden", REFUSAL)
    assert isinstance(refusal, DomainError)
    assert (refusal.code, refusal.message, refusal.status, refusal.field) == ("forbidden", REFUSAL, 403, None)


# --- committing(): commit once, roll back on any error -----------------------------------------------


def test_committing_keeps_what_the_block_wrote(db):
    with committing():
        db.session.add(Organisation(name="Kept"))
    db.session.remove()
    assert db.session.query(Organisation).filter_by(name="Kept").count() == 1


# Made in each test, not at collection: a raised exception's traceback holds the test's frames (and its app), and
# one kept in the parameters would keep them for the rest of the run.
@pytest.mark.parametrize(
    "make_error",
    [lambda: DomainError("refused_for_test", REFUSAL), lambda: RuntimeError("boom")],
    ids=["domain_error", "runtime_error"],
)
def test_committing_rolls_back_and_reraises(db, make_error):
    error = make_error()
    with pytest.raises(type(error)):
        with committing():
            db.session.add(Organisation(name="Lost"))
            db.session.flush()
            raise error
    db.session.remove()
    assert db.session.query(Organisation).filter_by(name="Lost").count() == 0


def test_a_service_that_fails_after_writing_keeps_nothing(coordinator, factory, db, monkeypatch):
    group = factory.group()
    real = invites.create_invite

    def write_then_refuse(*args, **kwargs):
        real(*args, **kwargs)
        db.session.flush()
        raise DomainError("refused_for_test", REFUSAL, field="max_uses")

    monkeypatch.setattr("supportgroup.groups.invites.create_invite", write_then_refuse)
    response = post_form(coordinator, f"/groups/{group.id}", f"/groups/{group.id}/invites", {"invite-max_uses": "5"})
    assert response.status_code == 400 and REFUSAL in response.get_data(as_text=True)
    # Read again without rolling back: in a rolled-back test, the test's own rollback would also undo what the
    # request committed (its savepoint sits inside the test session's), and the test would pass whatever the edge did.
    db.session.expire_all()
    assert db.session.query(Invite).count() == 0


def test_a_failing_cli_command_keeps_nothing(runner, db):
    result = runner.invoke(args=["create-user", "noor", "--role", "peer_expert", "--password", "long enough password"])
    assert result.exit_code != 0 and "first_name" in result.output
    db.session.remove()
    from supportgroup.models import User

    assert db.session.query(User).filter_by(username="noor").count() == 0


# --- load or 404, then authorize -----------------------------------------------------------------------


def _pages(group: int, meeting: int, membership: int, invite: int, conflict: int, incident: int, user: int) -> list:
    return [
        ("GET", f"/groups/{group}"),
        ("GET", f"/groups/{group}/edit"),
        ("POST", f"/groups/{group}/archive"),
        ("POST", f"/groups/{group}/members"),
        ("POST", f"/groups/{group}/moderators"),
        ("POST", f"/groups/{group}/invites"),
        ("POST", f"/groups/{group}/lookup"),
        ("GET", f"/groups/{group}/about"),
        ("POST", f"/groups/{group}/alias"),
        ("POST", f"/groups/memberships/{membership}/remove"),
        ("POST", f"/groups/memberships/{membership}/ban"),
        ("POST", f"/groups/memberships/{membership}/close-referral"),
        ("POST", f"/groups/invites/{invite}/revoke"),
        ("POST", f"/groups/conflicts/{conflict}/delete"),
        ("GET", f"/groups/pool/{user}/edit"),
        ("GET", f"/schedule/groups/{group}/meetings/new"),
        ("GET", f"/schedule/meetings/{meeting}/edit"),
        ("GET", f"/schedule/meetings/{meeting}/cancel"),
        ("GET", f"/schedule/meetings/{meeting}.ics"),
        ("POST", f"/safety/check/{meeting}"),
        ("GET", f"/safety/incidents/{incident}"),
    ]


def _answer(http, method: str, path: str):
    token = csrf_token(http, "/home")
    response = http.open(
        path,
        method=method,
        headers={"Accept": "application/json"},
        data={"csrf_token": token} if method == "POST" else None,
    )
    return response.status_code, response.get_json()


def test_a_stranger_gets_one_404_for_every_kind_of_object_that_exists_or_not(factory, login_client, db):
    scene = factory.scene()
    coordinator = scene.coordinator
    invite = invites.create_invite(scene.group, coordinator, None, None)
    conflict, _shared = conflicts.record_conflict(scene.alice, scene.bob, "", coordinator)
    incident = Incident(group_id=scene.group.id, meeting_id=scene.meeting.id, note="Noted")
    db.session.add(incident)
    db.session.commit()
    assert isinstance(conflict, EnrolmentConflict)
    real = _pages(
        scene.group.id,
        scene.meeting.id,
        scene.memberships["alice"].id,
        invite.id,
        conflict.id,
        incident.id,
        scene.expert.id,
    )
    missing = _pages(*[999999] * 7)
    factory.moderator(factory.group("Other group"), factory.user("other", Role.PEER_EXPERT))
    not_found = (404, {"ok": False, "error": {"code": "not_found", "message": "This page does not exist."}})
    for username in ("eve", "other"):  # a participant and a peer expert with no place in this group
        http = login_client(username)
        for (method, path), (_same, absent) in zip(real, missing, strict=True):
            assert _answer(http, method, path) == _answer(http, method, absent) == not_found, (username, path)
