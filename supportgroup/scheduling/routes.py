"""Meeting planning, personal meeting lists and rotas, calendar export."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_timedelta, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..edge import committing
from ..errors import DomainError, show_on_form
from ..extensions import db
from ..models import Group, Meeting, MeetingSeries, utcnow
from ..permissions import (
    require_authenticated,
    require_calendar_viewer,
    require_meeting_moderator,
    require_rota_viewer,
    require_schedule_planner,
    require_schedule_viewer,
)
from . import changes, feeds, ics, listings, meetings, next_up, series, zones
from .forms import ONCE, CancelMeetingForm, EditMeetingForm, FeedAlarmForm, FeedForm, NewMeetingForm
from .lines import MeetingLine, MeetingLines, UrlTemplate

bp = Blueprint("scheduling", __name__)

CALENDAR_WEEKS = 4
# A service error names a field of the service; the form may call it differently.
FIELD_ALIASES = {"starts_at": "starts_on", "frequency": "repeat"}


def _viewer_zone() -> ZoneInfo:
    try:
        return zones.zone(current_user.timezone)
    except DomainError:
        return ZoneInfo("Europe/Amsterdam")


def _ics_response(body: bytes, filename: str) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- Lists ---------------------------------------------------------------------------------------


@bp.route("/mine")
@login_required
def mine():
    require_authenticated(current_user)
    lines = MeetingLines()
    upcoming = listings.member_meetings(current_user)
    return render_template(
        "scheduling/list.html",
        meetings=lines.lines(upcoming),
        next_card=next_up.next_meeting(upcoming),
        texts=lines.texts,
        heading=_("My meetings"),
        empty=_("No meetings planned for your groups."),
        console=False,
    )


@bp.route("/rota")
@login_required
def rota():
    require_rota_viewer(current_user)
    lines = MeetingLines()
    return render_template(
        "scheduling/list.html",
        meetings=lines.lines(listings.rota_meetings(current_user)),
        texts=lines.texts,
        heading=_("My rota"),
        empty=_("No meetings planned for the groups you moderate."),
        console=True,
    )


def _week_start(today: date) -> date:
    return today - timedelta(days=today.weekday())


def _calendar_start(tz: ZoneInfo) -> date:
    """The Monday of the week asked for (?week=YYYY-MM-DD), else of this week, in the viewer's zone."""
    asked = request.args.get("week", "")
    try:
        day = date.fromisoformat(asked) if asked else datetime.now(tz).date()
    except ValueError:
        day = datetime.now(tz).date()
    return _week_start(day)


@bp.route("/calendar")
@login_required
def calendar() -> str:
    """All groups' meetings by week, in a fixed number of queries however many there are."""
    require_calendar_viewer(current_user)
    tz = _viewer_zone()
    first = _calendar_start(tz)
    weeks = [first + timedelta(weeks=n) for n in range(CALENDAR_WEEKS)]
    start = datetime.combine(first, datetime.min.time(), tz)
    end = datetime.combine(first + timedelta(weeks=CALENDAR_WEEKS), datetime.min.time(), tz)
    in_view = listings.all_meetings_between(start, end)
    names = listings.moderator_names(sorted({m.group_id for m in in_view}))
    lines = MeetingLines()
    by_week: dict[date, list[MeetingLine]] = {week: [] for week in weeks}
    for meeting in in_view:
        week = _week_start(meeting.starts_at.astimezone(tz).date())
        by_week[week].append(lines.line(meeting, names.get(meeting.group_id)))
    plan_url = UrlTemplate("scheduling.new_meeting", "group_id")
    return render_template(
        "scheduling/calendar.html",
        by_week=by_week,
        texts=lines.texts,
        groups=[(g.name, plan_url(g.id)) for g in listings.plannable_groups()],
        previous=first - timedelta(weeks=CALENDAR_WEEKS),
        following=first + timedelta(weeks=CALENDAR_WEEKS),
    )


# --- Planning, changing, cancelling --------------------------------------------------------------


