"""Safeguarding incidents recorded by peer experts during meetings: a list and one incident's page.

Coordinators and admins see every group's incidents; a trained peer expert sees those of the groups they
moderate; participants never (403). Pages carry personal content, so they are sent with `no-store`. Both
pages are audited reads (NEN 7513): the list (LIST_INCIDENTS, it shows the start of each note) and each
incident opened (VIEW_INCIDENT, its snapshot says who wrote what).
"""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from ..audit import AuditAction, record
from ..edge import committing
from ..extensions import db
from ..models import Group, Incident, Meeting, User
from ..permissions import incident_group_ids, require_incident_viewer
from . import services

bp = Blueprint("incidents", __name__)


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/")
@login_required
def index():
    allowed = incident_group_ids(current_user)
    group_id = request.args.get("group", type=int)
    if group_id is not None:
        require_incident_viewer(current_user, group_id)
    incidents = services.incidents_for(allowed, group_id)
    # The list shows the start of each note (which may name an alias): an audited read, with what was listed.
    with committing():
        record(
            current_user,
            AuditAction.LIST_INCIDENTS,
            "incidents",
            group_id if group_id is not None else "all",
            group_id=group_id,
            reason=f"incidents of group {group_id}" if group_id is not None else "incidents of every group allowed",
        )
    group_query = select(Group).order_by(Group.name)
    if allowed is not None:
        group_query = group_query.where(Group.id.in_(allowed or [-1]))
    groups = list(db.session.scalars(group_query))
    names = {g.id: g.name for g in groups}
    meeting_ids = {i.meeting_id for i in incidents if i.meeting_id}
    meetings = (
        {m.id: m for m in db.session.scalars(select(Meeting).where(Meeting.id.in_(meeting_ids)))} if meeting_ids else {}
    )
    return _no_store(
        make_response(
            render_template(
                "safety/incidents/index.html",
                incidents=incidents,
                groups=groups,
                names=names,
                meetings=meetings,
                selected=group_id,
            )
        )
    )


@bp.route("/<int:incident_id>")
@login_required
def show(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    require_incident_viewer(current_user, incident.group_id)
    # Opening one incident shows its snapshot (who wrote what): an audited read, committed here at the edge.
    with committing():
        record(
            current_user,
            AuditAction.VIEW_INCIDENT,
            "incident",
            incident.id,
            group_id=incident.group_id,
            meeting_id=incident.meeting_id,
        )
    group = db.session.get(Group, incident.group_id)
    meeting = db.session.get(Meeting, incident.meeting_id) if incident.meeting_id else None
    author = db.session.get(User, incident.created_by_user_id) if incident.created_by_user_id else None
    recorded_by = (author.profile.first_name if author is not None and author.profile else "") or ""
    return _no_store(
        make_response(
            render_template(
                "safety/incidents/show.html", incident=incident, group=group, meeting=meeting, recorded_by=recorded_by
            )
        )
    )
