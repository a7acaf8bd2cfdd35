"""Calendar export (RFC 5545) with the icalendar library.

What leaves the app here is deliberately little: per meeting a title, the times in UTC, and for a
cancelled meeting the reason. Never members, aliases or anything about the account.

Calendars are often seen by others (a shared phone, a partner who checks it). By default an event is
called just "Appointment" (`CALENDAR_TITLES=neutral`); a deployment may choose `group` to show the
group's name and the meeting's title instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from flask_babel import gettext as _
from icalendar import Calendar, Event

from ..models import Meeting, MeetingState, utcnow

PRODID = "-//supportgroup//Peer support meetings//EN"
UID_DOMAIN = "supportgroup"


def meeting_uid(meeting: Meeting) -> str:
    """Stable for the life of the meeting, so calendar apps update the event instead of adding one."""
    return f"meeting-{meeting.id}@{UID_DOMAIN}"


def shows_group_names() -> bool:
    return current_app.config["CALENDAR_TITLES"] == "group"


def summary(meeting: Meeting) -> str:
    if not shows_group_names():
        return _("Appointment")
    return f"{meeting.group.name}: {meeting.title}" if meeting.title else meeting.group.name


def calendar_name(default: str) -> str:
    return default if shows_group_names() else _("Appointments")


def meeting_event(meeting: Meeting, stamp) -> Event:
    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("dtstamp", stamp)
    event.add("dtstart", meeting.starts_at)
    event.add("dtend", meeting.ends_at)
    event.add("summary", summary(meeting))
    if meeting.state == MeetingState.CANCELLED:
        event.add("status", "CANCELLED")
        reason = meeting.cancel_reason or _("No reason given.")
        event.add("description", _("Cancelled: %(reason)s", reason=reason))
    else:
        event.add("status", "CONFIRMED")
    return event


def calendar_for(meetings: Iterable[Meeting], name: str) -> bytes:
    """A VCALENDAR holding one VEVENT per meeting, serialised."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name(name))
    stamp = utcnow()
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, stamp))
    return calendar.to_ical()
