"""Shared helpers for the scheduling and calendar tests."""

from __future__ import annotations

import calendar
from contextlib import contextmanager
from datetime import date, time, timedelta

from sqlalchemy import event

from supportgroup.extensions import db
from supportgroup.models import Meeting, MeetingSeries
from supportgroup.scheduling.series import create_series
from supportgroup.scheduling.zones import local_start_of
from tests.conftest import csrf_token, is_savepoint


def post_form(http, page: str, action: str, data: dict):
    return http.post(action, data={"csrf_token": csrf_token(http, page), **data})


def new_page(group) -> str:
    """The coordinator's form to plan a meeting or a series for `group`."""
    return f"/schedule/groups/{group.id}/meetings/new"


def plan(http, group, **fields):
    """Post the planning form as a coordinator would: a one-off meeting in a week at 19:30 unless `fields` say more."""
    data = {
        "title": "Check-in",
        "starts_on": soon().isoformat(),
        "local_start": "19:30",
        "duration_minutes": "90",
        "timezone": "Europe/Amsterdam",
        "repeat": "once",
        "interval": "1",
        "weekday": "",  # the form's default: the day of the first date
        "week_of_month": "1",
        **fields,
    }
    return post_form(http, new_page(group), new_page(group), data)


def next_year() -> int:
    return date.today().year + 1


def last_sunday(year: int, month: int) -> date:
    return date(year, month, max(week[6] for week in calendar.monthcalendar(year, month)))


def soon(days: int = 7) -> date:
    return date.today() + timedelta(days=days)


def series(
    group,
    *,
    starts_on: date | None = None,
    frequency: str = "weekly",
    interval: int = 1,
    weekday: int | None = None,
    week_of_month: int | None = None,
    local_start: time = time(19, 30),
    duration_minutes: int = 90,
    tz_name: str = "Europe/Amsterdam",
    until: date | None = None,
    count: int | None = 6,
    title: str = "Evening",
) -> MeetingSeries:
    """Plan a series through the service and commit, as a route would."""
    starts_on = starts_on or soon()
    made = create_series(
        group,
        title=title,
        frequency=frequency,
        interval=interval,
        weekday=starts_on.weekday() if weekday is None else weekday,
        week_of_month=week_of_month,
        local_start=local_start,
        duration_minutes=duration_minutes,
        tz_name=tz_name,
        starts_on=starts_on,
        until=until,
        count=count,
    )
    db.session.commit()
    return made


def occurrences(made: MeetingSeries | int) -> list[Meeting]:
    series_id = made if isinstance(made, int) else made.id
    return db.session.query(Meeting).filter(Meeting.series_id == series_id).order_by(Meeting.starts_at).all()


def local(meeting: Meeting):
    return local_start_of(meeting)


@contextmanager
def count_queries():
    """Count the SQL statements run inside the block (including those of test-client requests)."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if not is_savepoint(statement):
            statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)
