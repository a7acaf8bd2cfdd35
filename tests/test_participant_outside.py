"""The participant outside a meeting (#14): an invite that survives logging in and registering, "My groups"
with links, the next meeting as a card, a reminder in calendar files, the timezone list, the help panel's
helplines, the data export's warning and what registration says about a lost password."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from supportgroup.groups import invites
from supportgroup.models import Meeting, MeetingState, Membership, MembershipStatus, Role, User, utcnow
from supportgroup.scheduling import next_up
from tests.conftest import DEFAULT_PASSWORD, csrf_token

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def href_of(page: str, text: str) -> str:
    """The href of the link in the page's main content whose text is `text`."""
    match = re.search(r'<a href="([^"]*)">' + re.escape(text) + "</a>", page.split("<main", 1)[1])
    assert match, text
    return match.group(1).replace("&amp;", "&")


def register(client, username: str, query: str = ""):
    token = csrf_token(client, f"/register{query}")
    data = {"csrf_token": token, "username": username, "password": DEFAULT_PASSWORD, "confirm": DEFAULT_PASSWORD}
    return client.post(f"/register{query}", data=data)


def login(client, username: str, query: str = ""):
    token = csrf_token(client, f"/login{query}")
    return client.post(f"/login{query}", data={"csrf_token": token, "username": username, "password": DEFAULT_PASSWORD})


@pytest.fixture
def invite(factory, db):
    group = factory.group("Thursday evening group")
    made = invites.create_invite(group, factory.user("coord", Role.COORDINATOR), None, None)
    db.session.commit()
    return made


# --- 1. the invite survives registering and logging in ------------------------------------------------


def test_an_invite_opened_logged_out_survives_registration_and_lands_on_the_group(client, invite, db):
    link = f"/groups/join/{invite.code}"
    to_login = client.get(link)
    assert to_login.status_code == 302
    login_url = to_login.headers["Location"]
    assert login_url.startswith("/login?next=")
    login_page = client.get(login_url).get_data(as_text=True)
    assert 'id="invite-note"' in login_page
    assert "Please log in to see this page." not in login_page  # the invite note says it instead
    # The "Register" link carries the invite on.
    register_link = urlsplit(href_of(login_page, "Register"))
    assert register_link.path == "/register" and parse_qs(register_link.query) == {"next": [link]}
    menu = login_page.split("<nav", 1)[1].split("</nav>", 1)[0]  # the menu's link too
    assert f'href="/register?next={link}"' in menu

    registered = register(client, "new_person", f"?next={quote(link, safe='')}")
    # The recovery codes come first (shown once); "I have saved them, continue" goes on to the invite.
    assert registered.status_code == 200 and f'id="codes-saved" href="{link}"' in registered.get_data(as_text=True)
    page = client.get(link).get_data(as_text=True)
    assert "Thursday evening group" in page and 'id="invited-to"' in page
    joined = client.post("/groups/join", data={"csrf_token": csrf_token(client, link), "code": invite.code})
    assert joined.status_code == 302 and joined.headers["Location"] == f"/groups/{invite.group_id}/about"
    membership = db.session.query(Membership).join(Membership.user).filter(User.username == "new_person").one()
    assert membership.status == MembershipStatus.ACTIVE and membership.group_id == invite.group_id


def test_an_invite_survives_logging_in(client, invite, factory):
    factory.user("returning")
    link = f"/groups/join/{invite.code}"
    response = login(client, "returning", f"?next={quote(link, safe='')}")
    assert response.status_code == 302 and response.headers["Location"] == link
    assert "Thursday evening group" in client.get(link).get_data(as_text=True)


def test_a_member_who_opens_the_invite_again_goes_straight_to_the_group(invite, factory, login_client):
    factory.member(invite.group, factory.user("already"))
    response = login_client("already").get(f"/groups/join/{invite.code}")
    assert response.status_code == 302 and response.headers["Location"] == f"/groups/{invite.group_id}/about"


