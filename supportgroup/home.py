"""The landing page and each user's dashboard."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from .groups.services import groups_of
from .models import Role
from .permissions import can_manage_groups
from .scheduling.services import member_meetings

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    return redirect(url_for("auth.login"))


@bp.route("/home")
@login_required
def dashboard():
    if can_manage_groups(current_user):
        from .groups.overview import dashboard_data

        return render_template("coordinator_dashboard.html", **dashboard_data())
    memberships = groups_of(current_user)
    # Cancelled meetings stay in the list with their reason, so nobody waits for a meeting that is off.
    meetings = member_meetings(current_user, limit=20)
    return render_template("home.html", memberships=memberships, meetings=meetings,
                           manages_groups=can_manage_groups(current_user),
                           shows_rota=current_user.role == Role.PEER_EXPERT)
