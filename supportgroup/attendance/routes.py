"""Attendance reports: per meeting, per member, and a chart per group.

Coordinators and admins see names (aliases, or a peer expert's first name), times and minutes; a
group's own peer experts see counts only; participants see none of it (403). Each page runs a fixed
number of queries, whatever the number of meetings or members.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import Group, Meeting, Membership, User
from ..permissions import ATTENDANCE_FULL, attendance_access, require_attendance_details
from . import reports
from .chart import bar_chart

bp = Blueprint("attendance", __name__)


@bp.route("/meetings/<int:meeting_id>")
@login_required
def meeting(meeting_id: int):
    meeting = db.session.get(Meeting, meeting_id, options=[joinedload(Meeting.group)])
    if meeting is None:
        abort(404)
    access = attendance_access(current_user, meeting.group_id)
    full = access == ATTENDANCE_FULL
    report = reports.meeting_report(meeting, with_names=full)
    return render_template("attendance/meeting.html", meeting=meeting, group=meeting.group, report=report, full=full)


@bp.route("/members/<int:membership_id>")
@login_required
def member(membership_id: int):
    require_attendance_details(current_user)
    membership = db.session.get(
        Membership,
        membership_id,
        options=[joinedload(Membership.group), joinedload(Membership.user).joinedload(User.profile)],
    )
    if membership is None:
        abort(404)
    report = reports.member_report(membership)
    return render_template("attendance/member.html", membership=membership, group=membership.group, report=report)


@bp.route("/groups/<int:group_id>")
@login_required
def group(group_id: int):
    group = db.session.get(Group, group_id)
    if group is None:
        abort(404)
    access = attendance_access(current_user, group.id)
    rows = reports.group_counts(group)
    chart = bar_chart(rows)
    return render_template(
        "attendance/group.html",
        group=group,
        rows=rows,
        chart=chart,
        full=access == ATTENDANCE_FULL,
        active_participants=reports.active_participant_count(group.id),
        chart_limit=reports.CHART_MEETINGS,
    )
