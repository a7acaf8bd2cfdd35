"""Reading the audit log (`/admin/audit`, `/admin/audit.csv`): coordinators and admins only; filters by group,
actor, action and dates (the reader's own days), each and combined; keyset pages of a fixed number of queries;
the CSV streamed, UTF-8, in UTC, safe against formulas; every read of the log is itself a row."""

from __future__ import annotations

import contextvars
import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from supportgroup.admin import audit_csv, audit_log
from supportgroup.audit import AuditAction, record
from supportgroup.audit_labels import ACTION_GROUPS, TARGET_LABELS, action_groups
from supportgroup.labels import label
from supportgroup.models import ModerationAction, Role
from tests.chat_helpers import mod, open_room, send
from tests.scheduling_helpers import count_queries

SECRET = "a line nobody may read in the audit log"


@pytest.fixture
def people(factory):
    """A coordinator (coord), an admin (root), a peer expert (expert), participants (alice, bob), a group."""
    scene = factory.scene()
    scene.admin = factory.user("root", Role.ADMIN)
    return scene


def add_row(db, actor, action, target_type="group", target_id=1, *, at=None, group_id=None, reason=""):
    row = record(actor, action, target_type, target_id, group_id=group_id, reason=reason)
    if at is not None:
        row.created_at = at
    db.session.commit()
    return row


def shown_ids(html: str) -> list[int]:
    """The ids of the rows on the page, in order (each row's item cell links or names `#id` of its target: use
    the rows' reasons instead, which the tests set to `row <id>`)."""
    return [int(n) for n in re.findall(r'class="reason">row (\d+)</td>', html)]


def log_rows(db, action: AuditAction) -> list[ModerationAction]:
    db.session.expire_all()
    return list(db.session.scalars(select(ModerationAction).where(ModerationAction.action == action)))


# --- who may read it ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/audit", "/admin/audit.csv"])
def test_participants_and_peer_experts_are_refused(people, login_client, client, path):
    assert login_client("alice").get(path).status_code == 403
    assert login_client("expert").get(path).status_code == 403
    assert client.get(path).status_code in (302, 401)  # not logged in: to the login page


