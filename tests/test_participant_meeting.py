"""The participant inside a meeting (issue #14): every state they wait on updates live and lets them in
without a reload (the `lobby` room); the house rules accepted on the meeting page; the countdown and the
safety check when the lobby opens; the closing screen; times in 24-hour format in every language.
The same walk in Chromium on a phone: tests/browser/test_participant_meeting.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask_babel import force_locale, format_datetime, format_time

from supportgroup.extensions import db as _db
from supportgroup.models import MeetingState

from .chat_helpers import join, mod, present_scene, received
from .conftest import csrf_token


def refused(sio, meeting) -> str:
    ack = join(sio, meeting, expect_ok=False)
    assert not ack["ok"], ack
    return ack["error"]["code"]


# --- waiting to get in: live -------------------------------------------------------------------------------


def test_a_participant_refused_for_a_lock_hears_the_unlock_and_gets_in(factory, socket_client):
    scene = present_scene(factory, socket_client)
    assert mod(scene, "lock", locked=True)["ok"]
    alice = socket_client("alice")  # never in this meeting: the lock refuses her
    assert refused(alice, scene.meeting) == "meeting_locked"
    alice.get_received()

    assert mod(scene, "lock", locked=False)["ok"]
    got = alice.get_received()
    lobby = [p["args"][0] for p in got if p["name"] == "lobby"]
    assert lobby == [{"meeting_id": scene.meeting.id, "state": "open", "locked": False}]
    assert [p for p in got if p["name"] == "meeting_state"] == []  # the full state (a pinned text) is for those in
    assert join(alice, scene.meeting)["ok"]

    # In now: the lobby room is left, the meeting room carries the state.
    assert mod(scene, "lock", locked=True)["ok"]
    got = alice.get_received()
    assert [p["args"][0]["locked"] for p in got if p["name"] == "meeting_state"] == [True]
    assert [p for p in got if p["name"] == "lobby"] == []


def test_a_participant_early_hears_the_meeting_open(factory, socket_client, login_client):
    scene = factory.scene(MeetingState.SCHEDULED)
    scene.meeting.starts_at = datetime.now(UTC) + timedelta(hours=2)  # the lobby is not open yet
    _db.session.commit()
    alice = socket_client("alice")
    assert refused(alice, scene.meeting) == "meeting_not_open"
    alice.get_received()

    expert = login_client("expert")
    url = f"/meetings/{scene.meeting.id}"
    # Two hours ahead is before the lobby time: the peer expert confirms opening early (scheduling.confirm_open).
    expert.post(f"{url}/open", data={"csrf_token": csrf_token(expert, url), "confirm_early": "1"})
    assert received(alice, "lobby") == [{"meeting_id": scene.meeting.id, "state": "open", "locked": False}]
    assert join(alice, scene.meeting)["ok"]


def test_someone_in_the_waiting_room_hears_the_meeting_close(factory, socket_client, db):
    scene = present_scene(factory, socket_client)
    scene.group.waiting_room = True
    db.session.commit()
    alice = socket_client("alice")
    assert join(alice, scene.meeting)["waiting"] is True
    alice.get_received()
    assert mod(scene, "close")["ok"]
    assert received(alice, "lobby")[-1]["state"] == "closed"


def test_a_removed_participant_does_not_wait_in_the_lobby(factory, socket_client):
    scene = present_scene(factory, socket_client)
    alice = socket_client("alice")
    join(alice, scene.meeting)
    assert mod(scene, "remove", member=scene.memberships["alice"].public_id, reason="test")["ok"]
    again = socket_client("alice")
    assert refused(again, scene.meeting) == "removed"
    again.get_received()
    assert mod(scene, "lock", locked=True)["ok"]
    assert received(again, "lobby") == []


def test_someone_waiting_who_is_refused_for_good_leaves_the_lobby(factory, socket_client):
    """Waiting outside a locked meeting, then removed: the next join is refused for good and takes the socket out
    of the lobby, so it hears nothing more of the meeting (it heard every lock and state change before)."""
    scene = present_scene(factory, socket_client)
    assert mod(scene, "lock", locked=True)["ok"]
    alice = socket_client("alice")
    assert refused(alice, scene.meeting) == "meeting_locked"  # in the lobby now
    assert mod(scene, "remove", member=scene.memberships["alice"].public_id, reason="test")["ok"]
    assert refused(alice, scene.meeting) == "removed"
    alice.get_received()
    assert mod(scene, "lock", locked=False)["ok"]
    assert received(alice, "lobby") == []


# --- the meeting page: rules, countdown, safety check at the lobby, closing screen ---------------------------


def test_the_house_rules_are_offered_and_accepted_on_the_meeting_page(factory, login_client, db):
    scene = factory.scene()
    carol = factory.user("carol")
    membership = factory.member(scene.group, carol, accept_rules=False)
    scene.group.house_rules = "<p>Be kind to each other.</p>"
    db.session.commit()
    page = login_client("carol")
    url = f"/meetings/{scene.meeting.id}"
    page.post(f"/safety/check/{scene.meeting.id}", data={"csrf_token": csrf_token(page, url), "action": "skip"})
    html = page.get(url).get_data(as_text=True)
    assert 'id="rules-card"' in html and "Be kind to each other." in html and "Accept and go on" in html

    assert page.post(f"{url}/rules", data={}).status_code == 400  # no CSRF token: nothing recorded
    db.session.refresh(membership)
    assert membership.consented_rules_version != scene.group.rules_version

    done = page.post(f"{url}/rules", data={"csrf_token": csrf_token(page, url)})
    assert done.status_code == 302 and done.headers["Location"].endswith(url)
    db.session.refresh(membership)
    assert membership.consented_rules_version == scene.group.rules_version and membership.consented_at is not None
    assert 'id="rules-card"' not in page.get(url).get_data(as_text=True)
    eve = login_client("eve")  # not a member: no such meeting for her
    assert eve.post(f"{url}/rules", data={"csrf_token": csrf_token(eve, "/home")}).status_code == 404


def test_the_rules_card_shows_text_rules_as_the_editor_preview_does_never_as_html(factory, login_client, db):
    """Rules are stored as typed (a little Markdown, groups/rules_text.py): the card must render them through the one
    `render_rules`, never output them raw (a tag typed into the rules would otherwise reach every participant)."""
    from supportgroup.groups.rules_text import render_rules

    scene = factory.scene()
    factory.member(scene.group, factory.user("carol"), accept_rules=False)
    scene.group.house_rules = "**Be kind** <img src=x onerror=alert(1)>\n\n- listen\n- <form action=/x>"
    db.session.commit()
    page = login_client("carol")
    url = f"/meetings/{scene.meeting.id}"
    page.post(f"/safety/check/{scene.meeting.id}", data={"csrf_token": csrf_token(page, url), "action": "skip"})
    html = page.get(url).get_data(as_text=True)
    assert "<img" not in html and "<form action=/x>" not in html  # shown as the text that was typed
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert str(render_rules(scene.group.house_rules)) in html and "<strong>Be kind</strong>" in html


def test_the_countdown_page_can_ask_whether_the_meeting_opened_early(factory, login_client, db):
    """Before the lobby time the page has no socket: it asks this small endpoint, members only, state only."""
    scene = factory.scene(MeetingState.SCHEDULED)
    scene.meeting.starts_at = datetime.now(UTC) + timedelta(days=2)
    db.session.commit()
    url = f"/meetings/{scene.meeting.id}/state"
    alice = login_client("alice")
    first = alice.get(url)
    assert first.get_json() == {"state": "scheduled"} and first.headers["Cache-Control"] == "no-store"
    assert 'data-state-url="' + url + '"' in alice.get(f"/meetings/{scene.meeting.id}").get_data(as_text=True)
    expert = login_client("expert")
    page = f"/meetings/{scene.meeting.id}"
    expert.post(f"{page}/open", data={"csrf_token": csrf_token(expert, page), "confirm_early": "1"})
    assert alice.get(url).get_json() == {"state": "open"}
    assert login_client("eve").get(url).status_code == 404  # not a member: no such meeting


def test_before_the_lobby_the_page_counts_down_and_keeps_the_safety_check_for_later(factory, login_client, db):
    scene = factory.scene(MeetingState.SCHEDULED)
    scene.meeting.starts_at = datetime(2031, 3, 4, 18, 30, tzinfo=UTC)  # 19:30 in Amsterdam
    db.session.commit()
    url = f"/meetings/{scene.meeting.id}"
    html = login_client("alice").get(url + "?lang=en").get_data(as_text=True)
    assert 'id="countdown"' in html and 'data-starts-at="2031-03-04T18:30:00+00:00"' in html
    assert "The meeting starts on Tuesday 4 March, 19:30" in html
    assert 'data-lobby-at="2031-03-04T18:15:00+00:00"' in html
    assert 'id="safety-check" aria-labelledby="safety-check-title" data-after-lobby hidden' in html
    assert "You can come in from 19:15." in html

    scene.meeting.starts_at = datetime.now(UTC) + timedelta(minutes=5)  # the lobby is open
    db.session.commit()
    html = login_client("alice").get(url).get_data(as_text=True)
    assert 'id="countdown"' in html
    assert 'id="safety-check" aria-labelledby="safety-check-title">' in html  # shown now


def test_a_closed_meeting_shows_the_closing_screen_with_the_next_meeting_and_help(factory, login_client, db):
    scene = factory.scene(MeetingState.CLOSED)
    later = factory.meeting(scene.group, MeetingState.SCHEDULED, timedelta(days=7), title="Next week")
    later.starts_at = datetime(2031, 3, 11, 18, 30, tzinfo=UTC)
    factory.meeting(scene.group, MeetingState.CANCELLED, timedelta(days=3), title="Cancelled one")
    db.session.commit()
    html = login_client("alice").get(f"/meetings/{scene.meeting.id}?lang=en").get_data(as_text=True)
    closing = html[html.index('id="closing"') : html.index("</section>", html.index('id="closing"'))]
    assert "hidden" not in closing.split(">", 1)[0]
    assert "Thank you for being here" in closing
    assert "Tuesday 11 March, 19:30 · Next week" in closing and "Cancelled one" not in closing
    assert "0800 2000" in closing  # Veilig Thuis, from safety/resources
    assert 'id="closing"' not in login_client("expert").get(f"/meetings/{scene.meeting.id}").get_data(as_text=True)


# --- 24-hour times ----------------------------------------------------------------------------------------------


def test_times_are_24_hour_in_english_and_dutch(app):
    evening = datetime(2031, 3, 4, 18, 30, tzinfo=UTC)  # 19:30 in Amsterdam
    with app.test_request_context("/"):
        for locale in ("en", "nl"):
            with force_locale(locale):
                assert format_time(evening) == "19:30"
                assert "19:30" in format_datetime(evening) and "PM" not in format_datetime(evening)
                assert "19:30" in format_datetime(evening, "short")
        template = app.jinja_env.from_string("{{ t|timeformat }} {{ t|datetimeformat }}")
        with force_locale("en"):
            assert template.render(t=evening) == "19:30 4 March 2031, 19:30"
