"""Lists of meetings: a group's, a member's, a peer expert's rota, the calendar, a personal feed's."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Group,
    Meeting,
    MeetingSeries,
    MeetingState,
    Membership,
    MembershipRole,
    MembershipStatus,
    PeerExpertProfile,
    User,
    utcnow,
)

LIST_PAST = timedelta(hours=12)
LIST_LIMIT = 200
FEED_PAST = timedelta(days=30)


def meetings_of_group(group: Group) -> list[Meeting]:
    return list(db.session.scalars(select(Meeting).where(Meeting.group_id == group.id).order_by(Meeting.starts_at)))


def meetings_of_series(made: MeetingSeries) -> list[Meeting]:
    return list(
        db.session.scalars(select(Meeting).where(Meeting.series_id == made.id).order_by(Meeting.starts_at, Meeting.id))
    )


def _active_group_ids(user: User, role: MembershipRole | None = None) -> Select:
    query = (
        select(Membership.group_id)
        .join(Group, Group.id == Membership.group_id)
        .where(Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE, Group.archived_at.is_(None))
    )
    if role is not None:
        query = query.where(Membership.role == role)
    return query


def _meetings_in(
    group_ids: Select, start: datetime, end: datetime | None = None, limit: int = LIST_LIMIT
) -> list[Meeting]:
    """Meetings of these groups from `start` on (open ones always), with their group loaded in one go."""
    query = (
        select(Meeting)
        .options(joinedload(Meeting.group))
        .where(Meeting.group_id.in_(group_ids), (Meeting.starts_at >= start) | (Meeting.state == MeetingState.OPEN))
    )
    if end is not None:
        query = query.where(Meeting.starts_at < end)
    return list(db.session.scalars(query.order_by(Meeting.starts_at, Meeting.id).limit(limit)))


def member_meetings(user: User, limit: int = LIST_LIMIT) -> list[Meeting]:
    """ "My meetings": upcoming meetings (cancelled ones too, with their reason) of the user's groups."""
    return _meetings_in(_active_group_ids(user), utcnow() - LIST_PAST, limit=limit)


def rota_meetings(user: User, limit: int = LIST_LIMIT) -> list[Meeting]:
    """A peer expert's rota: upcoming meetings of the groups they moderate."""
    return _meetings_in(_active_group_ids(user, MembershipRole.MODERATOR), utcnow() - LIST_PAST, limit=limit)


def all_meetings_between(start: datetime, end: datetime) -> list[Meeting]:
    """Every group's meetings in [start, end): one query, groups joined in (no per-row loads)."""
    return list(
        db.session.scalars(
            select(Meeting)
            .options(joinedload(Meeting.group))
            .where(Meeting.starts_at >= start, Meeting.starts_at < end)
            .order_by(Meeting.starts_at, Meeting.id)
        )
    )


def moderator_names(group_ids: list[int]) -> dict[int, list[str]]:
    """First names of the active peer experts per group, in one query."""
    if not group_ids:
        return {}
    rows = db.session.execute(
        select(Membership.group_id, PeerExpertProfile.first_name)
        .join(PeerExpertProfile, PeerExpertProfile.user_id == Membership.user_id)
        .where(
            Membership.group_id.in_(group_ids),
            Membership.role == MembershipRole.MODERATOR,
            Membership.status == MembershipStatus.ACTIVE,
        )
        .order_by(PeerExpertProfile.first_name)
    )
    names: dict[int, list[str]] = {}
    for group_id, first_name in rows:
        names.setdefault(group_id, []).append(first_name)
    return names


def plannable_groups() -> list[Group]:
    return list(db.session.scalars(select(Group).where(Group.archived_at.is_(None)).order_by(Group.name)))


def feed_meetings(user: User) -> list[Meeting]:
    """What a personal feed holds: the user's groups' meetings from a month ago on."""
    return _meetings_in(_active_group_ids(user), utcnow() - FEED_PAST, limit=LIST_LIMIT)
