"""The next meeting as a card ("My meetings" and home): which meeting it is, when, and how long until it starts.

Times are on the viewer's wall clock (Flask-Babel's timezone, from their settings) in 24-hour form in every
language. The countdown is worked out when the page is made; it is a hint, not a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import format_date, get_timezone, ngettext
from flask_babel import gettext as _

from ..models import Meeting, MeetingState, utcnow


@dataclass(frozen=True)
class NextMeeting:
    meeting: Meeting
    name: str  # the group, and the meeting's own title if it has one
    day: str  # "Thursday 3 December"
    time: str  # "19:00–20:30"
    countdown: str  # "Starts in 3 hours", "Open now", ...
    is_open: bool
    url: str  # the meeting page


def pick(meetings: list[Meeting], now: datetime) -> Meeting | None:
    """An open meeting first; else the earliest planned one that has not ended. Cancelled and closed ones never."""
    for meeting in meetings:
        if meeting.state == MeetingState.OPEN:
            return meeting
    upcoming = [m for m in meetings if m.state == MeetingState.SCHEDULED and m.ends_at > now]
    return min(upcoming, key=lambda m: (m.starts_at, m.id), default=None)


def countdown(meeting: Meeting, now: datetime) -> str:
    if meeting.state == MeetingState.OPEN:
        return _("Open now")
    left = meeting.starts_at - now
    if left <= timedelta(minutes=1):
        return _("Starts any moment: the peer expert opens the meeting.")
    minutes = round(left.total_seconds() / 60)
    if minutes < 60:
        return ngettext("Starts in %(num)d minute", "Starts in %(num)d minutes", minutes)
    hours = round(minutes / 60)
    tz = get_timezone()
    days = (meeting.starts_at.astimezone(tz).date() - now.astimezone(tz).date()).days
    if hours < 24 or days < 1:
        return ngettext("Starts in %(num)d hour", "Starts in %(num)d hours", hours)
    if days == 1:
        return _("Starts tomorrow")
    return ngettext("Starts in %(num)d day", "Starts in %(num)d days", days)


def next_meeting(meetings: list[Meeting], now: datetime | None = None) -> NextMeeting | None:
    now = now or utcnow()
    meeting = pick(meetings, now)
    if meeting is None:
        return None
    tz = get_timezone()
    start, end = meeting.starts_at.astimezone(tz), meeting.ends_at.astimezone(tz)
    name = f"{meeting.group.name}: {meeting.title}" if meeting.title else meeting.group.name
    return NextMeeting(
        meeting=meeting,
        name=name,
        day=format_date(start.date(), "EEEE d MMMM"),
        time=f"{start:%H:%M}–{end:%H:%M}",
        countdown=countdown(meeting, now),
        is_open=meeting.state == MeetingState.OPEN,
        url=url_for("chat.meeting", meeting_id=meeting.id),
    )
