"""Reads of data that link a person to an alias or an incident are audited (NEN 7513: who looked, when, why),
and a participant sees when their alias was resolved and by which role, never by whom.

The guard at the end walks every GET page of the app as each kind of account and fails when a page shows a
participant's username together with their alias without writing a sensitive-read row in that request: a new
page (an account page listing someone's groups, say) that links the two must audit its read."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from supportgroup.audit import AuditAction, record
from supportgroup.auth.alias_reads import ALIAS_RESOLVING_ACTIONS
from supportgroup.groups import conflicts
from supportgroup.models import Incident, ModerationAction, Role, utcnow
from tests.conftest import csrf_token

# Every action that records a read (not a change): a page that shows a linked person writes one of these.
SENSITIVE_READS = {
    AuditAction.LOOKUP_ALIAS,
    AuditAction.VIEW_INCIDENT,
    AuditAction.LIST_INCIDENTS,
    AuditAction.VIEW_CONFLICTS,
    AuditAction.SEARCH_PEOPLE,
    AuditAction.VIEW_AUDIT_LOG,
    AuditAction.EXPORT_AUDIT_LOG,
}


def rows(db, action: AuditAction) -> list[ModerationAction]:
    db.session.expire_all()
    query = select(ModerationAction).where(ModerationAction.action == action).order_by(ModerationAction.id)
    return list(db.session.scalars(query))


def read_count(db) -> int:
    db.session.expire_all()
    query = select(func.count()).select_from(ModerationAction).where(ModerationAction.action.in_(SENSITIVE_READS))
    return db.session.scalar(query) or 0


def look_up(http, group, alias: str, reason: str = "safety concern reported by the peer expert"):
    page = f"/groups/{group.id}"
    token = csrf_token(http, page)
    return http.post(f"{page}/lookup", data={"csrf_token": token, "lookup-alias": alias, "lookup-reason": reason})


@pytest.fixture
def scene(factory):
    scene = factory.scene()
    scene.admin = factory.user("root", Role.ADMIN)
    return scene


# --- each sensitive read writes its row ---------------------------------------------------------------


def test_an_alias_look_up_needs_a_reason_and_writes_who_why_and_which_membership(scene, login_client, db):
    alice = scene.memberships["alice"]
    http = login_client("coord")
    refused = look_up(http, scene.group, alice.alias, reason="   ")
    assert refused.status_code == 400 and "alice" not in refused.get_data(as_text=True)
    assert rows(db, AuditAction.LOOKUP_ALIAS) == []
    shown = look_up(http, scene.group, alice.alias).get_data(as_text=True)
    assert f"{alice.alias} is the account alice." in unescape(shown)
    (row,) = rows(db, AuditAction.LOOKUP_ALIAS)
    assert (row.actor_user_id, row.actor_role, row.target_type, row.target_id, row.group_id) == (
        scene.coordinator.id, "coordinator", "membership", str(alice.id), scene.group.id,
    )  # fmt: skip
    assert row.reason == "safety concern reported by the peer expert"


def test_the_incident_list_and_each_incident_are_audited_reads(scene, login_client, db):
    incident = Incident(group_id=scene.group.id, meeting_id=scene.meeting.id, note="Calm Fox was threatened")
    db.session.add(incident)
    db.session.commit()
    http = login_client("coord")
    assert http.get("/safety/incidents/").status_code == 200
    (listed,) = rows(db, AuditAction.LIST_INCIDENTS)
    assert (listed.actor_user_id, listed.target_type, listed.target_id, listed.group_id) == (
        scene.coordinator.id, "incidents", "all", None,
    )  # fmt: skip
    assert http.get(f"/safety/incidents/?group={scene.group.id}").status_code == 200
    one_group = rows(db, AuditAction.LIST_INCIDENTS)[1]
    assert (one_group.target_id, one_group.group_id) == (str(scene.group.id), scene.group.id)
    assert http.get(f"/safety/incidents/{incident.id}").status_code == 200
    (viewed,) = rows(db, AuditAction.VIEW_INCIDENT)
    assert (viewed.target_id, viewed.group_id) == (str(incident.id), scene.group.id)
    assert "Calm Fox" not in repr([r.reason for r in rows(db, AuditAction.LIST_INCIDENTS)])
    # The peer expert of the group reads them too, and is recorded the same way; a participant is refused.
    assert login_client("expert").get("/safety/incidents/").status_code == 200
    assert rows(db, AuditAction.LIST_INCIDENTS)[-1].actor_user_id == scene.expert.id
    assert login_client("alice").get("/safety/incidents/").status_code == 403
    assert len(rows(db, AuditAction.LIST_INCIDENTS)) == 3


def test_the_keep_apart_list_is_an_audited_read(scene, login_client, db):
    conflicts.record_conflict(scene.alice, scene.eve, "former partners", scene.coordinator)
    db.session.commit()
    assert login_client("coord").get("/groups/conflicts").status_code == 200
    (row,) = rows(db, AuditAction.VIEW_CONFLICTS)
    assert row.actor_user_id == scene.coordinator.id and row.reason == "keep-apart list, 1 pairs"
    assert "former partners" not in row.reason


def test_the_people_search_is_an_audited_read_without_the_query(scene, login_client, db):
    http = login_client("coord")
    found = http.get(f"/groups/{scene.group.id}/people?q=ali").get_json()
    assert [r["value"] for r in found["results"]] == ["alice"]
    (row,) = rows(db, AuditAction.SEARCH_PEOPLE)
    assert row.group_id == scene.group.id and "ali" not in row.reason


# --- the participant's side ---------------------------------------------------------------------------


def test_a_participant_sees_when_and_by_which_role_never_who_nor_why(scene, factory, login_client, db):
    alice = scene.memberships["alice"]
    other = factory.group("Evening group")
    alice_evening = factory.member(other, scene.alice)
    factory.user("wilhelmina", Role.COORDINATOR)
    factory.user("bartholomew", Role.ADMIN)
    look_up(login_client("wilhelmina"), scene.group, alice.alias, reason="police request 12")
    look_up(login_client("bartholomew"), other, alice_evening.alias, reason="second opinion")
    look_up(login_client("wilhelmina"), scene.group, scene.memberships["bob"].alias)  # bob's: not on alice's page
    http = login_client("alice")
    settings = http.get("/account/settings").get_data(as_text=True)
    assert 'href="/account/alias-lookups"' in settings
    html = unescape(http.get("/account/alias-lookups").get_data(as_text=True))
    items = re.findall(r"<li>(.*?)</li>", html.split('id="alias-lookups"')[1].split("</ul>")[0], re.S)
    assert len(items) == 2
    assert f"In Evening group, where you are {alice_evening.alias}: looked up by an administrator." in items[0]
    assert f"In Test group, where you are {alice.alias}: looked up by a coordinator." in items[1]
    for never in ("wilhelmina", "bartholomew", "police request 12", "second opinion", scene.memberships["bob"].alias):
        assert never not in html.split("<main")[1].split("</main>")[0]


def test_the_time_is_in_the_participants_own_timezone_and_dutch_reads_well(scene, login_client, db):
    alice = scene.memberships["alice"]
    row = record(scene.coordinator, AuditAction.LOOKUP_ALIAS, "membership", alice.id, group_id=scene.group.id)
    row.created_at = alice.created_at.replace(year=alice.created_at.year + 1, month=7, day=1, hour=10, minute=5)
    scene.alice.timezone, scene.alice.locale = "America/New_York", "nl"
    db.session.commit()
    html = unescape(login_client("alice").get("/account/alias-lookups").get_data(as_text=True))
    assert "06:05" in html and "juli" in html
    assert f"In Test group, waar je {alice.alias} bent: opgezocht door een coördinator." in html


def test_the_empty_page_says_so_kindly(scene, login_client):
    html = login_client("alice").get("/account/alias-lookups").get_data(as_text=True)
    assert "Nobody has looked up which account is behind your alias." in html
    # Staff have no alias: their settings do not offer the page.
    assert "/account/alias-lookups" not in login_client("coord").get("/account/settings").get_data(as_text=True)


def test_a_look_up_older_than_the_membership_is_not_about_it(scene, login_client, db):
    """SQLite may give an erased person's membership id to a new membership: the old look-up is not theirs."""
    alice = scene.memberships["alice"]
    row = record(scene.coordinator, AuditAction.LOOKUP_ALIAS, "membership", alice.id, group_id=scene.group.id)
    row.created_at = alice.created_at - timedelta(days=3)
    db.session.commit()
    html = login_client("alice").get("/account/alias-lookups").get_data(as_text=True)
    assert 'id="alias-lookups-empty"' in html


