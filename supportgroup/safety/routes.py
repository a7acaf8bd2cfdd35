"""What keeps people safe in the browser: quick exit, crisis resources and the safety check.

- Every page gets `quick_exit_url` and `crisis` (the help panel and footer) from the context
  processor below: the admin's values (platform settings) where set, else the environment's and the files'.
- `POST /safety/check/<meeting_id>` records that a participant went through (or skipped) the safety
  check before a meeting. Only *that* it happened is stored, never the answers: the answers stay in the
  browser (the radio buttons are not part of the form that is sent).
"""

from __future__ import annotations

from contextlib import suppress

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..edge import committing
from ..extensions import db
from ..models import Meeting, MeetingState, Membership, SafetyCheck
from ..permissions import require_meeting_member
from . import resources
from .live_settings import quick_exit_url

bp = Blueprint("safety", __name__)


@bp.app_context_processor
def safety_context() -> dict:
    """Rendered pages only (never static files or socket events): one query for both settings (`live_settings`)."""
    locale = get_locale()
    return {
        "quick_exit_url": quick_exit_url(),
        "crisis": resources.load(locale.language if locale else None),
    }


def safety_check_done(meeting: Meeting, membership: Membership) -> bool:
    """Moderators never see the check; participants once per meeting they can still enter
    (a cancelled or closed meeting just shows what happened)."""
    if membership.is_moderator or meeting.state in (MeetingState.CANCELLED, MeetingState.CLOSED):
        return True
    return (
        db.session.scalar(
            select(SafetyCheck.id).where(
                SafetyCheck.meeting_id == meeting.id, SafetyCheck.membership_id == membership.id
            )
        )
        is not None
    )


class SafetyCheckForm(FlaskForm):
    """Only the CSRF token, and (from the button pressed) whether it was skipped: never the answers."""


@bp.route("/check/<int:meeting_id>", methods=["POST"])
@login_required
def check(meeting_id: int):
    meeting = db.get_or_404(Meeting, meeting_id)
    membership = require_meeting_member(current_user, meeting)
    form = SafetyCheckForm()
    if not form.validate_on_submit():
        flash(_("That did not work. Please try again."), "error")
        return redirect(url_for("chat.meeting", meeting_id=meeting.id))
    if not safety_check_done(meeting, membership):
        # The same check sent twice at once (two tabs) fails on the unique key: one row is enough.
        with suppress(IntegrityError), committing():
            db.session.add(
                SafetyCheck(
                    meeting_id=meeting.id, membership_id=membership.id, skipped=request.form.get("action") == "skip"
                )
            )
    return redirect(url_for("chat.meeting", meeting_id=meeting.id))
