"""Scheduling: series in local time across DST, editing and cancelling occurrences, views per role."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from supportgroup.errors import DomainError
from supportgroup.models import Meeting, MeetingSeries, MeetingState, ModerationAction, Role
from supportgroup.scheduling.series import HORIZON_WEEKS
from tests.scheduling_helpers import (
    count_queries,
    last_sunday,
    local,
    new_page,
    next_year,
    occurrences,
    plan,
    post_form,
    series,
    soon,
)

AMS = ZoneInfo("Europe/Amsterdam")


# --- Series generation -------------------------------------------------------------------------


def test_weekly_series_materialises_occurrences(factory, db):
    group = factory.group()
    made = series(group, weekday=0, count=5)
    meetings = occurrences(made)
    assert len(meetings) == 5 and all(m.group_id == group.id for m in meetings)
    days = [local(m).date() for m in meetings]
    assert all(d.weekday() == 0 for d in days) and days[0] >= soon()
    assert [(b - a).days for a, b in pairwise(days)] == [7] * 4
    assert all(local(m).time() == time(19, 30) and m.state == MeetingState.SCHEDULED for m in meetings)
    assert made.until == days[-1] and all(m.title == "Evening" for m in meetings)


def test_every_two_weeks_counts_from_the_first_meeting(factory, db):
    group = factory.group()
    start = soon(3)
    weekday = (start.weekday() + 2) % 7  # two days after `starts_on`: in the same week or the next
    made = series(group, starts_on=start, weekday=weekday, interval=2, count=4)
    days = [local(m).date() for m in occurrences(made)]
    assert days[0] == start + timedelta(days=2)
    assert [(b - a).days for a, b in pairwise(days)] == [14] * 3


def test_until_bounds_a_series(factory, db):
    group = factory.group()
    start = soon()
    made = series(group, starts_on=start, count=None, until=start + timedelta(weeks=3))
    assert len(occurrences(made)) == 4 and made.until == start + timedelta(weeks=3)


def test_open_ended_series_is_materialised_for_the_horizon(factory, db):
    made = series(factory.group(), count=None)
    meetings = occurrences(made)
    assert len(meetings) == HORIZON_WEEKS + 1 and made.until is None


def test_monthly_on_the_second_tuesday(factory, db):
    group = factory.group()
    made = series(group, starts_on=date(next_year(), 1, 1), frequency="monthly", weekday=1, week_of_month=2, count=6)
    days = [local(m).date() for m in occurrences(made)]
    assert [d.month for d in days] == [1, 2, 3, 4, 5, 6]
    assert all(d.weekday() == 1 and 8 <= d.day <= 14 for d in days)


def test_monthly_on_the_last_friday(factory, db):
    group = factory.group()
    made = series(group, starts_on=date(next_year(), 1, 1), frequency="monthly", weekday=4, week_of_month=-1, count=12)
    days = [local(m).date() for m in occurrences(made)]
    assert [d.month for d in days] == list(range(1, 13))
    assert all(d.weekday() == 4 and (d + timedelta(days=7)).month != d.month for d in days)


def test_monthly_every_second_month(factory, db):
    made = series(
        factory.group(),
        starts_on=date(next_year(), 1, 1),
        frequency="monthly",
        interval=2,
        weekday=0,
        week_of_month=1,
        count=3,
    )
    assert [local(m).date().month for m in occurrences(made)] == [1, 3, 5]


def test_amsterdam_keeps_19_30_across_both_dst_changes(factory, db):
    group = factory.group()
    year = next_year()
    spring, autumn = last_sunday(year, 3), last_sunday(year, 10)
    weekly = series(group, starts_on=spring - timedelta(days=14), weekday=6, count=4)  # Sundays, spring incl.
    meetings = occurrences(weekly)
    assert [local(m).date() for m in meetings][2] == spring
    assert all(m.starts_at.astimezone(AMS).time() == time(19, 30) for m in meetings)
    assert [m.starts_at.astimezone(UTC).strftime("%H:%M") for m in meetings] == ["18:30", "18:30", "17:30", "17:30"]

    weekly = series(group, starts_on=autumn - timedelta(days=10), weekday=3, count=3)  # Thursdays
    meetings = occurrences(weekly)
    assert all(m.starts_at.astimezone(AMS).time() == time(19, 30) for m in meetings)
    assert [m.starts_at.astimezone(UTC).strftime("%H:%M") for m in meetings] == ["17:30", "17:30", "18:30"]


def test_another_zone_new_york(factory, db):
    group = factory.group()
    year = next_year()
    made = series(
        group, starts_on=date(year, 3, 1), weekday=1, count=4, local_start=time(18, 0), tz_name="America/New_York"
    )  # US clocks change on the second Sunday of March
    meetings = occurrences(made)
    ny = ZoneInfo("America/New_York")
    assert all(m.timezone == "America/New_York" and m.starts_at.astimezone(ny).time() == time(18, 0) for m in meetings)
    hours = [m.starts_at.astimezone(UTC).hour for m in meetings]
    assert hours[:2] == [23, 23] and hours[-1] == 22


# --- Planning through the form ------------------------------------------------------------------


@pytest.fixture
def coordinator(factory, login_client):
    factory.user("coord", Role.COORDINATOR)
    return login_client("coord")


def test_coordinator_plans_a_one_off_meeting(coordinator, factory, db):
    group = factory.group()
    assert coordinator.get(new_page(group)).status_code == 200
    response = plan(coordinator, group)
    assert response.status_code == 302
    meeting = db.session.query(Meeting).one()
    assert meeting.series_id is None and local(meeting) == datetime.combine(soon(), time(19, 30))


def test_coordinator_plans_a_monthly_series(coordinator, factory, db):
    group = factory.group()
    response = plan(
        coordinator,
        group,
        repeat="monthly",
        weekday="4",
        week_of_month="-1",
        interval="1",
        count="3",
        starts_on=date(next_year(), 1, 1).isoformat(),
    )
    assert response.status_code == 302
    made = db.session.query(MeetingSeries).one()
    assert (made.frequency, made.weekday, made.week_of_month) == ("monthly", 4, -1)
    assert len(occurrences(made)) == 3


def test_one_off_ignores_the_recurrence_fields(coordinator, factory, db):
    group = factory.group()
    assert plan(coordinator, group, interval="", week_of_month="9").status_code == 302
    assert db.session.query(Meeting).count() == 1 and db.session.query(MeetingSeries).count() == 0


@pytest.mark.parametrize(
    "fields,error",
    [
        ({"starts_on": "2020-01-01"}, "in the past"),
        ({"starts_on": "2020-01-06", "repeat": "weekly", "weekday": "0", "count": "3"}, "in the past"),
        (
            {"starts_on": (date.today() - timedelta(days=1)).isoformat(), "repeat": "weekly"},
            "in the past",
        ),
        ({"repeat": "weekly", "until": (date.today() + timedelta(days=1)).isoformat()}, "end date lies before"),
        ({"timezone": "Mars/Olympus_Mons"}, "Unknown timezone"),
        ({"timezone": "Europe"}, "Unknown timezone"),
        ({"timezone": "Mars/Olympus_Mons", "repeat": "weekly"}, "Unknown timezone"),
        ({"repeat": "weekly", "interval": "0"}, "Repeat every 1 to 12"),
        ({"repeat": "weekly", "interval": "1000"}, "Repeat every 1 to 12"),
        ({"repeat": "monthly", "interval": "-3", "week_of_month": "1"}, "Repeat every 1 to 12"),
        ({"repeat": "monthly", "week_of_month": "5"}, "Not a valid choice"),
        ({"repeat": "monthly", "week_of_month": "0"}, "Not a valid choice"),
        ({"repeat": "weekly", "weekday": "7"}, "Not a valid choice"),
        ({"duration_minutes": "10"}, "between 15 minutes and 8 hours"),
        ({"duration_minutes": "481", "repeat": "weekly"}, "between 15 minutes and 8 hours"),
        ({"repeat": "weekly", "count": "500"}, "between 1 and 52"),
        ({"repeat": "weekly", "count": "3", "until": soon(60).isoformat()}, "not both"),
        ({"repeat": "weekly", "until": soon(800).isoformat()}, "one year ahead"),
        ({"repeat": "monthly", "interval": "12", "count": "3", "week_of_month": "1"}, "one year ahead"),
        ({"repeat": "yearly"}, "Not a valid choice"),
        ({"starts_on": "next week"}, "Enter a date"),
        ({"local_start": "25:00"}, "Enter a time"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(coordinator, factory, db, fields, error):
    group = factory.group()
    response = plan(coordinator, group, **fields)
    assert response.status_code == 400
    assert error in response.get_data(as_text=True)
    assert db.session.query(Meeting).count() == 0 and db.session.query(MeetingSeries).count() == 0


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"interval": 0}, "interval"),
        ({"interval": 53}, "interval"),
        ({"week_of_month": 5, "frequency": "monthly"}, "week_of_month"),
        ({"duration_minutes": 14}, "duration_minutes"),
        ({"duration_minutes": 481}, "duration_minutes"),
        ({"tz_name": "Nowhere/City"}, "timezone"),
        ({"frequency": "daily"}, "frequency"),
        ({"weekday": 9}, "weekday"),
    ],
)
def test_the_service_refuses_bad_rules_too(factory, db, kwargs, field):
    """The demo and the CLI call `create_series` directly: it validates on its own."""
    group = factory.group()
    with pytest.raises(DomainError) as refused:
        series(group, **kwargs)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.query(Meeting).count() == 0


def test_participants_and_peer_experts_cannot_plan(factory, login_client, db):
    group = factory.group()
    factory.member(group, factory.user("alice"))
    factory.moderator(group, factory.user("expert", Role.PEER_EXPERT))
    for username in ("alice", "expert"):
        http = login_client(username)
        assert http.get(new_page(group)).status_code == 404
        assert (
            post_form(
                http,
                "/home",
                new_page(group),
                {
                    "starts_on": soon().isoformat(),
                    "local_start": "19:30",
                    "duration_minutes": "90",
                    "timezone": "UTC",
                    "repeat": "once",
                },
            ).status_code
            == 404
        )
    assert db.session.query(Meeting).count() == 0


# --- Editing and cancelling ---------------------------------------------------------------------


def edit(http, meeting, **fields):
    page = f"/schedule/meetings/{meeting.id}/edit"
    start = local(meeting)
    data = {
        "title": meeting.title,
        "starts_on": start.date().isoformat(),
        "local_start": start.strftime("%H:%M"),
        "duration_minutes": str(meeting.duration_minutes),
        "timezone": meeting.timezone,
        "scope": "this",
        **fields,
    }
    return post_form(http, page, page, data)


def cancel(http, meeting, **fields):
    page = f"/schedule/meetings/{meeting.id}/cancel"
    return post_form(http, page, page, {"reason": "The peer expert is ill.", "scope": "this", **fields})


def snapshot(meetings):
    return [(m.id, m.title, m.starts_at, m.duration_minutes, m.state, m.series_id) for m in meetings]


def test_edit_and_cancel_pages_show_the_meeting_in_its_own_zone(coordinator, factory, db):
    made = series(factory.group("Tuesday group"), count=2, local_start=time(18, 45), tz_name="America/New_York")
    meeting = occurrences(made)[0]
    html = coordinator.get(f"/schedule/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert 'value="18:45"' in html and 'value="America/New_York"' in html and "following meetings" in html
    assert 'value="' + local(meeting).date().isoformat() + '"' in html
    html = coordinator.get(f"/schedule/meetings/{meeting.id}/cancel").get_data(as_text=True)
    assert "Tuesday group" in html and 'name="reason"' in html
    assert coordinator.get("/schedule/meetings/999999/edit").status_code == 404


def test_edit_a_single_occurrence(coordinator, factory, db):
    made = series(factory.group(), count=4)
    meetings = occurrences(made)
    before = snapshot(meetings)
    target = meetings[1]
    new_day = local(target).date() + timedelta(days=1)
    response = edit(coordinator, target, local_start="20:15", starts_on=new_day.isoformat(), title="Moved")
    assert response.status_code == 302
    db.session.expire_all()
    after = occurrences(made)
    assert snapshot([after[0], after[2], after[3]]) == [before[0], before[2], before[3]]
    assert local(after[1]) == datetime.combine(new_day, time(20, 15)) and after[1].title == "Moved"
    assert after[1].series_id == made.id


def test_edit_this_and_the_rest_of_the_series(coordinator, factory, db):
    made = series(factory.group(), count=6)
    meetings = occurrences(made)
    meetings[3].state = MeetingState.OPEN  # opened early: never touched by a series edit
    meetings[4].state, meetings[4].cancel_reason = MeetingState.CANCELLED, "Holiday"
    db.session.commit()
    before = snapshot(meetings)
    response = edit(
        coordinator, meetings[2], local_start="18:00", duration_minutes="60", title="Shorter", scope="following"
    )
    assert response.status_code == 302
    db.session.expire_all()
    after = {m.id: m for m in db.session.query(Meeting)}
    changed = [after[meetings[i].id] for i in (2, 5)]
    assert all(local(m).time() == time(18, 0) and m.duration_minutes == 60 and m.title == "Shorter" for m in changed)
    assert [local(m).date() for m in changed] == [local(meetings[i]).date() for i in (2, 5)]
    assert snapshot([after[meetings[i].id] for i in (0, 1, 3, 4)]) == [before[i] for i in (0, 1, 3, 4)]
    # The changed rest has a series of its own; the old one ends the day before.
    tail = db.session.get(MeetingSeries, changed[0].series_id)
    assert tail.id != made.id and changed[1].series_id == tail.id
    assert (tail.local_start, tail.duration_minutes, tail.title) == (time(18, 0), 60, "Shorter")
    assert db.session.get(MeetingSeries, made.id).until == local(changed[0]).date() - timedelta(days=1)
    assert db.session.query(ModerationAction).filter_by(action="edit_series_rest").count() == 1


def test_editing_the_rest_from_the_first_occurrence_updates_the_series(coordinator, factory, db):
    made = series(factory.group(), count=3)
    assert edit(coordinator, occurrences(made)[0], local_start="10:00", scope="following").status_code == 302
    db.session.expire_all()
    assert db.session.query(MeetingSeries).count() == 1
    assert db.session.get(MeetingSeries, made.id).local_start == time(10, 0)
    assert all(local(m).time() == time(10, 0) for m in occurrences(made))


def test_the_rest_of_a_series_cannot_move_to_another_day(coordinator, factory, db):
    made = series(factory.group(), count=3)
    meetings = occurrences(made)
    before = snapshot(meetings)
    other_day = (local(meetings[0]).date() + timedelta(days=1)).isoformat()
    response = edit(coordinator, meetings[0], starts_on=other_day, scope="following")
    assert response.status_code == 400 and "keeps its dates" in response.get_data(as_text=True)
    db.session.expire_all()
    assert snapshot(occurrences(made)) == before


@pytest.mark.parametrize(
    "fields,error",
    [
        ({"starts_on": "2020-01-01"}, "in the past"),
        ({"timezone": "Atlantis/Capital"}, "Unknown timezone"),
        ({"duration_minutes": "5"}, "between 15 minutes and 8 hours"),
        ({"scope": "everything"}, "Not a valid choice"),
    ],
)
def test_edit_refuses_bad_input(coordinator, factory, db, fields, error):
    made = series(factory.group(), count=2)
    before = snapshot(occurrences(made))
    response = edit(coordinator, occurrences(made)[0], **fields)
    assert response.status_code == 400 and error in response.get_data(as_text=True)
    db.session.expire_all()
    assert snapshot(occurrences(made)) == before


def test_open_or_closed_meetings_cannot_be_edited_or_cancelled(coordinator, factory, db):
    group = factory.group()
    for state in (MeetingState.OPEN, MeetingState.CLOSED):
        meeting = factory.meeting(group, state, starts_in=timedelta(days=1))
        assert "has not been opened" in coordinator.get(f"/schedule/meetings/{meeting.id}/edit").get_data(as_text=True)
        assert edit(coordinator, meeting, title="x").status_code == 400
        assert cancel(coordinator, meeting).status_code == 400
        db.session.refresh(meeting)
        assert meeting.state == state and meeting.title == "Test meeting"


def test_cancel_one_occurrence_shows_the_reason_to_members(coordinator, factory, login_client, db):
    group = factory.group()
    factory.member(group, factory.user("alice"))
    made = series(group, count=3)
    meetings = occurrences(made)
    assert cancel(coordinator, meetings[1], reason="Our peer expert is ill this week.").status_code == 302
    db.session.expire_all()
    assert [m.state for m in occurrences(made)] == [
        MeetingState.SCHEDULED,
        MeetingState.CANCELLED,
        MeetingState.SCHEDULED,
    ]
    alice = login_client("alice")
    for page in ("/schedule/mine", f"/meetings/{meetings[1].id}", "/home"):
        html = alice.get(page).get_data(as_text=True)
        assert "Our peer expert is ill this week." in html, page
    audit = db.session.query(ModerationAction).filter_by(action="cancel_meeting").one()
    assert audit.meeting_id == meetings[1].id


def test_cancel_the_rest_of_the_series(coordinator, factory, login_client, db):
    group = factory.group()
    factory.member(group, factory.user("alice"))
    made = series(group, count=5)
    meetings = occurrences(made)
    meetings[3].state = MeetingState.OPEN
    db.session.commit()
    assert cancel(coordinator, meetings[1], reason="The group moves to Tuesdays.", scope="following").status_code == 302
    db.session.expire_all()
    assert [m.state.value for m in occurrences(made)] == ["scheduled", "cancelled", "cancelled", "open", "cancelled"]
    assert db.session.get(MeetingSeries, made.id).until == local(meetings[0]).date() + timedelta(days=6)
    html = login_client("alice").get("/schedule/mine").get_data(as_text=True)
    assert html.count("The group moves to Tuesdays.") == 3


def test_cancel_needs_a_reason(coordinator, factory, db):
    made = series(factory.group(), count=2)
    response = cancel(coordinator, occurrences(made)[0], reason="   ")
    assert response.status_code == 400 and "why the meeting is cancelled" in response.get_data(as_text=True)
    db.session.expire_all()
    assert all(m.state == MeetingState.SCHEDULED for m in occurrences(made))


def test_participants_cannot_edit_or_cancel(factory, login_client, db):
    group = factory.group()
    factory.member(group, factory.user("alice"))
    made = series(group, count=2)
    alice = login_client("alice")
    target = occurrences(made)[0]
    assert alice.get(f"/schedule/meetings/{target.id}/edit").status_code == 404
    assert alice.get(f"/schedule/meetings/{target.id}/cancel").status_code == 404
    response = post_form(alice, "/home", f"/schedule/meetings/{target.id}/cancel", {"reason": "x"})
    assert response.status_code == 404
    db.session.expire_all()
    assert occurrences(made)[0].state == MeetingState.SCHEDULED


# --- Views per role ------------------------------------------------------------------------------


@pytest.fixture
def two_groups(factory, db):
    """Group A (alice, moderated by `expert`) and group B (bob, moderated by `other`), each with meetings."""
    a, b = factory.group("Alpha group"), factory.group("Beta group")
    factory.member(a, factory.user("alice"))
    factory.member(b, factory.user("bob"))
    factory.moderator(a, factory.user("expert", Role.PEER_EXPERT, first_name="Sam"))
    factory.moderator(b, factory.user("other", Role.PEER_EXPERT, first_name="Noor"))
    factory.user("coord", Role.COORDINATOR)
    series(a, count=2, title="Alpha evening")
    series(b, count=2, title="Beta evening")
    return a, b


def test_my_meetings_shows_only_my_groups(two_groups, login_client):
    html = login_client("alice").get("/schedule/mine").get_data(as_text=True)
    before, card = html.split('id="next-meeting"', 1)
    card, after = card.split("</section>", 1)
    assert "Alpha evening" in card  # the next meeting as a card (#14), then the list
    assert (before + after).count("Alpha evening") == 2 and "Beta" not in html


def test_rota_shows_the_groups_a_peer_expert_moderates(two_groups, login_client):
    response = login_client("expert").get("/schedule/rota")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.count("Alpha evening") == 2 and "Beta" not in html
    assert login_client("alice").get("/schedule/rota").status_code == 403


def test_calendar_is_for_coordinators_and_shows_all_groups(two_groups, login_client):
    for username in ("alice", "expert"):
        assert login_client(username).get("/schedule/calendar").status_code == 403
    coordinator = login_client("coord")
    weeks = {local(m).date() for m in Meeting.query.all()}
    html = "".join(
        coordinator.get(f"/schedule/calendar?week={day.isoformat()}").get_data(as_text=True)
        for day in sorted(weeks)[:1]
    )
    assert "Alpha evening" in html and "Beta evening" in html and "Sam" in html and "Noor" in html
    assert coordinator.get("/schedule/calendar?week=garbage").status_code == 200


def test_views_show_times_in_the_viewers_timezone(two_groups, login_client, db):
    from supportgroup.models import User

    alice = db.session.query(User).filter_by(username="alice").one()
    alice.timezone = "America/New_York"
    db.session.commit()
    html = login_client("alice").get("/schedule/mine").get_data(as_text=True)
    meeting = occurrences(db.session.query(MeetingSeries).filter_by(title="Alpha evening").one())[0]
    ny = meeting.starts_at.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert ny in html and "19:30" not in html


def test_coordinator_calendar_runs_a_fixed_number_of_queries(factory, login_client, db):
    factory.user("coord", Role.COORDINATOR)
    coordinator = login_client("coord")
    start = soon(1)
    page = f"/schedule/calendar?week={start.isoformat()}"

    def add_meetings(n: int, offset: int) -> None:
        for i in range(n):
            group = factory.group(f"Group {offset + i}")
            factory.moderator(group, factory.user(f"expert{offset + i}", Role.PEER_EXPERT))
            when = datetime.combine(start + timedelta(days=i % 20), time(9 + i % 10, 0), AMS)
            db.session.add(
                Meeting(
                    group=group,
                    starts_at=when,
                    duration_minutes=60,
                    timezone="Europe/Amsterdam",
                    title=f"M{offset + i}",
                )
            )
        db.session.commit()

    add_meetings(5, 0)
    coordinator.get(page)  # warm up
    with count_queries() as few:
        html = coordinator.get(page).get_data(as_text=True)
    assert html.count('class="meeting"') == 5
    add_meetings(45, 5)
    with count_queries() as many:
        html = coordinator.get(page).get_data(as_text=True)
    assert html.count('class="meeting"') == 50
    assert len(few) == len(many), (few, many)
    print(f"coordinator calendar: {len(few)} queries for 5 meetings, {len(many)} for 50")


def test_the_timezone_is_chosen_from_a_list_on_the_planning_and_edit_forms(coordinator, factory, db):
    """Not typed: the same grouped list as the settings page, Amsterdam first and chosen; editing a meeting in a zone
    the list does not offer keeps that zone offered."""
    import re

    group = factory.group()
    html = coordinator.get(new_page(group)).get_data(as_text=True)
    select = re.search(r'<select[^>]*name="timezone".*?</select>', html, re.S)
    assert select and "<optgroup" in select.group(0)
    assert re.search(r'<option selected value="Europe/Amsterdam">|<option value="Europe/Amsterdam" selected', html)
    assert plan(coordinator, group, timezone="US/Pacific").status_code == 302  # a known zone is still taken
    meeting = db.session.query(Meeting).one()
    edit = coordinator.get(f"/schedule/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert re.search(r'<option selected value="US/Pacific">|<option value="US/Pacific" selected', edit)
