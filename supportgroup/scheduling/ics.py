"""Calendar export (RFC 5545) with the icalendar library.

What leaves the app here is deliberately little: per meeting a title, the times in UTC, and for a
cancelled meeting the reason. Never members, aliases or anything about the account.

Calendars are often seen by others (a shared phone, a partner who checks it). By default an event is
called just "Appointment" (`CALENDAR_TITLES=neutral`); a deployment may choose `group` to show the
group's name and the meeting's title instead.

A person may ask for a reminder (`User.calendar_alarm_minutes`): each meeting that is not cancelled then
carries a VALARM that pops up that long before. Its text is always "Appointment", whatever the deployment shows
as titles: a reminder pops up on a locked screen, where anyone near the phone reads it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from icalendar import Alarm, Calendar, Event

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


def reminder(meeting: Meeting, minutes: int) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _("Appointment"))  # neutral always: it pops up on a locked screen
    alarm.add("trigger", timedelta(minutes=-minutes))
    return alarm


def meeting_event(meeting: Meeting, stamp, alarm_minutes: int | None = None) -> Event:
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
        if alarm_minutes:
            event.add_component(reminder(meeting, alarm_minutes))
    return event


def calendar_for(meetings: Iterable[Meeting], name: str, alarm_minutes: int | None = None) -> bytes:
    """A VCALENDAR holding one VEVENT per meeting (with a reminder `alarm_minutes` before, if given), serialised."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name(name))
    stamp = utcnow()
    for meeting in meetings:
        calendar.add_component(meeting_event(meeting, stamp, alarm_minutes))
    return calendar.to_ical()
