"""Issue #11, "Small ones": characters that are not text, text that shows nothing, ids that tell strangers what
exists, and wall-clock times that daylight saving skips or repeats."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from supportgroup.errors import DomainError
from supportgroup.models import HandoverNote, Incident, Meeting, MeetingState, Message, Mute, Report, Role
from supportgroup.scheduling import changes, series, zones
from tests.chat_helpers import mod, open_room, send
from tests.conftest import csrf_token
from tests.scheduling_helpers import last_sunday, next_year, post_form

SURROGATE, NONCHARACTER, NUL = "\ud800", "\uffff", "\x00"
INVISIBLE = ["\u200b", "\u200d\ufeff", " \u2060\u200c ", "\u3164", "\u2800", "\ufe0f"]


def counts(db) -> tuple:
    return tuple(db.session.query(model).count() for model in (Message, Report, Mute, Incident, HandoverNote))


# --- Socket payloads: every text field of every event ------------------------------------------------------


def text_events(scene, text: str) -> list[tuple]:
    """(socket, event, payload) for every event that carries text, with `text` in its text field."""
    meeting_id, alice_id = scene.meeting.id, scene.memberships["alice"].public_id
    chat = {"meeting_id": meeting_id, "client_id": "client-bad-0001", "text": text}
    return [
        (scene.alice_socket, "send", chat),
        (scene.alice_socket, "whisper", chat),
        (scene.alice_socket, "report", {"meeting_id": meeting_id, "id": 1, "reason": text}),
        (scene.expert_socket, "whisper", {**chat, "to": alice_id}),
        (scene.expert_socket, "backchannel", chat),
        (scene.expert_socket, "announce", chat),
        (scene.expert_socket, "mute", {"meeting_id": meeting_id, "member": alice_id, "reason": text}),
        (scene.expert_socket, "remove", {"meeting_id": meeting_id, "member": alice_id, "reason": text}),
        (scene.expert_socket, "ban", {"meeting_id": meeting_id, "member": alice_id, "reason": text}),
        (scene.expert_socket, "reject", {"meeting_id": meeting_id, "id": 1, "reason": text}),
        (scene.expert_socket, "record_incident", {"meeting_id": meeting_id, "ids": [1], "note": text}),
        (scene.expert_socket, "handover_note", {"meeting_id": meeting_id, "note": text}),
    ]


@pytest.mark.parametrize("bad", [SURROGATE, NONCHARACTER, "\U0010ffff", NUL, "\x1b[2J", "\u0085"])
def test_every_socket_text_field_refuses_characters_that_are_not_text(factory, socket_client, db, bad):
    scene = open_room(factory, socket_client)
    assert send(scene.alice_socket, scene.meeting, "First")["ok"]
    before = counts(db)
    for sio, event, payload in text_events(scene, f"before {bad} after"):
        ack = sio.emit(event, payload, callback=True)
        assert ack["ok"] is False and ack["error"]["code"] == "invalid_characters", (event, ack)
        assert ack["error"]["message"]
    assert counts(db) == before


@pytest.mark.parametrize("invisible", INVISIBLE)
def test_text_that_shows_nothing_is_empty(factory, socket_client, db, invisible):
    scene = open_room(factory, socket_client)
    assert send(scene.alice_socket, scene.meeting, "First")["ok"]
    before = counts(db)
    expected = {
        "send": "empty_message",
        "whisper": "empty_message",
        "backchannel": "empty_message",
        "announce": "empty_message",
        "report": "reason_required",
        "record_incident": "note_required",
        "handover_note": "note_required",
    }
    for sio, event, payload in text_events(scene, invisible):
        if event in expected:
            ack = sio.emit(event, payload, callback=True)
            assert ack["ok"] is False and ack["error"]["code"] == expected[event], (event, ack)
    assert counts(db) == before
    # An optional reason that shows nothing is no reason: the mute works, with an empty reason.
    ack = mod(scene, "mute", member=scene.memberships["alice"].public_id, reason=invisible)
    assert ack["ok"]
    assert db.session.query(Mute).one().reason == ""


def test_invisible_characters_inside_visible_text_are_kept(factory, socket_client, db):
    scene = open_room(factory, socket_client)
    for n, text in enumerate(["\U0001f469\u200d\U0001f4bb", "\u2764\ufe0f", "x\u200by"]):
        assert send(scene.alice_socket, scene.meeting, text, client_id=f"client-zwj-{n:04d}")["ok"]
    stored = [m.text for m in db.session.query(Message).order_by(Message.seq)]
    assert stored == ["\U0001f469\u200d\U0001f4bb", "\u2764\ufe0f", "x\u200by"]


# --- Web forms -------------------------------------------------------------------------------------------


def test_login_and_register_with_control_characters_answer_with_a_form_error(factory, client):
    factory.user("alice")
    for path, extra in (("/login", {}), ("/register", {"confirm": "a long enough password"})):
        for name in ("ali\x00ce", "ali\x1bce", "ali\u0085ce"):
            response = client.post(
                path,
                data={
                    "csrf_token": csrf_token(client, path),
                    "username": name,
                    "password": "a long enough password",
                    **extra,
                },
            )
            assert response.status_code in (200, 400), (path, name, response.status_code)
            assert "characters that are not allowed" in response.get_data(as_text=True)


def test_broken_utf8_in_a_form_body_is_replaced_not_a_server_error(factory, client):
    """Werkzeug decodes form bodies with errors="replace": an encoded surrogate arrives as U+FFFD."""
    factory.user("alice")
    for path, extra in (("/login", b""), ("/register", b"&confirm=a+long+enough+password")):
        token = csrf_token(client, path).encode()
        body = b"csrf_token=" + token + b"&username=ab%ED%A0%80cd&password=a+long+enough+password" + extra
        response = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert response.status_code in (200, 400), (path, response.status_code)


def test_every_form_text_field_refuses_control_characters_and_invisible_only_values(factory, login_client, db):
    scene = factory.scene(MeetingState.SCHEDULED)
    coordinator = login_client("coord")
    cancel = f"/schedule/meetings/{scene.meeting.id}/cancel"
    for reason, message in (
        ("Ill\x00ness", "characters that are not allowed"),
        ("\u200b\u200b", "Tell the members why the meeting is cancelled."),
    ):
        response = post_form(coordinator, cancel, cancel, {"reason": reason, "scope": "this"})
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert db.session.get(Meeting, scene.meeting.id).state == MeetingState.SCHEDULED
    # A text area keeps newlines and tabs; a one-line field refuses them.
    response = post_form(
        coordinator,
        "/groups/new",
        "/groups/new",
        {
            "name": "Tuesday\tgroup",
            "kind": "survivors",
            "language": "en",
            "capacity": "8",
            "description": "Line one\n\tLine two",
        },
    )
    assert response.status_code == 200 and "characters that are not allowed" in response.get_data(as_text=True)
    response = post_form(
        coordinator,
        "/groups/new",
        "/groups/new",
        {"name": "\u200b", "kind": "survivors", "language": "en", "capacity": "8"},
    )
    assert "This field is required." in response.get_data(as_text=True)
    response = post_form(
        coordinator,
        "/groups/new",
        "/groups/new",
        {
            "name": "Tuesday group",
            "kind": "survivors",
            "language": "en",
            "capacity": "8",
            "description": "Line one\n\tLine two",
        },
    )
    assert response.status_code == 302


# --- Guessed ids: the same answer whether the object exists or not -------------------------------------------


def _json(http, method: str, path: str):
    token = csrf_token(http, "/home")
    response = http.open(
        path,
        method=method,
        headers={"Accept": "application/json"},
        data={"csrf_token": token} if method == "POST" else None,
    )
    return response.status_code, response.get_json()


def _id_pages(meeting_id: int, group_id: int, membership_id: int, incident_id: int, user_id: int) -> list:
    return [
        ("GET", f"/meetings/{meeting_id}"),
        ("POST", f"/meetings/{meeting_id}/open"),
        ("POST", f"/meetings/{meeting_id}/close"),
        ("POST", f"/safety/check/{meeting_id}"),
        ("GET", f"/schedule/meetings/{meeting_id}.ics"),
        ("GET", f"/schedule/meetings/{meeting_id}/edit"),
        ("GET", f"/schedule/meetings/{meeting_id}/cancel"),
        ("GET", f"/schedule/meetings/{meeting_id}/open-early"),
        ("GET", f"/schedule/groups/{group_id}/meetings/new"),
        ("GET", f"/attendance/meetings/{meeting_id}"),
        ("GET", f"/attendance/groups/{group_id}"),
        ("GET", f"/attendance/members/{membership_id}"),
        ("GET", f"/groups/{group_id}"),
        ("GET", f"/groups/{group_id}/edit"),
        ("GET", f"/groups/{group_id}/about"),
        ("POST", f"/groups/{group_id}/rules"),
        ("POST", f"/groups/{group_id}/leave"),
        ("POST", f"/groups/memberships/{membership_id}/approve"),
        ("GET", f"/safety/incidents/{incident_id}"),
        ("GET", f"/groups/pool/{user_id}/edit"),
    ]


def test_a_stranger_gets_the_same_404_for_ids_that_exist_and_ids_that_do_not(factory, socket_client, login_client, db):
    scene = open_room(factory, socket_client)
    assert send(scene.alice_socket, scene.meeting, "First")["ok"]
    assert mod(scene, "record_incident", ids=[1], note="Noted")["ok"]
    incident = db.session.query(Incident).one()
    real = _id_pages(scene.meeting.id, scene.group.id, scene.memberships["alice"].id, incident.id, scene.expert.id)
    missing = _id_pages(999999, 999999, 999999, 999999, 999999)
    other_expert = factory.user("other", Role.PEER_EXPERT)
    factory.moderator(factory.group("Other group"), other_expert)
    for username in ("eve", "other"):  # a participant and a peer expert with no place in this group
        http = login_client(username)
        for (method, path), (_same, absent) in zip(real, missing, strict=True):
            assert (
                _json(http, method, path)
                == _json(http, method, absent)
                == (404, {"ok": False, "error": {"code": "not_found", "message": "This page does not exist."}})
            ), (username, path)


@pytest.mark.parametrize("app_overrides", [{"SOCKET_EVENT_RATE_LIMIT": "100 per 10 seconds"}])
def test_a_stranger_gets_the_same_socket_answer_for_meetings_that_exist_and_do_not(factory, socket_client):
    scene = open_room(factory, socket_client)
    eve = socket_client("eve")
    events = [
        ("join", {}),
        ("send", {"client_id": "client-eve-0001", "text": "hi"}),
        ("whisper", {"client_id": "client-eve-0001", "text": "hi"}),
        ("delete_message", {"id": 1}),
        ("report", {"id": 1, "reason": "why"}),
        ("raise_hand", {}),
        ("lower_hand", {}),
        ("announce", {"client_id": "client-eve-0001", "text": "hi"}),
        ("close", {}),
        ("mute", {"member": scene.memberships["alice"].public_id}),
        ("handover_note", {"note": "n"}),
    ]
    for event, payload in events:
        acks = [
            eve.emit(event, {"meeting_id": meeting_id, **payload}, callback=True)
            for meeting_id in (scene.meeting.id, 999999)
        ]
        assert acks[0] == acks[1], (event, acks)
        assert acks[0]["error"]["code"] in ("meeting_not_found", "not_joined"), (event, acks)


def test_staff_still_learn_they_are_not_members(factory, login_client):
    scene = factory.scene()
    status, body = _json(login_client("coord"), "GET", f"/meetings/{scene.meeting.id}")
    assert status == 403 and body["error"]["code"] == "not_member"


# --- Wall-clock times that daylight saving skips or repeats ----------------------------------------------------


def _plan(http, group, **fields):
    page = f"/schedule/groups/{group.id}/meetings/new"
    data = {
        "duration_minutes": "90",
        "timezone": "Europe/Amsterdam",
        "repeat": "once",
        "interval": "1",
        "weekday": "6",
        "week_of_month": "1",
        **fields,
    }
    return post_form(http, page, page, data)


@pytest.mark.parametrize(
    "lang,skipped,repeated",
    [
        (
            "en",
            "02:30 does not exist in Europe/Amsterdam on March {d}, {y}: the clocks go forward then.",
            "02:30 happens twice in Europe/Amsterdam on October {d}, {y}: the clocks go back then.",
        ),
        (
            "nl",
            "02:30 bestaat niet in Europe/Amsterdam op {d} maart {y}: de klok gaat dan een uur vooruit.",
            "02:30 komt twee keer voor in Europe/Amsterdam op {d} oktober {y}: de klok gaat dan een uur terug.",
        ),
    ],
)
def test_a_meeting_at_a_time_that_does_not_exist_or_happens_twice_is_refused_with_the_reason(
    factory, login_client, db, lang, skipped, repeated
):
    group = factory.group()
    factory.user("coord", Role.COORDINATOR)
    http = login_client("coord")
    http.get(f"/home?lang={lang}")
    year = next_year()
    spring, autumn = last_sunday(year, 3), last_sunday(year, 10)
    for day, message in ((spring, skipped), (autumn, repeated)):
        response = _plan(http, group, starts_on=day.isoformat(), local_start="02:30")
        assert response.status_code == 400
        assert message.format(d=day.day, y=year) in response.get_data(as_text=True)
    # A series: the start time is refused, naming the dates it falls on.
    response = _plan(
        http,
        group,
        starts_on=(spring - timedelta(days=14)).isoformat(),
        local_start="02:30",
        repeat="weekly",
        count="4",
    )
    assert response.status_code == 400
    assert skipped.format(d=spring.day, y=year) in response.get_data(as_text=True)
    assert db.session.query(Meeting).count() == 0
    # Half an hour later, or on another day, it is fine.
    assert _plan(http, group, starts_on=spring.isoformat(), local_start="03:00").status_code == 302
    assert (
        _plan(http, group, starts_on=(spring - timedelta(days=7)).isoformat(), local_start="02:30").status_code == 302
    )


def test_moving_a_series_to_a_skipped_time_names_the_dates(factory, db):
    group = factory.group()
    year = next_year()
    spring = last_sunday(year, 3)
    made = series.create_series(
        group,
        title="Night",
        frequency="weekly",
        interval=1,
        weekday=6,
        week_of_month=None,
        local_start=time(20, 0),
        duration_minutes=60,
        tz_name="Europe/Amsterdam",
        starts_on=spring - timedelta(days=14),
        count=4,
    )
    db.session.commit()
    first = db.session.query(Meeting).filter_by(series_id=made.id).order_by(Meeting.starts_at).first()
    coordinator = factory.user("coord", Role.COORDINATOR)
    with pytest.raises(DomainError) as refused:
        changes.edit_meeting(
            first,
            coordinator,
            title="Night",
            duration_minutes=60,
            tz_name="Europe/Amsterdam",
            local_start=zones.local_start_of(first).replace(hour=2, minute=30),
            scope=changes.SCOPE_FOLLOWING,
        )
    assert refused.value.field == "local_start"
    assert f"March {spring.day}, {year}" in str(refused.value.message)
    db.session.rollback()


def test_wall_clock_problems_in_other_zones():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from supportgroup.scheduling.wallclock import REPEATED, SKIPPED, problem

    assert problem(datetime(2026, 3, 8, 2, 30), ZoneInfo("America/New_York")) == SKIPPED
    assert problem(datetime(2026, 11, 1, 1, 30), ZoneInfo("America/New_York")) == REPEATED
    assert problem(datetime(2011, 12, 30, 12, 0), ZoneInfo("Pacific/Apia")) == SKIPPED  # a whole day skipped
    assert problem(datetime(2026, 3, 29, 2, 30), ZoneInfo("UTC")) is None
    assert problem(datetime(2026, 3, 29, 2, 30), ZoneInfo("Asia/Kolkata")) is None
    assert date(2026, 3, 29).weekday() == 6