def _plan(group: Group, form: NewMeetingForm) -> Meeting | MeetingSeries:
    tz_name = form.timezone.data.strip()
    title = form.title.data or ""
    if form.repeat.data == ONCE:
        local = datetime.combine(form.starts_on.data, form.local_start.data)
        return meetings.create_meeting(group, local, form.duration_minutes.data, tz_name, title, actor=current_user)
    monthly = form.repeat.data == series.MONTHLY
    return series.create_series(
        group,
        title=title,
        frequency=form.repeat.data,
        interval=form.interval.data,
        weekday=form.chosen_weekday(),
        week_of_month=form.week_of_month.data if monthly else None,
        local_start=form.local_start.data,
        duration_minutes=form.duration_minutes.data,
        tz_name=tz_name,
        starts_on=form.starts_on.data,
        until=form.until.data,
        count=form.count.data,
        actor=current_user,
    )


def _when(meeting: Meeting) -> str:
    """A meeting's day in full, in the viewer's language and zone (24-hour time is added by the caller)."""
    return format_date(meeting.starts_at.astimezone(_viewer_zone()).date(), "EEEE d MMMM y")


def _planned_message(made: Meeting | MeetingSeries) -> str:
    """What was planned, in words: the day(s) and the time, so a wrong weekday shows at once."""
    if isinstance(made, Meeting):
        start = made.starts_at.astimezone(_viewer_zone())
        return _("The meeting has been planned: %(day)s at %(time)s.", day=_when(made), time=f"{start:%H:%M}")
    planned = listings.meetings_of_series(made)
    first, last = planned[0], planned[-1]
    details = ngettext(
        "%(num)d meeting, on %(first)s at %(time)s.",
        "%(num)d meetings, from %(first)s to %(last)s, at %(time)s.",
        len(planned),
        first=_when(first),
        last=_when(last),
        time=f"{first.starts_at.astimezone(_viewer_zone()):%H:%M}",
    )
    parts = [_("The series has been planned."), details]
    if made.until is None:
        parts.append(
            _("It has no end date: meetings keep being planned %(weeks)d weeks ahead.", weeks=series.HORIZON_WEEKS)
        )
    return " ".join(parts)


@bp.route("/groups/<int:group_id>/meetings/new", methods=["GET", "POST"])
@login_required
def new_meeting(group_id: int):
    form = NewMeetingForm()
    group = db.get_or_404(Group, group_id)
    require_schedule_planner(current_user, group)
    if form.validate_on_submit():
        try:
            with committing():
                made = _plan(group, form)
        except DomainError as error:
            show_on_form(form, error, rename=FIELD_ALIASES, above_form=True)
        else:
            flash(_planned_message(made), "success")
            return redirect(url_for("groups.detail", group_id=group.id))
    status = 400 if request.method == "POST" else 200
    return render_template("scheduling/new.html", form=form, group=group), status


def _prefill(form: EditMeetingForm, meeting: Meeting) -> None:
    local = zones.local_start_of(meeting)
    form.title.data = meeting.title
    form.starts_on.data, form.local_start.data = local.date(), local.time()
    form.duration_minutes.data = meeting.duration_minutes
    form.timezone.data = meeting.timezone
    form.offer_zones(meeting.timezone)


def _back_to_calendar(meeting: Meeting):
    return redirect(url_for("scheduling.calendar", week=meeting.starts_at.astimezone(_viewer_zone()).date()))


@bp.route("/meetings/<int:meeting_id>/edit", methods=["GET", "POST"])
@login_required
def edit_meeting(meeting_id: int):
    form = EditMeetingForm()
    meeting = db.get_or_404(Meeting, meeting_id)
    require_schedule_planner(current_user, meeting.group)
    if request.method == "GET":
        _prefill(form, meeting)
    elif form.validate_on_submit():
        try:
            with committing():
                changed = changes.edit_meeting(
                    meeting,
                    current_user,
                    title=form.title.data or "",
                    duration_minutes=form.duration_minutes.data,
                    local_start=datetime.combine(form.starts_on.data, form.local_start.data),
                    tz_name=form.timezone.data.strip(),
                    scope=form.scope.data,
                )
        except DomainError as error:
            show_on_form(form, error, rename=FIELD_ALIASES, above_form=True)
        else:
            flash(_("%(n)d meeting(s) changed.", n=len(changed)), "success")
            return _back_to_calendar(meeting)
    status = 400 if request.method == "POST" else 200
    return render_template("scheduling/edit.html", form=form, meeting=meeting), status


