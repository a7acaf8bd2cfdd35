"""Who is in a group: the statuses that hold a place, counts and lists of members. Reads only, but for
`set_status`, the one way a membership's status changes (it stamps when)."""

from __future__ import annotations

from sqlalchemy import func, select

from ..extensions import db
from ..models import Group, Membership, MembershipRole, MembershipStatus, User, utcnow

# Memberships that hold or claim a place in a group (and so count for conflict screening).
CURRENT_STATUSES = (
    MembershipStatus.ACTIVE,
    MembershipStatus.WAITLISTED,
    MembershipStatus.PENDING,
    MembershipStatus.INVITED,
)


def active_participant_count(group: Group) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.group_id == group.id,
                Membership.role == MembershipRole.PARTICIPANT,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
        or 0
    )


def moderators(group: Group) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership).where(
                Membership.group_id == group.id,
                Membership.role == MembershipRole.MODERATOR,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
    )


def participants(group: Group) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.group_id == group.id, Membership.role == MembershipRole.PARTICIPANT)
            .order_by(Membership.status, Membership.status_changed_at)
        )
    )


def groups_of(user: User) -> list[tuple[Group, Membership]]:
    """The groups a user takes part in, waits for, or moderates, with their membership."""
    rows = db.session.execute(
        select(Group, Membership)
        .join(Membership, Membership.group_id == Group.id)
        .where(
            Membership.user_id == user.id,
            Membership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.WAITLISTED, MembershipStatus.PENDING]),
            Group.archived_at.is_(None),
        )
        .order_by(Group.name)
    )
    return [(g, m) for g, m in rows]


def existing_membership(group: Group, user: User) -> Membership | None:
    """The user's membership of the group in any status (a person has at most one per group)."""
    return db.session.scalar(select(Membership).where(Membership.group_id == group.id, Membership.user_id == user.id))


def set_status(membership: Membership, status: MembershipStatus) -> None:
    membership.status = status
    membership.status_changed_at = utcnow()
