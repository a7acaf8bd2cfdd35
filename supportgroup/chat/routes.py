"""The meeting page (the chat) and the moderator's open and close buttons."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm

from ..edge import committing
from ..errors import DomainError
from ..groups import enrolment
from ..models import MeetingState, utcnow
from ..permissions import require_meeting_member, require_meeting_moderator
from ..realtime.describe import person
from ..realtime.loaders import load_meeting
from ..realtime.push import push_meeting_state
from ..safety.routes import safety_check_done
from ..scheduling import meetings
from . import services

bp = Blueprint("chat", __name__)


@bp.route("/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(current_user, meeting)
    lobby_at = meeting.starts_at - timedelta(minutes=current_app.config["LOBBY_MINUTES"])
    # Participants go through the (skippable) safety check once per meeting before the live chat, when the
    # lobby opens (not days before: until then the page counts down and shows the check by itself then).
    return render_template(
        "chat/meeting.html",
        meeting=meeting,
        membership=membership,
        me=person(membership),
        form=FlaskForm(),
        safety_check_done=safety_check_done(meeting, membership),
        lobby_at=lobby_at,
        before_lobby=meeting.state == MeetingState.SCHEDULED and utcnow() < lobby_at,
        rules_needed=not membership.is_moderator and not enrolment.has_accepted_rules(membership),
        next_meeting=services.next_meeting(meeting),
    )


@bp.route("/<int:meeting_id>/state")
@login_required
def meeting_state(meeting_id: int):
    """Whether the meeting is open, for the countdown page before the lobby opens (it has no socket): a peer expert
    may open it early, and the person waiting there should not have to reload. Nothing but the state."""
    meeting = load_meeting(meeting_id)
    require_meeting_member(current_user, meeting)
    response = jsonify({"state": meeting.state.value})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:meeting_id>/rules", methods=["POST"])
@login_required
def accept_rules(meeting_id: int):
    """The house rules accepted on the meeting page (as on the group's page); back to the meeting, which
    then loads the chat."""
    meeting = load_meeting(meeting_id)
    membership = require_meeting_member(current_user, meeting)
    if FlaskForm().validate_on_submit():
        with committing():
            enrolment.accept_house_rules(membership)
        flash(_("Thank you. You have accepted the house rules."), "success")
    return redirect(url_for("chat.meeting", meeting_id=meeting.id))


def _change_state(meeting_id: int, change, done_message: str):
    meeting = load_meeting(meeting_id)
    require_meeting_moderator(current_user, meeting)
    if FlaskForm().validate_on_submit():
        try:
            with committing():
                change(meeting, current_user)
        except DomainError as error:
            if error.code == meetings.EARLY_OPEN:  # days before: a confirm step (scheduling.confirm_open)
                return redirect(url_for("scheduling.confirm_open", meeting_id=meeting.id))
            flash(str(error.message), "error")
        else:
            push_meeting_state(meeting.id)
            flash(done_message, "success")
    return redirect(url_for("chat.meeting", meeting_id=meeting.id))


@bp.route("/<int:meeting_id>/open", methods=["POST"])
@login_required
def open_meeting(meeting_id: int):
    early_ok = request.form.get("confirm_early") == "1"
    return _change_state(
        meeting_id, partial(meetings.open_meeting, confirmed_early=early_ok), _("The meeting is open.")
    )


@bp.route("/<int:meeting_id>/close", methods=["POST"])
@login_required
def close_meeting(meeting_id: int):
    return _change_state(meeting_id, meetings.close_meeting, _("The meeting is closed."))