@pytest.mark.parametrize("username", ["coord", "root"])
def test_coordinators_and_admins_read_it_and_find_it_in_the_console(people, login_client, db, username):
    add_row(db, people.coordinator, AuditAction.CREATE_GROUP, "group", people.group.id, group_id=people.group.id)
    http = login_client(username)
    assert "/admin/audit" in http.get("/admin/").get_data(as_text=True)
    response = http.get("/admin/audit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Group created" in html and people.group.name in html and "coord" in html


# --- what a row shows ---------------------------------------------------------------------------------


def test_a_row_shows_when_who_with_role_what_which_item_group_and_reason(people, login_client, db):
    membership = people.memberships["alice"]
    add_row(
        db, people.coordinator, AuditAction.LOOKUP_ALIAS, "membership", membership.id, group_id=people.group.id,
        reason="police request 12",
    )  # fmt: skip
    add_row(db, None, AuditAction.SET_ROLE, "user", people.bob.id, reason="participant -> peer_expert")
    erased = add_row(db, people.expert, AuditAction.MUTE, "membership", membership.id, group_id=people.group.id)
    erased.actor_user_id, erased.actor_pseudonym = None, "0123456789abcdef0123456789abcdef"
    db.session.commit()
    html = login_client("coord").get("/admin/audit").get_data(as_text=True)
    rows = re.findall(r"<tr data-action=\"(\w+)\">(.*?)</tr>", html, re.S)
    assert [action for action, _cells in rows[:3]] == ["mute", "set_role", "lookup_alias"]  # newest first
    mute, set_role, lookup = (cells for _action, cells in rows[:3])
    assert "erased account 01234567" in mute and "(Peer expert)" in mute
    assert "system (CLI)" in set_role and "Participant → Peer expert" in set_role
    assert "coord" in lookup and "(Coordinator)" in lookup and "Alias looked up" in lookup
    assert f'href="/attendance/members/{membership.id}">Membership #{membership.id}</a>' in lookup
    assert f'href="/groups/{people.group.id}">{people.group.name}</a>' in lookup
    assert "police request 12" in lookup and "alice" not in html.split("<tbody>")[1]


def test_no_action_reaches_the_page_as_a_code():
    for action in AuditAction:
        assert str(label(action)) != action.value, f"{action} has no label in audit_labels.ACTION_LABELS"
    placed = [action for _title, actions in ACTION_GROUPS for action in actions]
    assert sorted(placed) == sorted(AuditAction) and len(placed) == len(set(placed))
    assert action_groups() == ACTION_GROUPS  # nothing left over for "Other"
    assert {"membership", "incident", "group", "meeting", "user"} <= set(TARGET_LABELS)


# --- filters ------------------------------------------------------------------------------------------


@pytest.fixture
def many(people, factory, db):
    """Rows by coord and expert, in two groups, of three actions, on three days (Amsterdam time)."""
    other = factory.group("Other group")
    day = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    made = {}
    plan = [
        ("a", people.coordinator, AuditAction.CREATE_GROUP, people.group.id, day),
        ("b", people.coordinator, AuditAction.LOOKUP_ALIAS, people.group.id, day + timedelta(days=1)),
        ("c", people.expert, AuditAction.MUTE, people.group.id, day + timedelta(days=1)),
        ("d", people.coordinator, AuditAction.LOOKUP_ALIAS, other.id, day + timedelta(days=2)),
        ("e", people.expert, AuditAction.MUTE, other.id, day + timedelta(days=2)),
        # 23:30 UTC on the 11th is 00:30 on the 12th in Amsterdam: a day of the reader's, not of UTC
        ("f", people.coordinator, AuditAction.LOOKUP_ALIAS, other.id, datetime(2025, 3, 11, 23, 30, tzinfo=UTC)),
    ]
    for name, actor, action, group_id, at in plan:
        made[name] = add_row(db, actor, action, "group", group_id, at=at, group_id=group_id)
        made[name].reason = f"row {made[name].id}"
    db.session.commit()
    people.other = other
    return people, {name: row.id for name, row in made.items()}


def ids_for(http, query: str, names: dict[str, int]) -> set[str]:
    html = http.get(f"/admin/audit?{query}").get_data(as_text=True)
    by_id = {row_id: name for name, row_id in names.items()}
    return {by_id[i] for i in shown_ids(html) if i in by_id}


def test_each_filter_and_filters_combined(many, login_client):
    people, names = many
    http = login_client("coord")
    everything = set(names)
    assert ids_for(http, "", names) == everything
    assert ids_for(http, f"group={people.other.id}", names) == {"d", "e", "f"}
    assert ids_for(http, "actor=expert", names) == {"c", "e"}
    assert ids_for(http, "actor=EXPERT ", names) == {"c", "e"}  # as a username is typed
    assert ids_for(http, "action=lookup_alias", names) == {"b", "d", "f"}
    assert ids_for(http, "since=2025-03-11&until=2025-03-11", names) == {"b", "c"}  # "f" is the 12th here
    assert ids_for(http, "since=2025-03-12", names) == {"d", "e", "f"}
    assert ids_for(http, "until=2025-03-10", names) == {"a"}
    combined = f"group={people.other.id}&actor=coord&action=lookup_alias&since=2025-03-12&until=2025-03-12"
    assert ids_for(http, combined, names) == {"d", "f"}


def test_the_dates_are_the_readers_own_days(many, login_client, db):
    people, names = many
    people.coordinator.timezone = "UTC"
    db.session.commit()
    assert ids_for(login_client("coord"), "since=2025-03-11&until=2025-03-11", names) == {"b", "c", "f"}


def test_an_unknown_account_or_dates_the_wrong_way_round_say_so_and_keep_the_filter(many, login_client):
    http = login_client("coord")
    response = http.get("/admin/audit?actor=nobody-here&action=mute")
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "There is no account with this username." in html
    assert 'value="nobody-here"' in html and '<option selected value="mute">' in html
    assert shown_ids(html) == []
    response = http.get("/admin/audit?since=2025-03-12&until=2025-03-11")
    assert response.status_code == 400 and "The end date is before the start date." in response.get_data(as_text=True)
    assert http.get("/admin/audit?since=not-a-date").status_code == 400
    for far in ("since=0001-01-01", "until=9999-12-31"):
        response = http.get(f"/admin/audit?{far}")
        assert response.status_code == 400 and "Choose a date between 2000 and 2999." in response.get_data(as_text=True)
    assert http.get("/admin/audit?action=drop_tables").status_code == 400


def test_an_erased_actor_is_found_by_the_pseudonym_the_page_shows(people, login_client, db):
    row = add_row(db, people.expert, AuditAction.MUTE, reason="row x")
    row.actor_user_id, row.actor_pseudonym = None, "fedcba9876543210fedcba9876543210"
    add_row(db, people.expert, AuditAction.MUTE, reason="another actor")
    html = login_client("coord").get("/admin/audit?actor=FEDCBA98").get_data(as_text=True)
    assert "row x" in html and "another actor" not in html


# --- pages --------------------------------------------------------------------------------------------


def test_pages_go_back_by_id_without_gaps_or_repeats(people, login_client, db):
    made = [add_row(db, people.coordinator, AuditAction.EDIT_GROUP, reason="") for _ in range(120)]
    for row in made:
        row.reason = f"row {row.id}"
    db.session.commit()
    http = login_client("coord")
    seen, url = [], "/admin/audit?action=edit_group"
    while url:
        html = http.get(url).get_data(as_text=True)
        seen.append(shown_ids(html))
        older = re.search(r'href="([^"]+)" rel="next"', html)
        url = older.group(1).replace("&amp;", "&") if older else None
        if url:
            assert "action=edit_group" in url
    assert [len(ids) for ids in seen] == [50, 50, 20]
    flat = [i for ids in seen for i in ids]
    assert flat == sorted((row.id for row in made), reverse=True)


def test_a_page_costs_the_same_queries_for_few_rows_and_a_full_page(people, login_client, db):
    http = login_client("coord")
    http.get("/admin/audit")  # warm: the login's own queries are behind us

    def page_queries() -> int:
        with count_queries() as statements:
            assert http.get("/admin/audit").status_code == 200
        return len(statements)

    for _ in range(3):
        add_row(db, people.coordinator, AuditAction.EDIT_GROUP, "group", people.group.id, group_id=people.group.id)
    few = page_queries()
    for _ in range(60):
        add_row(db, people.expert, AuditAction.MUTE, "membership", 1, group_id=people.group.id)
    full = page_queries()
    assert few == full, (few, full)
    assert full <= 8, full


# --- reading the log is recorded ------------------------------------------------------------------------


def test_each_page_read_is_recorded_with_the_filter(many, login_client, db):
    people, _names = many
    http = login_client("coord")
    http.get(f"/admin/audit?group={people.other.id}&action=lookup_alias&since=2025-03-12")
    (row,) = log_rows(db, AuditAction.VIEW_AUDIT_LOG)
    assert (row.actor_user_id, row.actor_role, row.group_id) == (people.coordinator.id, "coordinator", people.other.id)
    assert row.reason == f"group {people.other.id}; action lookup_alias; from 2025-03-12; Europe/Amsterdam"
    http.get("/admin/audit?actor=nobody-here")  # nothing shown: nothing read
    assert len(log_rows(db, AuditAction.VIEW_AUDIT_LOG)) == 1


# --- CSV ----------------------------------------------------------------------------------------------


def download(http, query: str = ""):
    """The CSV, read to its end inside the request's own context (the test client runs each request in a fresh
    one, and a streamed body is read in the request's context: a server reads it in the request's greenlet)."""
    return http.get(f"/admin/audit.csv{query}", buffered=True)


def read_csv(response) -> list[dict[str, str]]:
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(body[1:])))


