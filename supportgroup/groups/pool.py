"""The shared peer-expert pool: who moderates what and when, and double bookings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..audit import AuditAction, record_by
from ..errors import DomainError
from ..extensions import db
from ..labels import EXPERIENCE_LABELS
from ..models import (
    Group,
    Meeting,
    MeetingState,
    Membership,
    MembershipRole,
    MembershipStatus,
    PeerExpertProfile,
    Role,
    User,
    utcnow,
)

EXPERIENCE_KINDS = EXPERIENCE_LABELS  # the codes a profile may hold, and their labels
LOOKAHEAD = timedelta(weeks=26)


@dataclass
class PoolEntry:
    user: User
    groups: list[Group] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    double_booked: list[tuple[Meeting, Meeting]] = field(default_factory=list)


def _upcoming(group_ids: list[int]) -> list[Meeting]:
    if not group_ids:
        return []
    now = utcnow()
    return list(
        db.session.scalars(
            select(Meeting)
            .options(selectinload(Meeting.group))
            .where(
                Meeting.group_id.in_(group_ids),
                Meeting.state.in_([MeetingState.SCHEDULED, MeetingState.OPEN]),
                Meeting.starts_at < now + LOOKAHEAD,
                Meeting.starts_at > now - timedelta(hours=8),
            )
            .order_by(Meeting.starts_at)
        )
    )


def overlapping(meetings: list[Meeting]) -> list[tuple[Meeting, Meeting]]:
    """Pairs of meetings of different groups whose times overlap (meetings sorted by start)."""
    pairs = []
    for i, first in enumerate(meetings):
        for second in meetings[i + 1 :]:
            if second.starts_at >= first.ends_at:
                break
            if second.group_id != first.group_id:
                pairs.append((first, second))
    return pairs


def pool_overview() -> list[PoolEntry]:
    """Every peer expert with their groups, upcoming meetings and double bookings (a fixed number of queries)."""
    experts = list(
        db.session.scalars(
            select(User)
            .options(selectinload(User.profile))
            .where(User.role == Role.PEER_EXPERT)
            .order_by(User.username)
        )
    )
    rows = db.session.execute(
        select(Membership.user_id, Group)
        .join(Group, Group.id == Membership.group_id)
        .where(
            Membership.role == MembershipRole.MODERATOR,
            Membership.status == MembershipStatus.ACTIVE,
            Group.archived_at.is_(None),
        )
    ).all()
    entries = {u.id: PoolEntry(u) for u in experts}
    for user_id, group in rows:
        if user_id in entries:
            entries[user_id].groups.append(group)
    meetings = _upcoming(sorted({g.id for _, g in rows}))
    for entry in entries.values():
        ids = {g.id for g in entry.groups}
        entry.meetings = [m for m in meetings if m.group_id in ids]
        entry.double_booked = overlapping(entry.meetings)
    return list(entries.values())


def double_bookings_if_assigned(group: Group, user: User) -> list[tuple[Meeting, Meeting]]:
    """Overlaps between this group's meetings and the expert's other groups' meetings."""
    other_ids = list(
        db.session.scalars(
            select(Membership.group_id).where(
                Membership.user_id == user.id,
                Membership.role == MembershipRole.MODERATOR,
                Membership.status == MembershipStatus.ACTIVE,
                Membership.group_id != group.id,
            )
        )
    )
    meetings = _upcoming([group.id, *other_ids])
    return [(a, b) for a, b in overlapping(meetings) if group.id in (a.group_id, b.group_id)]


def update_profile(
    profile: PeerExpertProfile,
    *,
    first_name: str,
    story: str,
    experience_kinds: list[str],
    languages: list[str],
    trained: bool | None = None,
    trained_on: date | None = None,
    actor: User | None = None,
) -> None:
    """Edit how a peer expert presents. `trained` is left alone when None (peer experts cannot set it)."""
    unknown = set(experience_kinds) - set(EXPERIENCE_KINDS)
    if unknown:
        raise DomainError("unknown_experience_kind", _l("Unknown kind of experience."), field="experience_kinds")
    if trained_on is not None and trained_on > date.today():
        raise DomainError("trained_on_in_future", _l("The training date lies in the future."), field="trained_on")
    profile.first_name = first_name.strip()
    profile.story = story.strip()
    profile.experience_kinds = list(experience_kinds)
    profile.languages = list(languages)
    record_by(actor, AuditAction.EDIT_PROFILE, "user", profile.user_id)
    if trained is not None:
        if trained != profile.trained:
            record_by(
                actor,
                AuditAction.TRAIN_PEER_EXPERT if trained else AuditAction.UNTRAIN_PEER_EXPERT,
                "user",
                profile.user_id,
            )
        profile.trained = trained
        profile.trained_on = trained_on if trained else None
    db.session.flush()