def test_a_withdrawn_invite_link_says_so(invite, factory, login_client, db):
    invites.revoke_invite(invite)
    db.session.commit()
    factory.user("late")
    page = login_client("late").get(f"/groups/join/{invite.code}")
    assert page.status_code == 400 and "withdrawn" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/groups/join/x",
        "//evil.example/groups/join/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "/groups/join/x\r\nSet-Cookie: a=b",
        "groups/join/x",
    ],
)
def test_registration_never_redirects_off_the_site(client, target):
    response = register(client, "careful_one", f"?next={quote(target, safe='')}")
    assert response.status_code == 200 and 'id="codes-saved" href="/home"' in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_the_register_link_carries_no_foreign_next(client, target):
    page = client.get(f"/login?next={quote(target, safe='')}").get_data(as_text=True)
    assert href_of(page, "Register") == "/register" and "evil" not in page.split("<main", 1)[1]


# --- 2. "My groups" links to each group ---------------------------------------------------------------


def test_my_groups_links_every_group_to_its_page(factory, login_client):
    one, two = factory.group("Monday group"), factory.group("Friday group", capacity=1)
    alice = factory.user("alice")
    factory.member(one, alice)
    factory.member(two, factory.user("bob"))
    factory.member(two, alice)  # full: alice waits
    page = login_client("alice").get("/home").get_data(as_text=True)
    assert f'href="/groups/{one.id}/about"' in page and f'href="/groups/{two.id}/about"' in page
    assert login_client("alice").get(f"/groups/{two.id}/about").status_code == 200


# --- 3. the next meeting as a card --------------------------------------------------------------------


def test_home_and_my_meetings_show_the_next_meeting_as_a_card(factory, login_client, db):
    group = factory.group("Evening group")
    factory.member(group, factory.user("alice"))
    factory.meeting(group, MeetingState.CANCELLED, starts_in=timedelta(hours=1), title="Off")
    factory.meeting(group, MeetingState.SCHEDULED, starts_in=timedelta(days=9), title="Later")
    soon = factory.meeting(group, MeetingState.SCHEDULED, starts_in=timedelta(hours=3, minutes=5), title="Check-in")
    http = login_client("alice")
    for path in ("/home", "/schedule/mine"):
        page = http.get(path).get_data(as_text=True)
        card = page.split('id="next-meeting"', 1)[1].split("</section>", 1)[0]
        assert "Evening group: Check-in" in card
        local = soon.starts_at.astimezone(AMSTERDAM)
        assert f"{local:%H:%M}–" in card  # 24-hour time on the viewer's clock
        assert "Starts in 3 hours" in card
        assert f'href="/meetings/{soon.id}"' not in card  # no button before it opens
    soon.state = MeetingState.OPEN
    db.session.commit()
    card = http.get("/home").get_data(as_text=True).split('id="next-meeting"', 1)[1].split("</section>", 1)[0]
    assert "Open now" in card and f'href="/meetings/{soon.id}"' in card and "Go to the meeting" in card


def test_no_card_without_a_coming_meeting(factory, login_client):
    group = factory.group()
    factory.member(group, factory.user("alice"))
    factory.meeting(group, MeetingState.CANCELLED, starts_in=timedelta(hours=2))
    assert 'id="next-meeting"' not in login_client("alice").get("/home").get_data(as_text=True)


def test_the_card_in_dutch_uses_a_24_hour_clock(factory, login_client, db):
    group = factory.group("Avondgroep")
    factory.member(group, factory.user("alice"))
    meeting = factory.meeting(group, MeetingState.SCHEDULED, starts_in=timedelta(days=3), title="")
    page = login_client("alice").get("/home?lang=nl").get_data(as_text=True)
    card = page.split('id="next-meeting"', 1)[1].split("</section>", 1)[0]
    assert "Je volgende bijeenkomst" in card and "Begint over" in card
    local = meeting.starts_at.astimezone(AMSTERDAM)
    assert f"{local:%H:%M}" in card and " PM" not in card and " AM" not in card


def _meeting(state: MeetingState, starts_at) -> Meeting:
    meeting = Meeting(starts_at=starts_at, duration_minutes=90, state=state, timezone="Europe/Amsterdam", title="")
    meeting.id = 1
    return meeting


