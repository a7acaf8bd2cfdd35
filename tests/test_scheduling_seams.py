"""Issue #14, the scheduling seams: the weekday follows the first date, planning returns to the group, open-ended
series keep a rolling horizon, the demo speaks its groups' language, an early opening is confirmed, and the rota
leads to each meeting's page."""

from __future__ import annotations

import re
import threading
from datetime import date, time, timedelta

import pytest
from sqlalchemy import update

from supportgroup import periodic
from supportgroup.errors import DomainError
from supportgroup.models import Group, Meeting, MeetingSeries, MeetingState, Role, utcnow
from supportgroup.scheduling import horizon, meetings
from supportgroup.scheduling.series import HORIZON_WEEKS
from tests import scheduling_helpers
from tests.scheduling_helpers import local, new_page, occurrences, post_form, series, soon

FRIDAY = 4


def next_friday(after_days: int = 3) -> date:
    day = date.today() + timedelta(days=after_days)
    return day + timedelta(days=(FRIDAY - day.weekday()) % 7)


@pytest.fixture
def coordinator(factory, login_client):
    factory.user("coord", Role.COORDINATOR)
    return login_client("coord")


def plan(http, group, **fields):
    """A weekly series of four from next Friday, unless `fields` say otherwise."""
    weekly = {"starts_on": next_friday().isoformat(), "repeat": "weekly", "count": "4"}
    return scheduling_helpers.plan(http, group, **{**weekly, **fields})


# --- 1. The weekday follows the first date -------------------------------------------------------------------


def test_the_form_leaves_the_weekday_to_the_date_instead_of_monday(coordinator, factory):
    html = coordinator.get(new_page(factory.group())).get_data(as_text=True)
    select = re.search(r'<select[^>]*name="weekday".*?</select>', html, re.S).group(0)
    assert re.search(r'<option selected value="">', select), select
    assert 'selected value="0"' not in select
    assert "js/scheduling/plan.js" in html  # the script that sets the day when the date changes


def test_a_series_from_a_friday_without_a_chosen_day_is_on_fridays(coordinator, factory, db):
    group = factory.group()
    assert plan(coordinator, group).status_code == 302
    made = db.session.query(MeetingSeries).one()
    days = [local(m).date() for m in occurrences(made)]
    assert made.weekday == FRIDAY and len(days) == 4 and all(d.weekday() == FRIDAY for d in days)
    assert days[0] == next_friday()


def test_the_service_takes_the_first_dates_weekday_when_none_is_given(factory, db):
    from supportgroup.scheduling.series import create_series

    made = create_series(
        factory.group(),
        title="",
        frequency="weekly",
        interval=1,
        weekday=None,
        week_of_month=None,
        local_start=time(19, 30),
        duration_minutes=90,
        tz_name="Europe/Amsterdam",
        starts_on=next_friday(),
        count=3,
    )
    assert made.weekday == FRIDAY and all(local(m).date().weekday() == FRIDAY for m in occurrences(made))


@pytest.mark.parametrize(
    "lang,message",
    [
        ("en", "is a Friday, not a Monday. Choose a Monday as the first date, or set the day of the week to Friday."),
        (
            "nl",
            "is een vrijdag, geen maandag. Kies een maandag als eerste datum, of zet de dag van de week op vrijdag.",
        ),
    ],
)
def test_a_first_date_on_another_day_than_chosen_is_refused_on_the_date(coordinator, factory, db, lang, message):
    group = factory.group()
    coordinator.get(f"/home?lang={lang}")
    response = plan(coordinator, group, weekday="0", title="Avondgroep", count="7")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    errors = re.search(r'<ul class="errors" id="starts_on-errors">(.*?)</ul>', html, re.S)
    assert errors and message in errors.group(1), html
    # Everything typed is kept: the title, the date, the count and the day chosen.
    assert 'value="Avondgroep"' in html and f'value="{next_friday().isoformat()}"' in html and 'value="7"' in html
    assert 'selected value="0"' in html
    assert db.session.query(Meeting).count() == 0 and db.session.query(MeetingSeries).count() == 0


def test_a_monthly_series_still_starts_on_the_first_matching_day(coordinator, factory, db):
    group = factory.group()
    response = plan(coordinator, group, repeat="monthly", weekday="1", week_of_month="2", count="2")
    assert response.status_code == 302
    assert all(local(m).date().weekday() == 1 for m in occurrences(db.session.query(MeetingSeries).one()))


