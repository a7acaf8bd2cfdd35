"""The coordinator's group pages (issue #14): archive with a confirmation and restore, house rules written as
text with a preview that equals the participant's page, invite links to copy, the type-ahead that finds
people to add, and "needs attention" on the overview."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from supportgroup.audit import AuditAction
from supportgroup.groups import rules_text
from supportgroup.groups.lifecycle import archive_group
from supportgroup.models import (
    Alert,
    Group,
    Incident,
    Membership,
    MembershipStatus,
    Message,
    ModerationAction,
    Report,
    Role,
)
from tests.chat_helpers import join
from tests.conftest import csrf_token


def post_form(http, page, action, data=None):
    return http.post(action, data={"csrf_token": csrf_token(http, page), **(data or {})})


def audit_rows(db, action):
    db.session.expire_all()
    return db.session.query(ModerationAction).filter_by(action=action).all()


# --- 1. archive: confirm first, list, restore --------------------------------------------------------------


def test_archiving_asks_first_and_a_restored_group_is_as_before(factory, login_client, socket_client, db):
    scene = factory.scene()
    coord = login_client("coord")
    detail = coord.get(f"/groups/{scene.group.id}").get_data(as_text=True)
    assert f'href="/groups/{scene.group.id}/archive"' in detail  # a link to a page that asks, not a one-click form
    page = coord.get(f"/groups/{scene.group.id}/archive")
    assert page.status_code == 200 and "Yes, archive the group" in page.get_data(as_text=True)
    assert "2 active participants can no longer enter its meetings." in page.get_data(as_text=True)
    db.session.refresh(scene.group)
    assert scene.group.archived_at is None  # looking at the question changes nothing

    rules_version = scene.group.rules_version
    assert post_form(coord, f"/groups/{scene.group.id}/archive", f"/groups/{scene.group.id}/archive").status_code == 302
    assert "Test group" not in coord.get("/groups/").get_data(as_text=True).split("<h1>")[1]
    archived = coord.get("/groups/archived").get_data(as_text=True)
    assert "Test group" in archived and f"/groups/{scene.group.id}/restore" in archived
    refused = socket_client("alice").emit("join", {"meeting_id": scene.meeting.id}, callback=True)
    assert refused["error"]["code"] == "group_archived"  # members cannot enter meanwhile

    assert post_form(coord, "/groups/archived", f"/groups/{scene.group.id}/restore").status_code == 302
    db.session.expire_all()
    group = db.session.get(Group, scene.group.id)
    assert group.archived_at is None and group.rules_version == rules_version
    statuses = {m.user.username: m.status for m in db.session.query(Membership).filter_by(group_id=group.id)}
    assert statuses == dict.fromkeys(("expert", "alice", "bob"), MembershipStatus.ACTIVE)
    [row] = audit_rows(db, AuditAction.RESTORE_GROUP)
    assert (row.actor_user_id, row.target_id) == (scene.coordinator.id, str(group.id))
    join(socket_client("alice"), scene.meeting)  # as before: alice takes part again
    assert "Test group" in coord.get("/groups/").get_data(as_text=True)


def test_restore_is_for_coordinators_only_and_only_of_an_archived_group(factory, login_client, db):
    scene = factory.scene()
    alice = login_client("alice")
    archive_group(scene.group, scene.coordinator)
    db.session.commit()
    assert alice.get("/groups/archived").status_code in (403, 404)
    assert post_form(alice, "/home", f"/groups/{scene.group.id}/restore").status_code in (403, 404)
    db.session.refresh(scene.group)
    assert scene.group.archived_at is not None
    coord = login_client("coord")
    post_form(coord, "/groups/archived", f"/groups/{scene.group.id}/restore")
    again = post_form(coord, "/groups/archived", f"/groups/{scene.group.id}/restore")
    assert again.status_code == 302
    assert "This group is not archived." in coord.get(again.location).get_data(as_text=True)
    assert len(audit_rows(db, AuditAction.RESTORE_GROUP)) == 1


# --- 3. house rules: text with a preview that is the participant's page ---------------------------------------

RULES = "Welcome.\nBe **kind**.\n\n- No *names*\n- More at [our site](https://example.org/?a=1&b=2)\n\n1. One\n2. Two"


def test_rules_render_as_simple_html_and_nothing_else():
    html = str(rules_text.render_rules(RULES))
    assert html == (
        "<p>Welcome.<br>Be <strong>kind</strong>.</p><ul><li>No <em>names</em></li>"
        '<li>More at <a rel="noopener noreferrer" href="https://example.org/?a=1&amp;b=2">our site</a></li></ul>'
        "<ol><li>One</li><li>Two</li></ol>"
    )
    hostile = str(rules_text.render_rules('<script>x</script> [a](javascript:alert(1)) <img src=x onerror="y">'))
    assert "<script" not in hostile and "<img" not in hostile and "href" not in hostile


def test_rules_stored_as_html_keep_showing_and_open_in_the_editor_as_text():
    legacy = "<p>Be <strong>kind</strong>.</p><ul><li>No names</li><li>Tea &amp; biscuits</li></ul><p>a<br>b</p>"
    assert str(rules_text.render_rules(legacy)) == legacy
    text = rules_text.legacy_html_to_text(legacy)
    assert text == "Be **kind**.\n\n- No names\n- Tea & biscuits\n\na\nb"
    assert str(rules_text.render_rules(text)) == legacy
    assert rules_text.same_for_readers(legacy, text)


def _settings(group, **changes):
    data = {"name": group.name, "kind": "survivors", "language": "en", "capacity": "12", "retention_days": "30"}
    return {**data, **changes}


def test_the_preview_is_exactly_what_participants_see(factory, login_client, db):
    scene = factory.scene()
    coord = login_client("coord")
    edit = f"/groups/{scene.group.id}/edit"
    page = post_form(coord, edit, edit, _settings(scene.group, house_rules=RULES, preview="1"))
    assert page.status_code == 200
    db.session.refresh(scene.group)
    assert scene.group.house_rules == "" and scene.group.rules_version == 1  # a preview saves nothing
    preview = re.search(r'id="rules-preview"[^>]*>(.*?)</div>', page.get_data(as_text=True), re.S).group(1)
    endpoint = coord.post(
        "/groups/rules-preview", data={"csrf_token": csrf_token(coord, edit), "house_rules": RULES}
    ).get_json()
    assert endpoint["html"] == preview.strip()

    assert post_form(coord, edit, edit, _settings(scene.group, house_rules=RULES)).status_code == 302
    about = login_client("alice").get(f"/groups/{scene.group.id}/about").get_data(as_text=True)
    shown = re.search(r'<div class="rules">(.*?)</div>', about, re.S).group(1)
    assert shown == preview.strip() and "<strong>kind</strong>" in shown


def test_saving_html_rules_as_text_asks_nobody_to_accept_them_again(factory, login_client, db):
    scene = factory.scene()
    scene.group.house_rules = "<p>Be <strong>kind</strong>.</p><ul><li>No names</li></ul>"
    db.session.commit()
    coord = login_client("coord")
    edit = f"/groups/{scene.group.id}/edit"
    form = coord.get(edit).get_data(as_text=True)
    assert "Be **kind**.\n\n- No names</textarea>" in form
    post_form(coord, edit, edit, _settings(scene.group, house_rules="Be **kind**.\n\n- No names"))
    db.session.refresh(scene.group)
    assert scene.group.house_rules == "Be **kind**.\n\n- No names" and scene.group.rules_version == 1
    post_form(coord, edit, edit, _settings(scene.group, house_rules="Be **kind**.\n\n- No names\n- No photos"))
    db.session.refresh(scene.group)
    assert scene.group.rules_version == 2


def test_only_staff_may_ask_for_a_rules_preview(factory, login_client):
    factory.scene()
    alice = login_client("alice")
    answer = alice.post("/groups/rules-preview", data={"csrf_token": csrf_token(alice, "/home"), "house_rules": "x"})
    assert answer.status_code in (403, 404)


# --- 4. invites: a link to copy, and the code ---------------------------------------------------------------


def test_an_invite_is_a_link_to_copy_and_a_code(factory, login_client, db):
    scene = factory.scene()
    coord = login_client("coord")
    page = f"/groups/{scene.group.id}"
    post_form(coord, page, f"/groups/{scene.group.id}/invites", {"invite-max_uses": ""})
    html = coord.get(page).get_data(as_text=True)
    code = re.search(r"<code>([^<]+)</code>", html).group(1)
    link = re.search(r'id="invite-link-(\d+)" readonly value="([^"]+)"', html)
    assert link.group(2) == f"http://localhost/groups/join/{code}"
    assert f'data-copy="invite-link-{link.group(1)}"' in html and "Copy link" in html


# --- 5. finding people to add as you type -------------------------------------------------------------------


@pytest.fixture
def app_overrides(request):
    return getattr(request, "param", {})


def test_the_type_ahead_finds_participants_by_the_start_of_their_username_members_included(factory, login_client):
    """A prefix from 3 characters on: a short substring cannot list every participant. Members are not left
    out: leaving them out would let two searches name a group's members."""
    scene = factory.scene()
    factory.user("alina")
    factory.user("malik")
    factory.user("alibaba", Role.PEER_EXPERT, first_name="Ali")
    coord = login_client("coord")
    answer = coord.get(f"/groups/{scene.group.id}/people?kind=participant&q=ALI").get_json()
    assert [r["value"] for r in answer["results"]] == ["alice", "alina"]  # alice is in the group: still listed
    assert answer["results"][1] == {"value": "alina", "label": "alina"}  # a username; never an alias
    for short in ("a", "al", "%25%25%25", "li"):
        assert coord.get(f"/groups/{scene.group.id}/people?kind=participant&q={short}").get_json()["results"] == []
    assert coord.get(f"/groups/{scene.group.id}/people?kind=participant&q=lik").get_json()["results"] == []