@bp.route("/meetings/<int:meeting_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel_meeting(meeting_id: int):
    form = CancelMeetingForm()
    meeting = db.get_or_404(Meeting, meeting_id)
    require_schedule_planner(current_user, meeting.group)
    if form.validate_on_submit():
        try:
            with committing():
                changed = changes.cancel_meeting(meeting, current_user, reason=form.reason.data, scope=form.scope.data)
        except DomainError as error:
            show_on_form(form, error, rename=FIELD_ALIASES, above_form=True)
        else:
            flash(_("%(n)d meeting(s) cancelled.", n=len(changed)), "success")
            return _back_to_calendar(meeting)
    status = 400 if request.method == "POST" else 200
    return render_template("scheduling/cancel.html", form=form, meeting=meeting), status


@bp.route("/meetings/<int:meeting_id>/open-early")
@login_required
def confirm_open(meeting_id: int):
    """The confirm step before a peer expert opens a meeting ahead of its lobby time.

    The open button posts to `chat.open_meeting`; the service refuses an early opening that is not
    confirmed (`meetings.EARLY_OPEN`) and the route sends the peer expert here. This page's button posts
    again, confirmed. Once the lobby time has come there is nothing to confirm: back to the meeting page.
    """
    meeting = db.get_or_404(Meeting, meeting_id)
    require_meeting_moderator(current_user, meeting)
    if not meetings.opens_early(meeting):
        return redirect(url_for("chat.meeting", meeting_id=meeting.id))
    start = meeting.starts_at.astimezone(_viewer_zone())
    return render_template(
        "scheduling/confirm_open.html",
        meeting=meeting,
        form=FlaskForm(),
        day=_when(meeting),
        time=f"{start:%H:%M}",
        lobby=f"{meetings.lobby_opens_at(meeting).astimezone(_viewer_zone()):%H:%M}",
        distance=format_timedelta(meeting.starts_at - utcnow(), granularity="minute", add_direction=True),
    )


# --- Calendar export -----------------------------------------------------------------------------


@bp.route("/meetings/<int:meeting_id>.ics")
@login_required
def meeting_ics(meeting_id: int):
    meeting = db.get_or_404(Meeting, meeting_id)
    require_schedule_viewer(current_user, meeting)
    body = ics.calendar_for([meeting], meeting.group.name, current_user.calendar_alarm_minutes)
    return _ics_response(body, f"meeting-{meeting.id}.ics")


@bp.route("/feed/<token>.ics")
def feed(token: str):
    """The personal feed: no login (calendar apps cannot log in), the secret in the URL is the key."""
    user = feeds.user_for_feed(token)
    if user is None:
        abort(404)
    body = ics.calendar_for(listings.feed_meetings(user), _("My meetings"), user.calendar_alarm_minutes)
    response = _ics_response(body, "meetings.ics")
    response.headers["Content-Disposition"] = 'inline; filename="meetings.ics"'
    return response


@bp.route("/feed", methods=["GET", "POST"])
@login_required
def feed_settings():
    require_authenticated(current_user)
    form = FeedForm()
    current_alarm = current_user.calendar_alarm_minutes
    alarm_form = FeedAlarmForm(prefix="alarm", data={"alarm": str(current_alarm) if current_alarm else ""})
    if alarm_form.save.data:
        # The reminder's own form; never the feed's (whose buttons are all absent here: "turn on" would win).
        if alarm_form.validate_on_submit():
            try:
                with committing():
                    feeds.set_alarm(current_user, int(alarm_form.alarm.data) if alarm_form.alarm.data else None)
            except DomainError as error:
                show_on_form(alarm_form, error)
            else:
                flash(_("Your reminder has been saved."), "success")
                return redirect(url_for("scheduling.feed_settings"))
    elif form.validate_on_submit():
        with committing():
            if form.disable.data:
                feeds.disable_feed(current_user)
                message = _("Your calendar feed is off.")
            elif form.renew.data:
                feeds.renew_feed(current_user)
                message = _("Your calendar feed has a new address. The old address no longer works.")
            else:
                feeds.enable_feed(current_user)
                message = _("Your calendar feed is on.")
        flash(message, "success")
        return redirect(url_for("scheduling.feed_settings"))
    token = current_user.calendar_token
    feed_url = url_for("scheduling.feed", token=token, _external=True) if token else None
    return render_template(
        "scheduling/feed.html",
        form=form,
        alarm_form=alarm_form,
        feed_url=feed_url,
        neutral_titles=not ics.shows_group_names(),
    ), 400 if alarm_form.errors else 200
