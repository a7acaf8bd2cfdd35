"""The coordinator's dashboard: what needs attention across all groups, in a fixed number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Group, Meeting, MeetingState, Membership, MembershipRole, MembershipStatus, User, utcnow
from .attention import needs_attention
from .pool import pool_overview

WEEK = timedelta(days=7)


@dataclass
class GroupLine:
    group: Group
    active: int
    waitlisted: int
    pending: int
    moderators: list[str]


def group_lines() -> list[GroupLine]:
    groups = list(db.session.scalars(select(Group).where(Group.archived_at.is_(None)).order_by(Group.name)))
    counts = db.session.execute(
        select(Membership.group_id, Membership.status, func.count())
        .where(Membership.role == MembershipRole.PARTICIPANT)
        .group_by(Membership.group_id, Membership.status)
    ).all()
    by_group: dict[tuple[int, MembershipStatus], int] = {(g, s): n for g, s, n in counts}
    moderators = db.session.execute(
        select(Membership.group_id, User)
        .join(User, User.id == Membership.user_id)
        .options(selectinload(User.profile))
        .where(Membership.role == MembershipRole.MODERATOR, Membership.status == MembershipStatus.ACTIVE)
    ).all()
    names: dict[int, list[str]] = {}
    for group_id, user in moderators:
        names.setdefault(group_id, []).append(user.profile.first_name if user.profile else "")
    return [
        GroupLine(
            g,
            by_group.get((g.id, MembershipStatus.ACTIVE), 0),
            by_group.get((g.id, MembershipStatus.WAITLISTED), 0),
            by_group.get((g.id, MembershipStatus.PENDING), 0),
            sorted(names.get(g.id, [])),
        )
        for g in groups
    ]


def coming_week() -> list[Meeting]:
    now = utcnow()
    return list(
        db.session.scalars(
            select(Meeting)
            .options(selectinload(Meeting.group))
            .join(Group, Group.id == Meeting.group_id)
            .where(
                Group.archived_at.is_(None),
                Meeting.state.in_([MeetingState.SCHEDULED, MeetingState.OPEN]),
                Meeting.starts_at < now + WEEK,
                Meeting.starts_at > now - timedelta(hours=8),
            )
            .order_by(Meeting.starts_at)
        )
    )


def dashboard_data() -> dict:
    lines = group_lines()
    pool = pool_overview()
    meetings = coming_week()
    return {
        "lines": lines,
        "attention": needs_attention(lines, meetings),
        "meetings": meetings,
        "double_booked": [entry for entry in pool if entry.double_booked],
        "untrained": [entry for entry in pool if not (entry.user.profile and entry.user.profile.trained)],
    }