def test_choosing_a_member_from_the_type_ahead_is_refused_clearly(factory, login_client):
    scene = factory.scene()
    coord = login_client("coord")
    page = f"/groups/{scene.group.id}"
    refused = post_form(coord, page, f"{page}/members", {"member-username": "alice", "member-organisation": "0"})
    assert refused.status_code == 400
    assert "Already in this group, or waiting for a place." in refused.get_data(as_text=True)


def test_the_type_ahead_finds_peer_experts_by_the_start_of_their_first_name(factory, login_client):
    scene = factory.scene()
    factory.user("expert2", Role.PEER_EXPERT, first_name="Samira", trained=False)
    coord = login_client("coord")
    answer = coord.get(f"/groups/{scene.group.id}/people?kind=peer_expert&q=sam").get_json()
    assert answer["results"] == [{"value": "expert2", "label": "Samira (expert2) · not trained yet"}]  # not Sam
    for no_match in ("sa", "mir", "xpert"):
        assert coord.get(f"/groups/{scene.group.id}/people?kind=peer_expert&q={no_match}").get_json()["results"] == []
    assert [
        r["value"] for r in coord.get(f"/groups/{scene.group.id}/people?kind=peer_expert&q=exp").json["results"]
    ] == ["expert2"]  # by username too; `expert` moderates the group already