def test_the_data_export_holds_the_same_facts(scene, login_client, db):
    alice = scene.memberships["alice"]
    look_up(login_client("coord"), scene.group, alice.alias, reason="police request 12")
    look_up(login_client("coord"), scene.group, scene.memberships["bob"].alias)
    body = login_client("alice").get("/account/export").get_data(as_text=True)
    (lookup,) = json.loads(body)["alias_lookups"]
    assert set(lookup) == {"group", "alias", "looked_up_at", "by_role"}
    assert (lookup["group"], lookup["alias"], lookup["by_role"]) == ("Test group", alice.alias, "coordinator")
    assert lookup["looked_up_at"] == rows(db, AuditAction.LOOKUP_ALIAS)[0].created_at.isoformat()
    assert "police request 12" not in body and "coord" not in body.replace('"coordinator"', "")


# --- the guard: no page links a username to an alias without an audited read ------------------------------


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _argument_values(scene, incident_id: int, invite_code: str, feed_token: str) -> dict[str, list]:
    alice = scene.memberships["alice"]
    return {
        "group_id": [scene.group.id],
        "meeting_id": [scene.meeting.id],
        "membership_id": [alice.id, scene.expert_membership.id],
        "user_id": [scene.alice.id, scene.expert.id],
        "incident_id": [incident_id],
        "code": [invite_code],
        "token": [feed_token],
        "locale": ["en", "nl"],  # the admin's helplines editor: no alias there
        "organisation_id": [1],
        "name": ["quick_exit_url"],
    }


