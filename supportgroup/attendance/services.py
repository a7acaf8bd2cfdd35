"""Attendance rules: recording stays in the live chat, and the figures the reports show.

A stay (`Attendance`) runs from a member's first socket joining a meeting to their last socket leaving
it, so a member with two tabs open is counted once. Services change models and flush; the socket event
or the route (the edge) commits.

The reports read a fixed number of queries whatever the number of meetings or members: counts are
aggregated in SQL, and the rows of one meeting or one membership are read in one query each.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, case, func, or_, select, update
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


# --- recording ---------------------------------------------------------------------------------------


def _lock_membership(membership_id: int) -> None:
    """Serialise joins and leaves of one member (PostgreSQL row lock; SQLite serialises writers anyway).

    With it, a join racing a leave of the same member's other socket either sees the stay still open
    or the leave sees the joining socket in presence, never neither.
    """
    db.session.execute(select(Membership.id).where(Membership.id == membership_id).with_for_update())


def open_stay(meeting_id: int, membership_id: int) -> Attendance | None:
    return db.session.scalar(
        select(Attendance)
        .where(
            Attendance.meeting_id == meeting_id, Attendance.membership_id == membership_id, Attendance.left_at.is_(None)
        )
        .order_by(Attendance.id)
        .limit(1)
    )


def record_join(meeting: Meeting, membership: Membership, now: datetime | None = None) -> Attendance:
    """Open a stay for this member in this meeting, unless one is open already (another socket)."""
    _lock_membership(membership.id)
    stay = open_stay(meeting.id, membership.id)
    if stay is None:
        stay = Attendance(meeting_id=meeting.id, membership_id=membership.id, joined_at=now or utcnow())
        db.session.add(stay)
        db.session.flush()
    return stay


def record_leave(
    meeting_id: int, membership_id: int, still_present: Callable[[], bool] | None = None, now: datetime | None = None
) -> int:
    """Close the member's open stay in the meeting; returns how many rows were closed.

    `still_present` is asked after the member's row is locked: when another socket of theirs is still in
    the meeting, the stay goes on and nothing is closed.
    """
    _lock_membership(membership_id)
    if still_present is not None and still_present():
        return 0
    result = db.session.execute(
        update(Attendance)
        .where(
            Attendance.meeting_id == meeting_id, Attendance.membership_id == membership_id, Attendance.left_at.is_(None)
        )
        .values(left_at=now or utcnow())
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return result.rowcount or 0


def close_open_attendance(meeting: Meeting, now: datetime | None = None) -> int:
    """Close every stay still open in a meeting (the meeting closed); returns how many were closed.

    Call it from `scheduling.meetings.close_meeting`, after `closed_at` is set: the stays end then.
    """
    ended = now or meeting.closed_at or utcnow()
    result = db.session.execute(
        update(Attendance)
        .where(Attendance.meeting_id == meeting.id, Attendance.left_at.is_(None))
        .values(left_at=ended)
        .execution_options(synchronize_session="fetch")
    )
    db.session.flush()
    return result.rowcount or 0


# --- reading -----------------------------------------------------------------------------------------


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
    current_start = current_end = None
    for start, end in sorted(spans):
        if current_end is None or start > current_end:
            if current_end is not None:
                total += current_end - current_start
            current_start, current_end = start, end
        else:
            current_end = max(current_end, end)
    if current_end is not None:
        total += current_end - current_start
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
        still_open = any(r.left_at is None for r in rows)
        present.append(
            PersonStay(
                membership=membership,
                name=display_name(membership),
                is_peer_expert=membership.is_moderator,
                joined_at=rows[0].joined_at,
                left_at=None if still_open else max(r.left_at for r in rows),
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


def _held(now: datetime):
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


# --- the chart ---------------------------------------------------------------------------------------


@dataclass
class Bar:
    row: ChartRow
    x: float
    y: float
    width: float
    height: float
    label_x: float
    value_y: float
    show_date: bool


@dataclass
class Tick:
    value: int
    y: float


@dataclass
class Chart:
    width: int
    height: int
    left: int
    top: int
    bottom: float
    right: int
    bars: list[Bar]
    ticks: list[Tick]
    max_value: int


def bar_chart(rows: list[ChartRow], width: int = 720, height: int = 260) -> Chart:
    """Geometry for a bar chart of participants present per meeting (numbers only, drawn by a template)."""
    left, right, top, bottom_margin = 40, 10, 20, 50
    plot_w, plot_h = width - left - right, height - top - bottom_margin
    bottom = top + plot_h
    max_value = max((r.participants for r in rows), default=0)
    scale_max = max(max_value, 1)
    step = max(1, -(-scale_max // 5))  # at most about five gridlines
    ticks = [Tick(v, bottom - plot_h * v / scale_max) for v in range(0, scale_max + 1, step)]
    n = max(len(rows), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1.0)
    label_every = max(1, -(-n // 12))  # at most about twelve date labels
    bars = []
    for i, row in enumerate(rows):
        h = plot_h * row.participants / scale_max
        x = left + i * slot + (slot - bar_w) / 2
        bars.append(
            Bar(
                row=row,
                x=round(x, 1),
                y=round(bottom - h, 1),
                width=round(bar_w, 1),
                height=round(h, 1),
                label_x=round(x + bar_w / 2, 1),
                value_y=round(bottom - h - 4, 1),
                show_date=(len(rows) - 1 - i) % label_every == 0,
            )
        )
    return Chart(
        width=width,
        height=height,
        left=left,
        top=top,
        bottom=bottom,
        right=width - right,
        bars=bars,
        ticks=[Tick(t.value, round(t.y, 1)) for t in ticks],
        max_value=max_value,
    )