def test_each_search_is_audited_with_the_group_and_never_the_query(factory, login_client, db):
    scene = factory.scene()
    coord = login_client("coord")
    coord.get(f"/groups/{scene.group.id}/people?kind=participant&q=ali")
    coord.get(f"/groups/{scene.group.id}/people?kind=peer_expert&q=sam")
    coord.get(f"/groups/{scene.group.id}/people?kind=participant&q=al")  # too short: no search, no row
    rows = audit_rows(db, AuditAction.SEARCH_PEOPLE)
    assert [(r.actor_user_id, r.group_id, r.target_type, r.target_id, r.reason) for r in rows] == [
        (scene.coordinator.id, scene.group.id, "group", str(scene.group.id), "participant"),
        (scene.coordinator.id, scene.group.id, "group", str(scene.group.id), "peer_expert"),
    ]


@pytest.mark.parametrize("app_overrides", [{"PEOPLE_SEARCH_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_the_type_ahead_is_rate_limited_per_account(factory, login_client, db):
    scene = factory.scene()
    factory.user("coord2", Role.COORDINATOR)
    coord = login_client("coord")
    url = f"/groups/{scene.group.id}/people?kind=participant&q=ali"
    answers = [coord.get(url, headers={"Accept": "application/json"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1].get_json()["ok"] is False and b"alice" not in answers[-1].data
    assert len(audit_rows(db, AuditAction.SEARCH_PEOPLE)) == 3
    assert login_client("coord2").get(url).status_code == 200  # another coordinator, same address: not limited


def test_the_type_ahead_is_for_coordinators_only(factory, login_client):
    scene = factory.scene()
    for name in ("alice", "expert"):
        answer = login_client(name).get(f"/groups/{scene.group.id}/people?kind=participant&q=bo")
        assert answer.status_code in (403, 404) and b"bob" not in answer.data
    assert login_client("coord").get("/groups/999999/people?q=bo").status_code == 404


# --- 6. needs attention on the overview ---------------------------------------------------------------------


def test_needs_attention_lists_what_waits_with_a_link_to_act(factory, login_client, db):
    scene = factory.scene()
    pending = factory.member(scene.group, factory.user("newcomer"))
    pending.status = MembershipStatus.PENDING
    waiting = factory.member(scene.group, factory.user("patient"))
    waiting.status = MembershipStatus.WAITLISTED
    lonely = factory.group("Lonely group")
    factory.meeting(lonely, starts_in=timedelta(days=2), title="Soon")
    message = Message(
        meeting_id=scene.meeting.id, seq=1, author_membership_id=scene.memberships["alice"].id, client_id="c1", text="x"
    )
    db.session.add(message)
    db.session.flush()
    db.session.add(Alert(meeting_id=scene.meeting.id, message_id=message.id, category="danger"))
    incident = Incident(group_id=scene.group.id, meeting_id=scene.meeting.id, note="noted")
    db.session.add(incident)
    db.session.commit()
    html = login_client("coord").get("/home").get_data(as_text=True)
    items = dict(re.findall(r'<li class="attention-(\w+)">(.*?)</li>', html, re.S))
    assert "Test group: 1 request to join to approve." in items["requests"]
    assert f'href="/groups/{scene.group.id}#participants"' in items["requests"]
    assert "Test group: 1 person on the waitlist." in items["waitlist"]
    assert "Lonely group meets without a trained peer expert." in items["no_trained_moderator"]
    assert f'href="/groups/{lonely.id}#peer-experts"' in items["no_trained_moderator"]
    assert "1 open crisis alert in Test group." in items["alerts"]
    assert f'href="/groups/{scene.group.id}"' in items["alerts"]  # the meeting itself refuses coordinators
    assert f'href="/safety/incidents/{incident.id}"' in items["incident"]


def test_every_needs_attention_link_opens_for_the_coordinator(factory, login_client, db):
    scene = factory.scene()
    pending = factory.member(scene.group, factory.user("newcomer"))
    pending.status = MembershipStatus.PENDING
    factory.meeting(factory.group("Lonely group"), starts_in=timedelta(days=2), title="Soon")
    message = Message(
        meeting_id=scene.meeting.id, seq=1, author_membership_id=scene.memberships["alice"].id, client_id="c1", text="x"
    )
    db.session.add(message)
    db.session.flush()
    db.session.add(Alert(meeting_id=scene.meeting.id, message_id=message.id, category="danger"))
    db.session.add(
        Report(meeting_id=scene.meeting.id, message_id=message.id, reporter_membership_id=scene.memberships["bob"].id)
    )
    db.session.add(Incident(group_id=scene.group.id, meeting_id=scene.meeting.id, note="noted"))
    db.session.commit()
    coord = login_client("coord")
    html = coord.get("/home").get_data(as_text=True)
    items = dict(re.findall(r'<li class="attention-(\w+)">(.*?)</li>', html, re.S))
    assert set(items) == {"requests", "no_trained_moderator", "alerts", "reports", "incident"}
    for kind, item in items.items():
        [href] = re.findall(r'href="([^"]+)"', item)
        assert coord.get(href.split("#")[0]).status_code == 200, (kind, href)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_nothing_waiting_says_so(factory, login_client, lang):
    factory.user("coord", Role.COORDINATOR)
    html = login_client("coord").get(f"/home?lang={lang}").get_data(as_text=True)
    assert {"en": "Nothing is waiting for you.", "nl": "Er wacht niets op je."}[lang] in html


def test_rules_typed_in_a_browser_with_crlf_line_ends_are_saved(factory, login_client, db):
    """Browsers send a text area's line ends as CRLF; a lone CR stays refused."""
    scene = factory.scene()
    coord = login_client("coord")
    edit = f"/groups/{scene.group.id}/edit"
    typed = _settings(scene.group, house_rules="Be kind.\r\n\r\n- No names")
    assert post_form(coord, edit, edit, typed).status_code == 302
    db.session.refresh(scene.group)
    assert scene.group.house_rules == "Be kind.\n\n- No names"
    assert post_form(coord, edit, edit, _settings(scene.group, house_rules="a\rb")).status_code == 400


def test_an_archived_groups_page_offers_restore_and_no_planning(factory, login_client, db):
    scene = factory.scene()
    archive_group(scene.group, scene.coordinator)
    db.session.commit()
    html = login_client("coord").get(f"/groups/{scene.group.id}").get_data(as_text=True)
    assert "This group is archived since" in html and f"/groups/{scene.group.id}/restore" in html
    assert f"/schedule/groups/{scene.group.id}/meetings/new" not in html  # planning is refused there
    assert f'href="/groups/{scene.group.id}/archive"' not in html
