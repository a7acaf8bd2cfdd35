"""Finding an account to add to a group as you type: participants by username, peer experts by first name
or username. Only for coordinators (the route checks), and only what their pages already show: a participant's
username (never an alias: linking an alias to an account is an audited look-up), a peer expert's first name
and whether they are trained."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Group, Membership, MembershipRole, PeerExpertProfile, Role, User
from ..usernames import normalise_username
from .roster import CURRENT_STATUSES

MIN_QUERY = 2
MAX_RESULTS = 8


@dataclass(frozen=True)
class Found:
    value: str  # what the form posts: the username
    label: str  # what the list shows


def _in_group(group: Group, role: MembershipRole):
    return select(Membership.user_id).where(
        Membership.group_id == group.id, Membership.role == role, Membership.status.in_(CURRENT_STATUSES)
    )


def find_participants(group: Group, query: str) -> list[Found]:
    """Participant accounts whose username contains `query`, not already in the group."""
    text = normalise_username(query)
    if len(text) < MIN_QUERY:
        return []
    names = db.session.scalars(
        select(User.username)
        .where(
            User.role == Role.PARTICIPANT,
            User.is_enabled.is_(True),
            User.username.contains(text, autoescape=True),
            User.id.not_in(_in_group(group, MembershipRole.PARTICIPANT)),
        )
        .order_by(User.username.startswith(text, autoescape=True).desc(), User.username)
        .limit(MAX_RESULTS)
    )
    return [Found(name, name) for name in names]


def find_peer_experts(group: Group, query: str) -> list[Found]:
    """Peer experts whose first name or username contains `query`, not already moderating the group."""
    text = normalise_username(query)
    if len(text) < MIN_QUERY:
        return []
    rows = db.session.execute(
        select(User.username, PeerExpertProfile.first_name, PeerExpertProfile.trained)
        .outerjoin(PeerExpertProfile, PeerExpertProfile.user_id == User.id)
        .where(
            User.role == Role.PEER_EXPERT,
            User.is_enabled.is_(True),
            or_(
                User.username.contains(text, autoescape=True),
                func.lower(PeerExpertProfile.first_name).contains(text, autoescape=True),
            ),
            User.id.not_in(_in_group(group, MembershipRole.MODERATOR)),
        )
        .order_by(PeerExpertProfile.first_name, User.username)
        .limit(MAX_RESULTS)
    ).all()
    found = []
    for username, first_name, trained in rows:
        state = _("trained") if trained else _("not trained yet")
        found.append(Found(username, f"{first_name or username} ({username}) · {state}"))
    return found