# --- 2. After planning: back to the group, told what was planned --------------------------------------------


def test_planning_a_series_returns_to_the_group_saying_what_was_planned(coordinator, factory, db):
    group = factory.group()
    response = plan(coordinator, group)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/groups/{group.id}")
    html = coordinator.get(f"/groups/{group.id}").get_data(as_text=True)
    first, last = next_friday(), next_friday() + timedelta(weeks=3)
    said = (
        f"The series has been planned. 4 meetings, from Friday {first.day} {first:%B %Y} to "
        f"Friday {last.day} {last:%B %Y}, at 19:30."
    )
    assert said in html, html


def test_planning_an_open_ended_series_says_it_keeps_going(coordinator, factory, db):
    group = factory.group()
    response = plan(coordinator, group, count="")
    assert response.status_code == 302
    html = coordinator.get(f"/groups/{group.id}").get_data(as_text=True)
    assert f"{HORIZON_WEEKS + 1} meetings" in html and "meetings keep being planned 26 weeks ahead" in html


def test_planning_one_meeting_returns_to_the_group_with_its_day_and_time(coordinator, factory, db):
    group = factory.group()
    day = soon(5)
    response = plan(coordinator, group, repeat="once", starts_on=day.isoformat(), local_start="18:15")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/groups/{group.id}")
    html = coordinator.get(f"/groups/{group.id}").get_data(as_text=True)
    assert f"The meeting has been planned: {day:%A} {day.day} {day:%B %Y} at 18:15." in html


# --- 3. The rolling horizon of an open-ended series ---------------------------------------------------------


def _open_ended(factory, **kwargs) -> MeetingSeries:
    return series(factory.group(), starts_on=next_friday(), count=None, **kwargs)


def test_an_open_ended_series_keeps_26_weeks_ahead_as_time_goes_on(factory, db):
    made = _open_ended(factory)
    assert len(occurrences(made)) == HORIZON_WEEKS + 1
    assert horizon.extend_open_series(now=utcnow()) == 0  # already planned that far

    later = utcnow() + timedelta(weeks=10)  # the clock, ten weeks on
    added = horizon.extend_open_series(now=later)
    db.session.commit()
    days = [local(m).date() for m in occurrences(made)]
    assert added >= 8 and len(days) == len(set(days)) == HORIZON_WEEKS + 1 + added
    assert all(d.weekday() == FRIDAY for d in days)
    assert all(b - a == timedelta(weeks=1) for a, b in zip(days, days[1:], strict=False))
    ahead = later.astimezone(horizon.zone(made.timezone)).date() + timedelta(weeks=HORIZON_WEEKS)
    assert ahead - timedelta(days=7) < days[-1] <= ahead  # the last Friday within 26 weeks of "today"
    assert db.session.get(MeetingSeries, made.id).materialised_until == ahead
    assert horizon.extend_open_series(now=later) == 0  # idempotent: a second run adds nothing
    assert horizon.extend_open_series(now=later + timedelta(weeks=1)) == 1  # and a week later, one more


def test_a_job_that_did_not_run_for_months_plans_nothing_in_the_past(factory, db):
    made = _open_ended(factory)
    before = {m.id for m in occurrences(made)}
    later = utcnow() + timedelta(weeks=40)
    added = horizon.extend_open_series(now=later)
    db.session.commit()
    new = [m for m in occurrences(made) if m.id not in before]
    assert added == len(new) >= HORIZON_WEEKS - 1 and all(m.starts_at >= later for m in new)


def test_a_concurrent_extension_is_claimed_once(factory, db):
    """Two processes at once: the one whose compare-and-set finds the horizon moved adds nothing."""
    made = _open_ended(factory)
    later = utcnow() + timedelta(weeks=3)
    seen = made.materialised_until
    target = horizon.horizon_day(made, later)
    # Another process moved the horizon after this one read the series (its ORM object still says `seen`).
    db.session.execute(
        update(MeetingSeries).where(MeetingSeries.id == made.id).values(materialised_until=target),
        execution_options={"synchronize_session": False},
    )
    assert made.materialised_until == seen
    assert horizon.extend_series(made, later) == 0
    assert len(occurrences(made)) == HORIZON_WEEKS + 1