def test_csv_has_a_header_the_rows_in_utc_and_no_formulas(people, login_client, db):
    typed = {"=cmd|' /C calc'!A0": "'=cmd|' /C calc'!A0", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tTab": "'\tTab"}
    for reason in typed:
        add_row(db, people.coordinator, AuditAction.REMOVE_MEMBER, "membership", 7, group_id=people.group.id,
                at=datetime(2025, 3, 10, 12, 0, 5, tzinfo=UTC), reason=reason)  # fmt: skip
    add_row(db, people.coordinator, AuditAction.EDIT_GROUP, "group", people.group.id, reason="plain, with a comma")
    response = download(login_client("coord"), "?action=remove_member")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert re.fullmatch(r'attachment; filename="audit-log-\d{8}-\d{4}\.csv"', response.headers["Content-Disposition"])
    rows = read_csv(response)
    assert list(rows[0]) == audit_csv.HEADER
    assert [r["reason"] for r in rows] == list(reversed(typed.values()))
    first = rows[0]
    assert first["time_utc"] == "2025-03-10T12:00:05Z" and first["actor_username"] == "coord"
    assert (first["actor_role"], first["action"], first["action_label"]) == (
        "coordinator",
        "remove_member",
        "Member removed from the group",
    )
    assert (first["target_type"], first["target_id"], first["group_name"]) == ("membership", "7", people.group.name)
    everything = read_csv(download(login_client("coord")))
    assert "plain, with a comma" in [r["reason"] for r in everything]


def test_csv_download_is_recorded_with_the_filter_and_holds_what_was_there_when_it_began(people, login_client, db):
    before = add_row(db, people.coordinator, AuditAction.EDIT_GROUP, "group", people.group.id, group_id=people.group.id)
    response = download(login_client("coord"), f"?group={people.group.id}")
    (row,) = log_rows(db, AuditAction.EXPORT_AUDIT_LOG)
    assert row.actor_user_id == people.coordinator.id and row.group_id == people.group.id
    assert row.reason == f"group {people.group.id}; up to #{before.id}" and row.target_id == str(before.id)
    ids = [int(r["id"]) for r in read_csv(response)]
    assert before.id in ids and row.id not in ids


def test_csv_is_streamed_a_chunk_at_a_time(people, login_client, db, monkeypatch):
    """The body is a generator: its header comes before any row is read, then one query per chunk of rows."""
    monkeypatch.setattr(audit_log, "CHUNK_ROWS", 4)
    for _ in range(10):
        add_row(db, people.coordinator, AuditAction.EDIT_GROUP)
    http = login_client("coord")

    def read_piece_by_piece():  # inside one context, as a server reads a streamed body (see `download`)
        response = FlaskClient.open(http, "/admin/audit.csv?action=edit_group", buffered=False)
        assert response.is_streamed
        reads = lambda: [s for s in statements if "FROM moderation_actions" in s]  # noqa: E731
        with count_queries() as statements:
            pieces = iter(response.response)
            assert next(pieces).startswith(b"\xef\xbb\xbfid,time_utc,") and reads() == []
            assert next(pieces).count(b"\r\n") == 4 and len(reads()) == 1
            rest = list(pieces)
        response.close()
        return rest, reads()

    rest, reads = contextvars.Context().run(read_piece_by_piece)
    assert [piece.count(b"\r\n") for piece in rest] == [4, 2] and len(reads) == 3


def test_a_bad_filter_on_the_csv_goes_back_to_the_page_that_says_why(people, login_client, db):
    response = login_client("coord").get("/admin/audit.csv?actor=nobody-here")
    assert response.status_code == 302 and "/admin/audit?actor=nobody-here" in response.headers["Location"]
    assert log_rows(db, AuditAction.EXPORT_AUDIT_LOG) == []


# --- never content ------------------------------------------------------------------------------------


def test_the_log_holds_no_message_text_on_the_page_or_in_the_csv(factory, socket_client, login_client, db):
    room = open_room(factory, socket_client)
    sent = send(room.alice_socket, room.meeting, SECRET, "alice-secret-1")
    assert mod(room, "record_incident", ids=[sent["id"]], note=SECRET)["ok"]
    assert mod(room, "delete_message", id=sent["id"])["ok"]
    assert mod(room, "remove", member=room.memberships["bob"].public_id, reason="off topic")["ok"]
    http = login_client("coord")
    page = http.get("/admin/audit").get_data(as_text=True)
    csv_text = download(http).get_data(as_text=True)
    assert "Message deleted" in page and "Incident recorded" in page and "off topic" in csv_text
    assert SECRET not in page and SECRET not in csv_text
    columns = {column.name for column in ModerationAction.__table__.columns}
    assert columns == {
        "id", "actor_user_id", "actor_pseudonym", "actor_role", "action", "target_type", "target_id", "group_id",
        "meeting_id", "reason", "created_at",
    }  # fmt: skip
