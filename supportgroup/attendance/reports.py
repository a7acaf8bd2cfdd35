"""Attendance figures: who was in a meeting and for how long, a member's meetings, a group's counts.

The reports read a fixed number of queries whatever the number of meetings or members: counts are
aggregated in SQL, and the rows of one meeting or one membership are read in one query each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Attendance,
    Group,
    Meeting,
    MeetingState,
    Membership,
    MembershipRole,
    MembershipStatus,
    User,
    utcnow,
)

# The group chart shows at most this many meetings, the most recent ones.
CHART_MEETINGS = 52


def display_name(membership: Membership) -> str:
    """The name the group knows: the alias, or a peer expert's first name. Never the username."""
    if membership.is_moderator:
        profile = membership.user.profile
        return profile.first_name if profile else ""
    return membership.alias or ""


def _stay_end(stay: Attendance, meeting: Meeting, now: datetime) -> datetime:
    if stay.left_at is not None:
        return stay.left_at
    if meeting.closed_at is not None:
        return max(meeting.closed_at, stay.joined_at)
    return max(now, stay.joined_at)


def minutes_present(spans: Iterable[tuple[datetime, datetime]]) -> int:
    """Whole minutes covered by the spans, overlaps counted once."""
    total = timedelta(0)
    current: tuple[datetime, datetime] | None = None  # the span being merged: (start, end)
    for start, end in sorted(spans):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (start, end)
        else:
            current = (current[0], max(current[1], end))
    if current is not None:
        total += current[1] - current[0]
    return int(total.total_seconds() // 60)


@dataclass
class PersonStay:
    membership: Membership
    name: str
    is_peer_expert: bool
    joined_at: datetime
    left_at: datetime | None
    minutes: int
    visits: int


@dataclass
class MeetingReport:
    meeting: Meeting
    participants_present: int
    peer_experts_present: int
    active_participants: int
    present: list[PersonStay] = field(default_factory=list)
    absent: list[Membership] = field(default_factory=list)


def meeting_report(meeting: Meeting, with_names: bool) -> MeetingReport:
    """Who was in a meeting and for how long (`with_names`), or only the counts.

    Two queries: the meeting's stays, and the group's memberships with their accounts and profiles.
    """
    now = utcnow()
    stays = list(
        db.session.scalars(
            select(Attendance).where(Attendance.meeting_id == meeting.id).order_by(Attendance.joined_at, Attendance.id)
        )
    )
    memberships = {
        m.id: m
        for m in db.session.scalars(
            select(Membership)
            .where(Membership.group_id == meeting.group_id)
            .options(joinedload(Membership.user).joinedload(User.profile))
        ).unique()
    }
    by_member: dict[int, list[Attendance]] = defaultdict(list)
    for stay in stays:
        by_member[stay.membership_id].append(stay)

    present: list[PersonStay] = []
    for membership_id, rows in by_member.items():
        membership = memberships.get(membership_id)
        if membership is None:  # moved to another group cannot happen; guard anyway
            continue
        left = [r.left_at for r in rows if r.left_at is not None]
        present.append(
            PersonStay(
                membership=membership,
                name=display_name(membership),
                is_peer_expert=membership.is_moderator,
                joined_at=rows[0].joined_at,
                left_at=max(left) if len(left) == len(rows) else None,  # None while a stay is open
                minutes=minutes_present((r.joined_at, _stay_end(r, meeting, now)) for r in rows),
                visits=len(rows),
            )
        )
    present.sort(key=lambda p: (not p.is_peer_expert, p.name.lower()))

    active = [
        m for m in memberships.values() if m.role == MembershipRole.PARTICIPANT and m.status == MembershipStatus.ACTIVE
    ]
    absent = sorted((m for m in active if m.id not in by_member), key=lambda m: (m.alias or "").lower())
    report = MeetingReport(
        meeting=meeting,
        participants_present=sum(1 for p in present if not p.is_peer_expert),
        peer_experts_present=sum(1 for p in present if p.is_peer_expert),
        active_participants=len(active),
    )
    if with_names:
        report.present, report.absent = present, absent
    return report


def _held(now: datetime) -> ColumnElement[bool]:
    """Meetings that took place (or are taking place): not cancelled, and opened or past their start."""
    return and_(
        Meeting.state != MeetingState.CANCELLED,
        or_(Meeting.state.in_([MeetingState.OPEN, MeetingState.CLOSED]), Meeting.starts_at <= now),
    )


@dataclass
class ChartRow:
    meeting_id: int
    title: str
    starts_at: datetime
    state: MeetingState
    participants: int
    peer_experts: int


def group_counts(group: Group, limit: int = CHART_MEETINGS) -> list[ChartRow]:
    """Attendees per meeting for the group's most recent `limit` meetings, oldest first. One query."""
    participant = case((Membership.role == MembershipRole.PARTICIPANT, Attendance.membership_id))
    moderator = case((Membership.role == MembershipRole.MODERATOR, Attendance.membership_id))
    rows = db.session.execute(
        select(
            Meeting.id,
            Meeting.title,
            Meeting.starts_at,
            Meeting.state,
            func.count(func.distinct(participant)),
            func.count(func.distinct(moderator)),
        )
        .select_from(Meeting)
        .outerjoin(Attendance, Attendance.meeting_id == Meeting.id)
        .outerjoin(Membership, Membership.id == Attendance.membership_id)
        .where(Meeting.group_id == group.id, _held(utcnow()))
        .group_by(Meeting.id, Meeting.title, Meeting.starts_at, Meeting.state)
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .limit(limit)
    ).all()
    return [
        ChartRow(id_, title, starts_at, state, participants, moderators)
        for id_, title, starts_at, state, participants, moderators in reversed(rows)
    ]


def active_participant_count(group_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.group_id == group_id,
                Membership.role == MembershipRole.PARTICIPANT,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
        or 0
    )


@dataclass
class MemberMeeting:
    meeting: Meeting
    attended: bool
    minutes: int
    joined_at: datetime | None


@dataclass
class MemberReport:
    membership: Membership
    name: str
    rows: list[MemberMeeting]

    @property
    def attended(self) -> int:
        return sum(1 for r in self.rows if r.attended)

    @property
    def missed(self) -> int:
        return sum(1 for r in self.rows if not r.attended)


def member_report(membership: Membership) -> MemberReport:
    """The meetings of the member's group while they were in it: attended or missed. Two queries.

    A meeting counts as missed only if it started while the membership existed and was active
    (from its creation until its status last changed, when it is no longer active). Meetings the
    member attended are always shown.
    """
    now = utcnow()
    stays = list(db.session.scalars(select(Attendance).where(Attendance.membership_id == membership.id)))
    attended_ids = {s.meeting_id for s in stays}
    window = Meeting.starts_at >= membership.created_at
    if membership.status != MembershipStatus.ACTIVE:
        window = and_(window, Meeting.starts_at <= membership.status_changed_at)
    condition = and_(_held(now), window)
    if attended_ids:
        condition = or_(condition, Meeting.id.in_(attended_ids))
    meetings = list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.group_id == membership.group_id, condition)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        )
    )
    by_meeting: dict[int, list[Attendance]] = defaultdict(list)
    for stay in stays:
        by_meeting[stay.meeting_id].append(stay)
    rows = []
    for meeting in meetings:
        own = by_meeting.get(meeting.id, [])
        rows.append(
            MemberMeeting(
                meeting=meeting,
                attended=bool(own),
                minutes=minutes_present((s.joined_at, _stay_end(s, meeting, now)) for s in own),
                joined_at=min((s.joined_at for s in own), default=None),
            )
        )
    return MemberReport(membership=membership, name=display_name(membership), rows=rows)