@pytest.mark.parametrize(
    "left,text",
    [
        (timedelta(seconds=30), "Starts any moment"),
        (timedelta(minutes=-10), "Starts any moment"),
        (timedelta(minutes=1, seconds=30), "Starts in 2 minutes"),
        (timedelta(minutes=59), "Starts in 59 minutes"),
        (timedelta(minutes=61), "Starts in 1 hour"),
        (timedelta(hours=5, minutes=40), "Starts in 6 hours"),
    ],
)
def test_countdown_text(app, left, text):
    now = utcnow().replace(hour=9, minute=0, second=0, microsecond=0)  # 10:00 in Amsterdam: one day throughout
    with app.test_request_context():
        assert next_up.countdown(_meeting(MeetingState.SCHEDULED, now + left), now).startswith(text)


def test_countdown_in_days_counts_calendar_days_on_the_viewers_clock(app):
    now = utcnow().replace(hour=8, minute=0, second=0, microsecond=0)  # 09:00 or 10:00 in Amsterdam

    def text(state: MeetingState, left: timedelta) -> str:
        return next_up.countdown(_meeting(state, now + left), now)

    with app.test_request_context():
        assert text(MeetingState.SCHEDULED, timedelta(hours=23)) == "Starts in 23 hours"
        assert text(MeetingState.SCHEDULED, timedelta(hours=26)) == "Starts tomorrow"
        assert text(MeetingState.SCHEDULED, timedelta(days=3)) == "Starts in 3 days"
        assert text(MeetingState.OPEN, timedelta(minutes=-5)) == "Open now"


def test_pick_prefers_an_open_meeting_and_skips_ended_and_cancelled_ones():
    now = utcnow()
    ended = _meeting(MeetingState.SCHEDULED, now - timedelta(hours=3))
    cancelled = _meeting(MeetingState.CANCELLED, now + timedelta(hours=1))
    later = _meeting(MeetingState.SCHEDULED, now + timedelta(hours=2))
    opened = _meeting(MeetingState.OPEN, now + timedelta(hours=5))
    assert next_up.pick([ended, cancelled, later], now) is later
    assert next_up.pick([ended, cancelled, later, opened], now) is opened
    assert next_up.pick([ended, cancelled], now) is None


# --- 4. a reminder in calendar files ------------------------------------------------------------------


def _set_alarm(http, value: str):
    token = csrf_token(http, "/schedule/feed")
    return http.post("/schedule/feed", data={"alarm-csrf_token": token, "alarm-alarm": value, "alarm-save": "1"})


def _feed(http, db, username: str) -> Calendar:
    _enable = http.post("/schedule/feed", data={"csrf_token": csrf_token(http, "/schedule/feed"), "enable": "1"})
    token = db.session.query(User).filter_by(username=username).one().calendar_token
    response = http.get(f"/schedule/feed/{token}.ics")
    assert response.status_code == 200
    return Calendar.from_ical(response.get_data())


@pytest.fixture
def alarm_scene(factory):
    group = factory.group("Evening group")
    factory.member(group, factory.user("alice"))
    planned = factory.meeting(group, MeetingState.SCHEDULED, starts_in=timedelta(days=2), title="Check-in")
    cancelled = factory.meeting(group, MeetingState.CANCELLED, starts_in=timedelta(days=3), title="Off")
    return planned, cancelled


@pytest.mark.parametrize("value,trigger", [("15", b"-PT15M"), ("60", b"-PT1H"), ("1440", b"-P1D")])
def test_the_chosen_reminder_is_a_valarm_with_the_neutral_title(alarm_scene, login_client, db, value, trigger):
    planned, cancelled = alarm_scene
    http = login_client("alice")
    saved = _set_alarm(http, value)
    assert saved.status_code == 302
    assert db.session.query(User).filter_by(username="alice").one().calendar_alarm_minutes == int(value)
    body = http.get(f"/schedule/meetings/{planned.id}.ics").get_data()
    assert b"BEGIN:VALARM" in body and b"ACTION:DISPLAY" in body and b"TRIGGER:" + trigger in body
    assert b"Evening group" not in body and b"Check-in" not in body  # neutral everywhere, the alarm too
    feed = _feed(http, db, "alice")
    by_uid = {str(e["UID"]): e for e in feed.walk("VEVENT")}
    alarms = by_uid[f"meeting-{planned.id}@supportgroup"].walk("VALARM")
    assert len(alarms) == 1 and str(alarms[0]["DESCRIPTION"]) == "Appointment"
    assert str(by_uid[f"meeting-{planned.id}@supportgroup"]["SUMMARY"]) == "Appointment"
    assert alarms[0].decoded("TRIGGER") == -timedelta(minutes=int(value))
    assert by_uid[f"meeting-{cancelled.id}@supportgroup"].walk("VALARM") == []  # no reminder for what is off