@pytest.mark.committed  # two processes: each transaction on a connection of its own
def test_two_processes_extending_at_once_plan_each_meeting_once(app, factory, db):
    """The other process read the series' horizon, then this one extended and committed: the other's
    compare-and-set finds the horizon moved and plans nothing (no meeting twice)."""
    made = _open_ended(factory)
    later = utcnow() + timedelta(weeks=10)
    read, go, result = threading.Event(), threading.Event(), {}

    def other_process() -> None:
        with app.app_context():
            try:
                theirs = db.session.get(MeetingSeries, made.id)
                assert theirs is not None and theirs.materialised_until is not None
                read.set()
                go.wait(10)
                result["added"] = horizon.extend_series(theirs, later)
                db.session.commit()
            finally:
                read.set()
                db.session.remove()

    worker = threading.Thread(target=other_process)
    worker.start()
    assert read.wait(10)
    added = horizon.extend_open_series(now=later)
    db.session.commit()
    go.set()
    worker.join(20)
    assert added >= 8 and result == {"added": 0}
    db.session.expire_all()
    starts = [m.starts_at for m in occurrences(made)]
    assert len(starts) == len(set(starts)) == HORIZON_WEEKS + 1 + added


def test_series_with_an_end_and_cancelled_rests_are_not_extended(coordinator, factory, db):
    counted = series(factory.group(), starts_on=next_friday(), count=4)
    cancelled = _open_ended(factory)
    first = occurrences(cancelled)[0]
    url = f"/schedule/meetings/{first.id}/cancel"
    assert post_form(coordinator, url, url, {"reason": "The group stops.", "scope": "following"}).status_code == 302
    assert horizon.extend_open_series(now=utcnow() + timedelta(weeks=8)) == 0
    assert len(occurrences(counted)) == 4 and len(occurrences(cancelled)) == HORIZON_WEEKS + 1


def test_the_rest_of_a_series_moved_to_another_time_extends_at_that_time(coordinator, factory, db):
    made = _open_ended(factory)
    third = occurrences(made)[2]
    url = f"/schedule/meetings/{third.id}/edit"
    day = local(third).date().isoformat()
    fields = {"title": "Later", "starts_on": day, "local_start": "20:00", "duration_minutes": "60"}
    response = post_form(coordinator, url, url, {**fields, "timezone": "Europe/Amsterdam", "scope": "following"})
    assert response.status_code == 302
    tail = db.session.query(MeetingSeries).filter(MeetingSeries.id != made.id).one()
    added_count = horizon.extend_open_series(now=utcnow() + timedelta(weeks=6))
    db.session.commit()
    assert added_count >= 3 and len(occurrences(made)) == 2  # the old series ends before the change
    added = occurrences(tail)[-added_count:]
    assert all(local(m).time() == time(20, 0) and m.title == "Later" and m.duration_minutes == 60 for m in added)


def test_an_archived_groups_series_is_not_extended(factory, db):
    made = _open_ended(factory)
    db.session.execute(update(Group).where(Group.id == made.group_id).values(archived_at=utcnow()))
    assert horizon.extend_open_series(now=utcnow() + timedelta(weeks=5)) == 0


def test_the_horizon_job_starts_once_per_app_and_commits(app, factory, db, monkeypatch):
    made = _open_ended(factory)
    started = []
    monkeypatch.setattr(periodic.socketio, "start_background_task", lambda target, *a, **k: started.append(target))
    horizon.start_horizon_job(app)
    horizon.start_horizon_job(app)
    assert len(started) == 1
    # A series planned before the horizon was stored (NULL) counts from its latest meeting.
    db.session.execute(update(MeetingSeries).values(materialised_until=None))
    db.session.commit()
    assert horizon.run_extend_once(app) == 0  # its meetings reach beyond 26 weeks from today already
    db.session.expire_all()
    assert db.session.get(MeetingSeries, made.id).materialised_until == local(occurrences(made)[-1]).date()
    assert horizon.extend_open_series(now=utcnow() + timedelta(weeks=4)) >= 1  # and it goes on from there
    assert len({local(m).date() for m in occurrences(made)}) == len(occurrences(made))


def test_flask_extend_series_plans_for_cron(runner, factory, db):
    _open_ended(factory)
    result = runner.invoke(args=["extend-series"])
    assert result.exit_code == 0 and "Planned 0 meetings." in result.output


# --- 4. The demo speaks its groups' language ----------------------------------------------------------------


