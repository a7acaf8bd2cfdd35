""" "Needs attention" on the coordinator's overview: each item says what is waiting and links to where to act.

Requests to approve and waitlists (a group's page), meetings in the coming week without a trained peer expert
(the group's page, to assign one), open crisis alerts and reports (the group's page: the meeting itself is for
its peer experts and participants, and refuses coordinators) and incidents of the past week (the incident).
A fixed number of queries, whatever the number of groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from ..extensions import db
from ..models import (
    Alert,
    Group,
    Incident,
    Meeting,
    Membership,
    MembershipRole,
    MembershipStatus,
    PeerExpertProfile,
    Report,
    utcnow,
)

RECENT_INCIDENTS = timedelta(days=7)


@dataclass(frozen=True)
class Attention:
    kind: str  # requests, waitlist, no_trained_moderator, alerts, reports, incident (a test and CSS hook)
    text: str
    url: str
    action: str  # the link's words: what the coordinator does there


def _trained_moderated_group_ids() -> set[int]:
    return set(
        db.session.scalars(
            select(Membership.group_id)
            .join(PeerExpertProfile, PeerExpertProfile.user_id == Membership.user_id)
            .where(
                Membership.role == MembershipRole.MODERATOR,
                Membership.status == MembershipStatus.ACTIVE,
                PeerExpertProfile.trained.is_(True),
            )
            .distinct()
        )
    )


def _open_per_group(model: type[Alert] | type[Report]) -> list[tuple[int, str, int]]:
    """(group id, group name, how many open) for each group in use with open `model` rows in its meetings."""
    rows = db.session.execute(
        select(Group.id, Group.name, func.count(model.id))
        .join(Meeting, Meeting.group_id == Group.id)
        .join(model, model.meeting_id == Meeting.id)
        .where(model.resolved_at.is_(None), Group.archived_at.is_(None))
        .group_by(Group.id, Group.name)
        .order_by(Group.name)
    ).all()
    return [(group_id, name, count) for group_id, name, count in rows]


def needs_attention(lines, meetings: list[Meeting]) -> list[Attention]:
    """`lines` and `meetings` are the overview's own (overview.group_lines, overview.coming_week)."""
    items: list[Attention] = []
    for line in lines:
        group_url = url_for("groups.detail", group_id=line.group.id)
        if line.pending:
            text = ngettext(
                "%(group)s: %(num)d request to join to approve.",
                "%(group)s: %(num)d requests to join to approve.",
                line.pending,
                group=line.group.name,
            )
            items.append(Attention("requests", text, group_url + "#participants", _("Approve or decline")))
        if line.waitlisted:
            text = ngettext(
                "%(group)s: %(num)d person on the waitlist.",
                "%(group)s: %(num)d people on the waitlist.",
                line.waitlisted,
                group=line.group.name,
            )
            items.append(Attention("waitlist", text, group_url + "#participants", _("See the waitlist")))
    trained = _trained_moderated_group_ids()
    for meeting in meetings:
        if meeting.group_id not in trained:
            text = _("%(group)s meets without a trained peer expert.", group=meeting.group.name)
            items.append(
                Attention(
                    "no_trained_moderator",
                    text,
                    url_for("groups.detail", group_id=meeting.group_id) + "#peer-experts",
                    _("Assign a peer expert"),
                )
            )
            trained.add(meeting.group_id)  # one line per group, not one per meeting
    for group_id, name, count in _open_per_group(Alert):
        text = ngettext(
            "%(num)d open crisis alert in %(group)s.", "%(num)d open crisis alerts in %(group)s.", count, group=name
        )
        items.append(Attention("alerts", text, url_for("groups.detail", group_id=group_id), _("Open the group")))
    for group_id, name, count in _open_per_group(Report):
        text = ngettext("%(num)d open report in %(group)s.", "%(num)d open reports in %(group)s.", count, group=name)
        items.append(Attention("reports", text, url_for("groups.detail", group_id=group_id), _("Open the group")))
    since = utcnow() - RECENT_INCIDENTS
    incidents = db.session.execute(
        select(Incident.id, Group.name)
        .join(Group, Group.id == Incident.group_id)
        .where(Incident.created_at >= since, Group.archived_at.is_(None))
        .order_by(Incident.created_at.desc())
    ).all()
    for incident_id, group_name in incidents:
        text = _("An incident was recorded in %(group)s this week.", group=group_name)
        url = url_for("incidents.show", incident_id=incident_id)
        items.append(Attention("incident", text, url, _("Read the incident")))
    return items