def test_no_reminder_by_default_and_after_choosing_none(alarm_scene, login_client, db):
    planned, _cancelled = alarm_scene
    http = login_client("alice")
    assert b"VALARM" not in http.get(f"/schedule/meetings/{planned.id}.ics").get_data()
    _set_alarm(http, "60")
    assert _set_alarm(http, "").status_code == 302
    assert db.session.query(User).filter_by(username="alice").one().calendar_alarm_minutes is None
    assert b"VALARM" not in http.get(f"/schedule/meetings/{planned.id}.ics").get_data()


def test_a_reminder_not_in_the_list_is_refused(alarm_scene, login_client, db):
    http = login_client("alice")
    response = _set_alarm(http, "5")
    assert response.status_code == 400
    alice = db.session.query(User).filter_by(username="alice").one()
    assert alice.calendar_alarm_minutes is None
    assert alice.calendar_token is None  # the feed's own form did not act on the reminder's post


def test_the_feed_page_says_what_the_calendar_shows(alarm_scene, login_client):
    page = login_client("alice").get("/schedule/feed").get_data(as_text=True)
    assert 'only as "Appointment"' in page or "only as &#34;Appointment&#34;" in page
    assert 'name="alarm-alarm"' in page


# --- 5. the timezone from a list ----------------------------------------------------------------------


def test_the_timezone_is_chosen_from_a_grouped_list_amsterdam_first(factory, login_client, db):
    factory.user("alice")
    http = login_client("alice")
    page = http.get("/account/settings").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="timezone"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert "<optgroup" in select
    first = select.split("<option", 2)[1]
    assert 'value="Europe/Amsterdam"' in first and "selected" in first
    assert 'value="Asia/Tokyo"' in select and 'value="US/Pacific"' not in select
    token = csrf_token(http, "/account/settings")
    saved = http.post("/account/settings", data={"csrf_token": token, "timezone": "Europe/Brussels", "locale": ""})
    assert saved.status_code == 302
    assert db.session.query(User).filter_by(username="alice").one().timezone == "Europe/Brussels"
    refused = http.post("/account/settings", data={"csrf_token": token, "timezone": "Mars/Base", "locale": ""})
    assert refused.status_code == 400 and "Unknown timezone" in refused.get_data(as_text=True)


def test_a_zone_someone_already_has_stays_in_the_list(factory, login_client, db):
    user = factory.user("alice")
    user.timezone = "US/Pacific"
    db.session.commit()
    page = login_client("alice").get("/account/settings").get_data(as_text=True)
    assert '<option selected value="US/Pacific">' in page


# --- 6. the help panel's helplines and the data export's warning ---------------------------------------


def test_the_help_panel_lists_113_next_to_veilig_thuis_and_112_in_dutch(client):
    page = client.get("/login?lang=nl").get_data(as_text=True)
    panel = page.split('id="help-panel"', 1)[1].split("</section>", 1)[0]
    assert "113 Zelfmoordpreventie" in panel and 'href="tel:08000113"' in panel and "24/7" in panel
    assert panel.index("Veilig Thuis") < panel.index("113 Zelfmoordpreventie") < panel.index('href="tel:112"')


def test_the_data_export_warns_that_the_file_stays_on_the_device(factory, login_client):
    factory.user("alice")
    http = login_client("alice")
    assert "Downloads" in http.get("/account/settings").get_data(as_text=True)
    assert "Downloads" in http.get("/account/settings?lang=nl").get_data(as_text=True)
    assert "Downloads" in http.get("/account/erase").get_data(as_text=True)


# --- 7. registration on a lost password ---------------------------------------------------------------


def test_registration_says_a_lost_password_cannot_be_recovered_by_email(client):
    """...but with the recovery codes shown after registering (tests/test_recovery.py)."""
    english = client.get("/register?lang=en").get_data(as_text=True)
    assert "cannot send you a new password by e-mail" in english and "recovery codes" in english
    dutch = client.get("/register?lang=nl").get_data(as_text=True)
    assert "nieuw wachtwoord mailen" in dutch and "herstelcodes" in dutch
