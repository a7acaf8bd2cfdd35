"""Issue #14 review: the horizon job (`scheduling/horizon.py`) is serialised with edits and cancels of the rest
of a series (`scheduling/changes.py`), and skips a date on which the series' time is not on the clock.

Each race runs two transactions on connections of their own (marked `committed`), on both backends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event

from supportgroup.errors import DomainError
from supportgroup.extensions import db
from supportgroup.models import Meeting, MeetingSeries, MeetingState, Role, User, utcnow
from supportgroup.scheduling import changes, horizon, wallclock
from supportgroup.scheduling.series import HORIZON_WEEKS
from tests.scheduling_helpers import local, occurrences, series, soon

AMSTERDAM = "Europe/Amsterdam"
LATER = timedelta(weeks=10)  # the job's clock: ten weeks on, so it has weeks to add


def _open_ended(factory) -> MeetingSeries:
    return series(factory.group(), starts_on=soon(3), count=None)


def _job_reads_then(app, made: MeetingSeries, change: Callable[[], None]) -> int:
    """The job (another process) reads the series; `change` commits here; then the job extends and commits."""
    read, go, result = threading.Event(), threading.Event(), {}

    def job() -> None:
        with app.app_context():
            try:
                theirs = db.session.get(MeetingSeries, made.id)
                assert theirs is not None and theirs.until is None
                read.set()
                go.wait(10)
                result["added"] = horizon.extend_series(theirs, utcnow() + LATER)
                db.session.commit()
            finally:
                read.set()
                db.session.remove()

    worker = threading.Thread(target=job)
    worker.start()
    assert read.wait(10)
    change()
    db.session.commit()
    go.set()
    worker.join(20)
    db.session.expire_all()
    return result["added"]


def _scheduled_after_end(series_id: int) -> list[Meeting]:
    ended = db.session.get(MeetingSeries, series_id)
    assert ended is not None and ended.until is not None
    return [m for m in occurrences(series_id) if m.state == MeetingState.SCHEDULED and local(m).date() > ended.until]


@pytest.mark.committed
def test_a_cancel_committed_after_the_job_read_the_series_gets_no_new_meetings(app, factory, db):
    made, coordinator = _open_ended(factory), factory.user("coord", Role.COORDINATOR)
    third = occurrences(made)[2]

    def cancel() -> None:
        changes.cancel_meeting(third, coordinator, reason="The group stops.", scope=changes.SCOPE_FOLLOWING)

    assert _job_reads_then(app, made, cancel) == 0
    assert _scheduled_after_end(made.id) == [] and len(occurrences(made)) == HORIZON_WEEKS + 1


def _move_following_to_eight(meeting: Meeting, actor) -> None:
    """Edit this meeting and the following: "Later", at 20:00 for an hour."""
    changes.edit_meeting(
        meeting,
        actor,
        title="Later",
        local_start=datetime.combine(local(meeting).date(), time(20, 0)),
        duration_minutes=60,
        tz_name=AMSTERDAM,
        scope=changes.SCOPE_FOLLOWING,
    )


@pytest.mark.committed
def test_an_edit_committed_after_the_job_read_the_series_is_not_extended_at_the_old_time(app, factory, db):
    made, coordinator = _open_ended(factory), factory.user("coord", Role.COORDINATOR)
    first = occurrences(made)[0]

    def edit() -> None:  # from the first meeting on: the series itself gets the new time
        _move_following_to_eight(first, coordinator)

    assert _job_reads_then(app, made, edit) == 0
    assert all(local(m).time() == time(20, 0) for m in occurrences(made))
    assert horizon.extend_open_series(now=utcnow() + LATER) >= 8  # the next round plans at the new time
    db.session.commit()
    assert all(local(m).time() == time(20, 0) and m.title == "Later" for m in occurrences(made))


@pytest.mark.committed
def test_a_split_committed_after_the_job_read_the_series_plans_no_week_twice(app, factory, db):
    made, coordinator = _open_ended(factory), factory.user("coord", Role.COORDINATOR)
    third = occurrences(made)[2]

    def split() -> None:
        changes.edit_meeting(
            third,
            coordinator,
            title="Later",
            local_start=datetime.combine(local(third).date(), time(20, 0)),
            duration_minutes=60,
            tz_name=AMSTERDAM,
            scope=changes.SCOPE_FOLLOWING,
        )

    assert _job_reads_then(app, made, split) == 0
    assert _scheduled_after_end(made.id) == []
    horizon.extend_open_series(now=utcnow() + LATER)
    db.session.commit()
    days = [local(m).date() for m in db.session.query(Meeting).filter(Meeting.group_id == made.group_id).all()]
    assert len(days) == len(set(days)) > HORIZON_WEEKS + 1


@pytest.mark.committed
def test_a_cancel_waits_for_a_job_that_claimed_first_and_cancels_its_meetings_too(app, factory, db):
    """The job claimed the series and added meetings; a cancel of the rest starts before the job commits."""
    made, coordinator_id = _open_ended(factory), factory.user("coord", Role.COORDINATOR).id
    third_id = occurrences(made)[2].id
    started, result = threading.Event(), {}
    canceller: list[int] = []

    def first_lock_or_write(conn, cursor, statement, parameters, context, executemany) -> None:
        # The cancel's first statement that waits for the job (lock or write): from here it may block.
        if canceller and threading.get_ident() == canceller[0]:
            text = statement.lstrip().upper()
            if text.startswith(("UPDATE", "INSERT")) or ("FOR UPDATE" in text and "FROM MEETING_SERIES" in text):
                started.set()

    def cancel() -> None:
        canceller.append(threading.get_ident())
        with app.app_context():
            try:
                meeting, actor = db.session.get(Meeting, third_id), db.session.get(User, coordinator_id)
                assert meeting is not None and actor is not None
                changed = changes.cancel_meeting(meeting, actor, reason="Stops.", scope=changes.SCOPE_FOLLOWING)
                result["cancelled"] = len(changed)
                db.session.commit()
            finally:
                started.set()
                db.session.remove()

    added = horizon.extend_open_series(now=utcnow() + LATER)  # claimed and flushed, not committed
    assert added >= 8
    event.listen(db.engine, "before_cursor_execute", first_lock_or_write)
    try:
        worker = threading.Thread(target=cancel)
        worker.start()
        assert started.wait(10)
        db.session.commit()
        worker.join(20)
    finally:
        event.remove(db.engine, "before_cursor_execute", first_lock_or_write)
    db.session.expire_all()
    assert result["cancelled"] == HORIZON_WEEKS + 1 - 2 + added
    assert _scheduled_after_end(made.id) == []


def test_moving_the_last_planned_meeting_and_the_following_moves_the_weeks_the_job_adds(factory, db):
    """The rest of an open-ended series goes on past its last planned meeting: the job plans it at the new time."""
    made, coordinator = _open_ended(factory), factory.user("coord", Role.COORDINATOR)
    last = occurrences(made)[-1]
    day = local(last).date()
    _move_following_to_eight(last, coordinator)
    assert horizon.extend_open_series(now=utcnow() + LATER) >= 8
    after = db.session.query(Meeting).filter(Meeting.group_id == made.group_id, Meeting.starts_at > last.starts_at)
    assert all(local(m).time() == time(20, 0) and m.title == "Later" for m in after)
    with pytest.raises(DomainError) as refused:  # and, like any rest of a series, it keeps its dates
        changes.edit_meeting(
            last,
            coordinator,
            title="Later",
            local_start=datetime.combine(day + timedelta(days=1), time(20, 0)),
            duration_minutes=60,
            tz_name=AMSTERDAM,
            scope=changes.SCOPE_FOLLOWING,
        )
    assert refused.value.code == "series_keeps_dates"


def _next_clock_change(tz: ZoneInfo, at: time, kind: str) -> date:
    """The next date on which daylight saving skips (spring) or repeats (autumn) the wall-clock time `at`."""
    day = date.today() + timedelta(days=1)
    while wallclock.problem(datetime.combine(day, at), tz) != kind:
        day += timedelta(days=1)
    return day


@pytest.mark.parametrize("kind", [wallclock.SKIPPED, wallclock.REPEATED])
def test_the_job_skips_a_date_whose_start_time_daylight_saving_skips_or_repeats(factory, db, kind, caplog):
    at, tz = time(2, 30), ZoneInfo(AMSTERDAM)
    change = _next_clock_change(tz, at, kind)
    made = MeetingSeries(  # planned earlier at 02:30: its first 26 weeks had no clock change
        group=factory.group(),
        title="Night",
        frequency="weekly",
        interval=1,
        weekday=change.weekday(),
        local_start=at,
        duration_minutes=60,
        timezone=AMSTERDAM,
        starts_on=change - timedelta(weeks=3),
        materialised_until=change - timedelta(days=1),
    )
    db.session.add(made)
    db.session.flush()
    now = datetime.combine(change - timedelta(weeks=HORIZON_WEEKS - 3), time(12, 0), tzinfo=UTC)
    with caplog.at_level("WARNING", logger="supportgroup.scheduling.horizon"):
        added = horizon.extend_series(made, now)
    days = [local(m).date() for m in occurrences(made)]
    assert days == [change + timedelta(weeks=n) for n in (1, 2, 3)] and added == 3
    assert all(local(m).time() == at for m in occurrences(made))
    assert kind in caplog.text and str(change) in caplog.text
