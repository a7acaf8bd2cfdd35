"""Data for the benchmark (`flask bench-setup`, and `bench/setup.py` for `make bench`): chat groups with open
meetings and a calendar year of weekly meetings.

Everything is built through the app's own services (`create_user`, `create_group`, `assign_moderator`,
`add_participant`, `accept_house_rules`, `create_meeting`, `open_meeting`, `create_series`), as a
coordinator would. Every bench account gets the same random password, which is never printed or stored:
nobody logs in with it. The benchmark's logged-in session cookies are made in `bench/sessions.py`, not here.
Bench accounts are named `bench...`; `setup_*` refuse to write into a database that holds other accounts
unless told to (`force`), so a real database is not filled by mistake; `flask bench-setup` runs only in
development and testing.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from .auth import services as auth_services
from .errors import DomainError
from .extensions import db
from .groups import enrolment, lifecycle, roster
from .models import Group, GroupKind, Meeting, MeetingState, MembershipStatus, Role, User
from .scheduling.meetings import create_meeting, open_meeting
from .scheduling.series import create_series

PREFIX = "bench"
TIMEZONE = "Europe/Amsterdam"
CHAT_GROUP = "Bench group {:03d}"
CALENDAR_GROUP = "Bench calendar group {:03d}"
MEETING_TITLE = "Bench meeting"
SERIES_TITLE = "Weekly bench meeting"
HOUSE_RULES = "<ul><li>Be kind.</li><li>What is said here stays here.</li></ul>"


@dataclass
class BenchClient:
    """One account the generator connects as: its username, its role and its meeting (bench/setup.py adds a
    logged-in session cookie)."""

    user: str
    role: str  # "participant", "moderator" or "coordinator"
    meeting_id: int | None = None
    group: int | None = None

    def as_dict(self) -> dict:
        return {"user": self.user, "role": self.role, "meeting_id": self.meeting_id, "group": self.group}


@dataclass
class SetupSummary:
    chat_groups: int = 0
    participants: int = 0
    moderators: int = 0
    open_meetings: int = 0
    calendar_groups: int = 0
    calendar_meetings: int = 0
    created_users: int = 0
    clients: list[BenchClient] = field(default_factory=list)

    def describe(self) -> str:
        return (
            f"{self.chat_groups} chat groups with {self.participants} participants, {self.moderators} peer "
            f"experts and {self.open_meetings} open meetings; {self.calendar_groups} calendar groups with "
            f"{self.calendar_meetings} meetings; {self.created_users} accounts created now; "
            f"{len(self.clients)} accounts listed."
        )


# --- accounts -----------------------------------------------------------------------------------------


def check_database(force: bool = False) -> None:
    """Refuse a database with accounts that are not bench accounts (unless `force`)."""
    others = db.session.scalar(select(func.count()).select_from(User).where(~User.username.startswith(PREFIX)))
    if others and not force:
        raise DomainError(
            "bench_database_in_use",
            f"This database has {others} accounts that are not bench "
            "accounts; bench-setup writes hundreds of accounts and meetings. Use an empty database (or "
            "--force).",
        )


def random_password() -> str:
    """The bench accounts' password: random, never shown, so nobody can log in with it."""
    return secrets.token_urlsafe(24)


def _account(username: str, password: str, role: Role, first_name: str | None = None) -> tuple[User, bool]:
    user = auth_services.find_user(username)
    if user is not None:
        return user, False
    return auth_services.create_user(
        username, password, role, first_name=first_name, trained=role == Role.PEER_EXPERT
    ), True


def _group(name: str, capacity: int) -> tuple[Group, bool]:
    group = db.session.scalar(select(Group).where(Group.name == name))
    if group is not None:
        if group.capacity < capacity:
            group.capacity = capacity
        return group, False
    return lifecycle.create_group(
        name, GroupKind.SURVIVORS, "en", capacity, "A group for the benchmark.", HOUSE_RULES
    ), True


def _local_now() -> datetime:
    return datetime.now(ZoneInfo(TIMEZONE)).replace(tzinfo=None, second=0, microsecond=0)


# --- chat groups ----------------------------------------------------------------------------------------


def split(total: int, parts: int) -> list[int]:
    """`total` spread as evenly as possible over `parts`."""
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)] if parts else []


