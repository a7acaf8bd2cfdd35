"""Calendar export: RFC 5545 files per meeting and the personal feed behind a secret, revocable URL."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from icalendar import Calendar

from supportgroup.models import MeetingState, Role, User
from supportgroup.scheduling import changes
from tests.scheduling_helpers import occurrences, post_form, series


@pytest.fixture
def app_overrides():
    """Most tests here check the full titles; the neutral default has its own test at the end."""
    return {"CALENDAR_TITLES": "group"}


def parse(response) -> Calendar:
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    assert response.headers["Cache-Control"] == "no-store"
    return Calendar.from_ical(response.get_data())


def events(calendar: Calendar) -> list:
    return list(calendar.walk("VEVENT"))


def assert_valid_event(event) -> None:
    for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY", "STATUS"):
        assert prop in event, prop
    for prop in ("DTSTAMP", "DTSTART", "DTEND"):
        value = event.decoded(prop)
        assert value.utcoffset() == timedelta(0), prop
        assert event[prop].to_ical().endswith(b"Z"), prop  # written in UTC form
    assert event.decoded("DTEND") > event.decoded("DTSTART")


@pytest.fixture
def scene(factory, db):
    """Group with participants alice and bob, peer expert `expert`; another group with carol; a series each."""
    group, other = factory.group("Evening group"), factory.group("Other group")
    alice = factory.member(group, factory.user("alice"))
    bob = factory.member(group, factory.user("bob"))
    factory.member(other, factory.user("carol"))
    factory.moderator(group, factory.user("expert", Role.PEER_EXPERT, first_name="Sam"))
    factory.user("coord", Role.COORDINATOR)
    mine = series(group, count=3, title="Check-in")
    series(other, count=2, title="Elsewhere")
    return {"group": group, "series": mine, "aliases": [alice.alias, bob.alias]}


def test_meeting_ics_is_valid_rfc5545(scene, login_client):
    meeting = occurrences(scene["series"])[0]
    calendar = parse(login_client("alice").get(f"/schedule/meetings/{meeting.id}.ics"))
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    (event,) = events(calendar)
    assert_valid_event(event)
    assert str(event["UID"]) == f"meeting-{meeting.id}@supportgroup"
    assert str(event["SUMMARY"]) == "Evening group: Check-in"
    assert event.decoded("DTSTART") == meeting.starts_at.astimezone(UTC)
    assert event.decoded("DTEND") == meeting.ends_at.astimezone(UTC)
    assert str(event["STATUS"]) == "CONFIRMED"


def test_meeting_ics_only_for_the_groups_members_and_staff(scene, login_client, factory):
    meeting = occurrences(scene["series"])[0]
    url = f"/schedule/meetings/{meeting.id}.ics"
    assert login_client("carol").get(url).status_code == 404
    assert login_client("expert").get(url).status_code == 200
    assert login_client("coord").get(url).status_code == 200
    assert login_client("alice").get("/schedule/meetings/999999.ics").status_code == 404


def enable_feed(http) -> None:
    assert post_form(http, "/schedule/feed", "/schedule/feed", {"enable": "1"}).status_code == 302


def token_of(db, username: str) -> str | None:
    db.session.expire_all()
    return db.session.query(User).filter_by(username=username).one().calendar_token


def test_feed_holds_my_groups_meetings_and_nothing_about_people(scene, login_client, client, db):
    alice = login_client("alice")
    assert "Your calendar feed is off" in alice.get("/schedule/feed").get_data(as_text=True)
    enable_feed(alice)
    token = token_of(db, "alice")
    assert token and len(token) >= 43
    assert f"/schedule/feed/{token}.ics" in alice.get("/schedule/feed").get_data(as_text=True)

    cancelled = occurrences(scene["series"])[1]
    changes.cancel_meeting(cancelled, None, reason="The peer expert is ill.")
    db.session.commit()

    response = client.get(f"/schedule/feed/{token}.ics")  # no login: calendar apps cannot log in
    calendar = parse(response)
    found = events(calendar)
    assert len(found) == 3
    for event in found:
        assert_valid_event(event)
        assert str(event["SUMMARY"]) == "Evening group: Check-in"
    by_uid = {str(e["UID"]): e for e in found}
    event = by_uid[f"meeting-{cancelled.id}@supportgroup"]
    assert str(event["STATUS"]) == "CANCELLED" and "The peer expert is ill." in str(event["DESCRIPTION"])
    body = response.get_data(as_text=True)
    for secret in [*scene["aliases"], "alice", "bob", "carol", "Sam", "Elsewhere", "Other group", token]:
        assert secret not in body, secret
    # UIDs stay the same from one fetch to the next, so calendar apps update rather than duplicate.
    assert {str(e["UID"]) for e in events(parse(client.get(f"/schedule/feed/{token}.ics")))} == set(by_uid)


def test_peer_experts_feed_holds_the_groups_they_moderate(scene, login_client, client, db):
    enable_feed(login_client("expert"))
    found = events(parse(client.get(f"/schedule/feed/{token_of(db, 'expert')}.ics")))
    assert {str(e["SUMMARY"]) for e in found} == {"Evening group: Check-in"} and len(found) == 3


def test_revoking_draws_a_new_token_and_the_old_url_404s(scene, login_client, client, db):
    alice = login_client("alice")
    enable_feed(alice)
    old = token_of(db, "alice")
    enable_feed(alice)  # turning on again keeps the address
    assert token_of(db, "alice") == old
    assert post_form(alice, "/schedule/feed", "/schedule/feed", {"renew": "1"}).status_code == 302
    new = token_of(db, "alice")
    assert new and new != old
    assert client.get(f"/schedule/feed/{old}.ics").status_code == 404
    assert client.get(f"/schedule/feed/{new}.ics").status_code == 200
    assert post_form(alice, "/schedule/feed", "/schedule/feed", {"disable": "1"}).status_code == 302
    assert token_of(db, "alice") is None
    assert client.get(f"/schedule/feed/{new}.ics").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/schedule/feed/.ics",
        "/schedule/feed/None.ics",
        "/schedule/feed/x.ics",
        "/schedule/feed/" + "a" * 200 + ".ics",
        "/schedule/feed/%00.ics",
    ],
)
def test_feed_without_a_valid_token_is_404(scene, client, path):
    assert client.get(path).status_code == 404


def test_feed_of_a_disabled_account_is_404(scene, login_client, client, db):
    enable_feed(login_client("alice"))
    token = token_of(db, "alice")
    user = db.session.query(User).filter_by(username="alice").one()
    user.is_enabled = False
    db.session.commit()
    assert client.get(f"/schedule/feed/{token}.ics").status_code == 404


def test_feed_settings_need_a_login(client):
    response = client.get("/schedule/feed")
    assert response.status_code in (302, 401)


def test_closed_and_open_meetings_are_confirmed_in_the_feed(scene, login_client, client, db):
    meetings = occurrences(scene["series"])
    meetings[0].state = MeetingState.OPEN
    db.session.commit()
    enable_feed(login_client("bob"))
    found = events(parse(client.get(f"/schedule/feed/{token_of(db, 'bob')}.ics")))
    assert {str(e["STATUS"]) for e in found} == {"CONFIRMED"}


def test_calendar_titles_are_neutral_by_default(app, factory, login_client):
    """A calendar seen by someone else must not reveal a support group."""
    from icalendar import Calendar

    scene = factory.scene()
    app.config["CALENDAR_TITLES"] = "neutral"
    body = login_client("alice").get(f"/schedule/meetings/{scene.meeting.id}.ics").get_data()
    calendar = Calendar.from_ical(body)
    events = list(calendar.walk("VEVENT"))
    assert [str(e["SUMMARY"]) for e in events] == ["Appointment"]
    assert str(calendar["X-WR-CALNAME"]) == "Appointments"
    assert scene.group.name.encode() not in body and b"Test meeting" not in body


def test_a_reminder_says_appointment_even_where_titles_name_the_group(scene, login_client, db):
    """A reminder pops up on a locked screen: never the group's name, though this deployment shows it in titles."""
    db.session.query(User).filter_by(username="alice").one().calendar_alarm_minutes = 60
    db.session.commit()
    meeting = occurrences(scene["series"])[0]
    (event,) = events(parse(login_client("alice").get(f"/schedule/meetings/{meeting.id}.ics")))
    assert str(event["SUMMARY"]) == "Evening group: Check-in"  # titles as the deployment chose
    (alarm,) = event.walk("VALARM")
    assert str(alarm["DESCRIPTION"]) == "Appointment"