SKIPPED_ENDPOINTS = {"static", "socketio_path_http", "socketio_path_ws", "auth.quick_exit"}


def _get_pages(app, values: dict[str, list]) -> list[str]:
    """Every GET page of the app with its arguments filled in (each value of each argument)."""
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in (rule.methods or ()) or rule.endpoint in SKIPPED_ENDPOINTS:
                continue
            missing = [name for name in rule.arguments if name not in values]
            assert not missing, f"tests/test_sensitive_reads.py: give a value for {missing} of {rule.rule}"
            choices: list[dict] = [{}]
            for name in sorted(rule.arguments):
                choices = [{**c, name: v} for c in choices for v in values[name]]
            urls += [url_for(rule.endpoint, **c) + "?q=ali" for c in choices]
    return urls


def _links_username_to_alias(text: str, username: str, alias: str) -> bool:
    return re.search(rf"\b{re.escape(username)}\b", text) is not None and alias in text


@pytest.fixture
def everything(scene, db, factory):
    """alice's alias in an incident's snapshot, an invite code, a calendar feed: every page has something."""
    from supportgroup.groups import invites
    from supportgroup.scheduling import feeds

    alice = scene.memberships["alice"]
    scene.expert_membership = next(m for m in scene.group.memberships if m.user_id == scene.expert.id)
    incident = Incident(
        group_id=scene.group.id,
        meeting_id=scene.meeting.id,
        note=f"{alice.alias} said something worrying",
        snapshot=[{"id": 1, "author": alice.alias, "text": "hello", "created_at": utcnow().isoformat()}],
    )
    db.session.add(incident)
    invite = invites.create_invite(scene.group, scene.coordinator, None, None)
    token = feeds.enable_feed(scene.alice)
    db.session.commit()
    return scene, _argument_values(scene, incident.id, invite.code, token)


@pytest.mark.parametrize("viewer", ["coord", "root", "expert", "bob"])
def test_no_page_shows_a_username_beside_an_alias_without_an_audited_read(app, everything, login_client, db, viewer):
    scene, values = everything
    alias = scene.memberships["alice"].alias
    http = login_client(viewer)
    unaudited, linked = [], []
    for url in _get_pages(app, values):
        before = read_count(db)
        response = http.get(url, buffered=True)  # a streamed body (the CSV) is read in its own request
        if response.status_code != 200:
            continue
        if _links_username_to_alias(_visible(response.get_data(as_text=True)), "alice", alias):
            linked.append(url)
            if read_count(db) == before:
                unaudited.append(url)
    assert unaudited == [], f"as {viewer}, these pages show alice's username next to her alias unaudited"
    # The guard sees such a page when there is one: the look-up's answer (a POST) links the two, audited.
    if viewer in ("coord", "root"):
        before = read_count(db)
        shown = _visible(look_up(http, scene.group, alias).get_data(as_text=True))
        assert _links_username_to_alias(shown, "alice", alias) and read_count(db) == before + 1


def test_the_participants_page_counts_every_alias_resolving_action():
    """A new read that resolves an alias to an account belongs in both lists: the guard's and the participant's."""
    assert set(ALIAS_RESOLVING_ACTIONS) <= SENSITIVE_READS
    assert AuditAction.LOOKUP_ALIAS in ALIAS_RESOLVING_ACTIONS
