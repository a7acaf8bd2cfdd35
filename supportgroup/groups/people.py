"""Finding an account to add to a group as you type: participants by username, peer experts by first name
or username. Only for coordinators (the route checks, rate-limits and audits each search), and only what their
pages already show: a participant's username (never an alias: linking an alias to an account is an audited
look-up), a peer expert's first name and whether they are trained.

A search matches the start of a name, from 3 characters on, so a short substring cannot list everyone. The
group's current participants are not left out: leaving them out would let two searches name a group's members.
Choosing one is refused by the add itself ("Already in this group"), as when the username is typed in full."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from ..extensions import db
from ..models import Group, Membership, MembershipRole, PeerExpertProfile, Role, User
from ..usernames import normalise_username
from .roster import CURRENT_STATUSES

MIN_QUERY = 3
MAX_RESULTS = 8


@dataclass(frozen=True)
class Found:
    value: str  # what the form posts: the username
    label: str  # what the list shows


def searchable(query: str) -> str | None:
    """The normalised query, or None when it is too short to search with."""
    text = normalise_username(query)
    return text if len(text) >= MIN_QUERY else None


def find_participants(query: str) -> list[Found]:
    """Participant accounts whose username starts with `query` (members of the group included)."""
    text = searchable(query)
    if text is None:
        return []
    names = db.session.scalars(
        select(User.username)
        .where(
            User.role == Role.PARTICIPANT,
            User.is_enabled.is_(True),
            User.username.startswith(text, autoescape=True),
        )
        .order_by(User.username)
        .limit(MAX_RESULTS)
    )
    return [Found(name, name) for name in names]


def find_peer_experts(group: Group, query: str) -> list[Found]:
    """Peer experts whose first name or username starts with `query`, not already moderating the group (its
    peer experts are listed by first name on the group's page anyway)."""
    text = searchable(query)
    if text is None:
        return []
    moderating = select(Membership.user_id).where(
        Membership.group_id == group.id,
        Membership.role == MembershipRole.MODERATOR,
        Membership.status.in_(CURRENT_STATUSES),
    )
    rows = db.session.execute(
        select(User.username, PeerExpertProfile.first_name, PeerExpertProfile.trained)
        .outerjoin(PeerExpertProfile, PeerExpertProfile.user_id == User.id)
        .where(
            User.role == Role.PEER_EXPERT,
            User.is_enabled.is_(True),
            or_(
                User.username.startswith(text, autoescape=True),
                func.lower(PeerExpertProfile.first_name).startswith(text, autoescape=True),
            ),
            User.id.not_in(moderating),
        )
        .order_by(PeerExpertProfile.first_name, User.username)
        .limit(MAX_RESULTS)
    ).all()
    found = []
    for username, first_name, trained in rows:
        state = _("trained") if trained else _("not trained yet")
        found.append(Found(username, f"{first_name or username} ({username}) · {state}"))
    return found