def setup_chat(group_count: int, participant_count: int, password: str, summary: SetupSummary) -> list[dict]:
    """`group_count` groups, each with one trained peer expert and its share of `participant_count` active
    participants who accepted the house rules, and one meeting open now. Returns, per group, the meeting and
    the accounts (moderator first)."""
    scene = []
    number = 0
    for index, size in enumerate(split(participant_count, group_count), start=1):
        group, _new = _group(CHAT_GROUP.format(index), max(size, 1))
        expert, created = _account(f"{PREFIX}m{index:03d}", password, Role.PEER_EXPERT, f"Expert{index}")
        summary.created_users += created
        if not any(m.user_id == expert.id for m in roster.moderators(group)):
            enrolment.assign_moderator(group, expert)
        members = {m.user_id: m for m in roster.participants(group)}
        people = []
        for _ in range(size):
            number += 1
            user, created = _account(f"{PREFIX}p{number:05d}", password, Role.PARTICIPANT)
            summary.created_users += created
            membership = members.get(user.id)
            if membership is None:
                membership = enrolment.add_participant(group, user)
            if membership.status != MembershipStatus.ACTIVE:
                raise DomainError(
                    "bench_member_not_active", f"{user.username} is {membership.status.value} in {group.name}"
                )
            if not enrolment.has_accepted_rules(membership):
                enrolment.accept_house_rules(membership)
            people.append(user)
        meeting = db.session.scalar(
            select(Meeting).where(
                Meeting.group_id == group.id, Meeting.state == MeetingState.OPEN, Meeting.title == MEETING_TITLE
            )
        )
        if meeting is None:
            meeting = create_meeting(
                group, _local_now() - timedelta(minutes=5), 480, TIMEZONE, MEETING_TITLE, allow_past=True
            )
            open_meeting(meeting, expert)  # as the peer expert does on the meeting page
        db.session.flush()
        scene.append({"group": index, "meeting_id": meeting.id, "moderator": expert, "participants": people})
        summary.chat_groups += 1
        summary.moderators += 1
        summary.participants += size
        summary.open_meetings += 1
    return scene


# --- calendar ------------------------------------------------------------------------------------------


def setup_calendar(group_count: int, password: str, summary: SetupSummary) -> User:
    """A coordinator and `group_count` groups, each with a peer expert and a year of weekly meetings (52),
    planned as a coordinator plans a series. Returns the coordinator."""
    coordinator, created = _account(f"{PREFIX}coord", password, Role.COORDINATOR)
    summary.created_users += created
    first_day = _local_now().date() + timedelta(days=1)
    for index in range(1, group_count + 1):
        group, new = _group(CALENDAR_GROUP.format(index), 12)
        expert, created = _account(f"{PREFIX}c{index:03d}", password, Role.PEER_EXPERT, f"Planner{index}")
        summary.created_users += created
        if not any(m.user_id == expert.id for m in roster.moderators(group)):
            enrolment.assign_moderator(group, expert)
        if new or not db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.group_id == group.id)):
            starts_on = first_day + timedelta(days=index % 7)
            create_series(
                group,
                title=SERIES_TITLE,
                frequency="weekly",
                interval=1,
                weekday=starts_on.weekday(),
                week_of_month=None,
                local_start=time(17 + index % 4, 30),
                duration_minutes=90,
                tz_name=TIMEZONE,
                starts_on=starts_on,
                count=52,
            )
        summary.calendar_groups += 1
        summary.calendar_meetings += (
            db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.group_id == group.id)) or 0
        )
    db.session.flush()
    return coordinator


def setup(*, chat_groups: int, participants: int, calendar_groups: int, force: bool = False) -> SetupSummary:
    """Build (or complete) the bench data set and list the accounts the generator connects as. The caller
    commits."""
    check_database(force)
    summary = SetupSummary()
    password = random_password()
    scene = setup_chat(chat_groups, participants, password, summary)
    coordinator = setup_calendar(calendar_groups, password, summary) if calendar_groups else None
    db.session.flush()
    for entry in scene:
        summary.clients.append(
            BenchClient(entry["moderator"].username, "moderator", entry["meeting_id"], entry["group"])
        )
        summary.clients.extend(
            BenchClient(user.username, "participant", entry["meeting_id"], entry["group"])
            for user in entry["participants"]
        )
    if coordinator is not None:
        summary.clients.append(BenchClient(coordinator.username, "coordinator"))
    return summary