def test_every_demo_text_in_a_dutch_group_is_dutch(runner, db):
    from supportgroup.demo import TITLES

    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    english = set(TITLES["en"].values())
    dutch_groups = db.session.query(Group).filter_by(language="nl").all()
    assert len(dutch_groups) == 2
    for group in dutch_groups:
        titles = {m.title for m in db.session.query(Meeting).filter_by(group_id=group.id)}
        titles |= {s.title for s in db.session.query(MeetingSeries).filter_by(group_id=group.id)}
        assert titles == set(TITLES["nl"].values()) and not titles & english


def test_seeding_again_gives_an_older_demos_english_titles_the_groups_language(runner, db):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    db.session.execute(update(Meeting).where(Meeting.title == "Wekelijkse bijeenkomst").values(title="Weekly meeting"))
    db.session.commit()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert db.session.query(Meeting).filter_by(title="Weekly meeting").count() == 0


# --- 5. Opening a meeting days ahead asks to confirm ---------------------------------------------------------


def _expert_and_meeting(factory, login_client, starts_in: timedelta):
    group = factory.group()
    factory.moderator(group, factory.user("expert", Role.PEER_EXPERT))
    factory.member(group, factory.user("alice"))
    meeting = factory.meeting(group, MeetingState.SCHEDULED, starts_in=starts_in)
    return login_client("expert"), meeting


def test_opening_a_meeting_days_ahead_asks_to_confirm_first(factory, login_client, db):
    expert, meeting = _expert_and_meeting(factory, login_client, timedelta(days=3))
    page = f"/meetings/{meeting.id}"
    response = post_form(expert, page, f"{page}/open", {})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/schedule{page}/open-early")
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.SCHEDULED  # one click did not open it

    confirm = expert.get(f"/schedule{page}/open-early")
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Open this meeting now?" in html and "in 3 days" in html
    assert 'name="confirm_early" value="1"' in html
    assert post_form(expert, f"/schedule{page}/open-early", f"{page}/open", {"confirm_early": "1"}).status_code == 302
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.OPEN


def test_within_the_lobby_time_one_click_opens(factory, login_client, db):
    expert, meeting = _expert_and_meeting(factory, login_client, timedelta(minutes=10))
    page = f"/meetings/{meeting.id}"
    response = post_form(expert, page, f"{page}/open", {})
    assert response.headers["Location"].endswith(page)
    db.session.refresh(meeting)
    assert meeting.state == MeetingState.OPEN
    # Nothing to confirm any more: the confirm page leads back to the meeting.
    assert expert.get(f"/schedule{page}/open-early").headers["Location"].endswith(page)


def test_the_service_refuses_an_unconfirmed_early_opening(factory, db):
    group = factory.group()
    expert = factory.user("expert", Role.PEER_EXPERT)
    meeting = factory.meeting(group, MeetingState.SCHEDULED, starts_in=timedelta(hours=2))
    with pytest.raises(DomainError) as refused:
        meetings.open_meeting(meeting, expert)
    assert refused.value.code == meetings.EARLY_OPEN and meeting.state == MeetingState.SCHEDULED
    meetings.open_meeting(meeting, expert, confirmed_early=True)
    assert meeting.state == MeetingState.OPEN


def test_only_the_groups_peer_experts_see_the_confirm_page(factory, login_client, db):
    _expert, meeting = _expert_and_meeting(factory, login_client, timedelta(days=2))
    factory.user("other", Role.PEER_EXPERT)
    assert login_client("alice").get(f"/schedule/meetings/{meeting.id}/open-early").status_code == 403
    assert login_client("other").get(f"/schedule/meetings/{meeting.id}/open-early").status_code == 404


# --- 6. The rota leads to each meeting's page ---------------------------------------------------------------


def test_the_rota_links_each_coming_meeting_to_its_page(factory, login_client, db):
    group = factory.group()
    factory.moderator(group, factory.user("expert", Role.PEER_EXPERT))
    made = series(group, count=3)
    cancelled = occurrences(made)[2]
    cancelled.state, cancelled.cancel_reason = MeetingState.CANCELLED, "Ill."
    db.session.commit()
    html = login_client("expert").get("/schedule/rota").get_data(as_text=True)
    buttons = re.findall(r'<a class="button[^"]*" href="/meetings/(\d+)">Go to the meeting</a>', html)
    assert buttons == [str(m.id) for m in occurrences(made)[:2]]
    mine = login_client("expert").get("/schedule/mine").get_data(as_text=True)
    assert "Go to the meeting" not in mine
