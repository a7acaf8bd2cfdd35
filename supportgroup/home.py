"""The landing page and each user's dashboard, and the page rules every template may ask (`can`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from . import permissions
from .groups.roster import groups_of
from .scheduling.listings import member_meetings
from .scheduling.next_up import next_meeting

bp = Blueprint("home", __name__)


@bp.app_context_processor
def page_rules() -> dict[str, Callable[..., bool]]:
    """`can("see_pool")`: the current user's page rules (permissions.PAGE_RULES); `is_participant(membership)`.
    Templates compare no role names themselves."""
    return {"can": lambda action: permissions.can(current_user, action), "is_participant": permissions.is_participant}


@bp.route("/")
def index() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@login_required
def dashboard() -> Any:
    if permissions.can_manage_groups(current_user):
        from .groups.overview import dashboard_data

        return render_template("coordinator_dashboard.html", **dashboard_data())
    memberships = groups_of(current_user)
    # Cancelled meetings stay in the list with their reason, so nobody waits for a meeting that is off.
    meetings = member_meetings(current_user, limit=20)
    return render_template(
        "home.html",
        memberships=memberships,
        meetings=meetings,
        next_card=next_meeting(meetings),
        manages_groups=permissions.can_manage_groups(current_user),
        shows_rota=permissions.can(current_user, "see_rota"),
    )
