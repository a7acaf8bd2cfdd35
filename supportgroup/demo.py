"""Demo content for `make run`: two groups, their peer experts and participants, and an open meeting.

In development every demo account has the demo password (the README names it). Seeded anywhere else
(`flask seed-demo --force`), no staff account gets a password anyone knows: the coordinator and the peer experts
are made awaiting activation (an administrator gives them activation links in the console) and no demo admin is
made at all, so a known password opens nothing but a demo participant's account."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import select

from .auth.passwords import UNUSABLE_HASH
from .auth.services import create_user, find_user
from .extensions import db
from .groups import enrolment, lifecycle, roster
from .models import Group, GroupKind, Meeting, MeetingSeries, MeetingState, Role, User
from .scheduling.meetings import create_meeting, open_meeting
from .scheduling.series import create_series


class DemoGroup(TypedDict):
    name: str
    kind: GroupKind
    description: str
    moderator: tuple[str, str, str]  # username, first name, story
    participants: list[str]


DEMO_GROUPS: list[DemoGroup] = [
    {
        "name": "Verder zonder geweld",
        "kind": GroupKind.PERPETRATORS,
        "description": "Lotgenotengroep voor mensen die geweld hebben gebruikt in hun relatie en willen veranderen.",
        "moderator": ("expert1", "Mark", "Ik heb zelf geweld gebruikt en heb geleerd het anders te doen."),
        "participants": ["participant1", "participant2", "participant3"],
    },
    {
        "name": "Sterk na geweld",
        "kind": GroupKind.SURVIVORS,
        "description": "Lotgenotengroep voor mensen die huiselijk geweld hebben meegemaakt.",
        "moderator": ("expert2", "Sanne", "Ik heb huiselijk geweld meegemaakt en weet hoe zwaar de weg terug is."),
        "participants": ["participant4", "participant5", "participant6"],
    },
]
TIMEZONE = "Europe/Amsterdam"
LANGUAGE = "nl"  # the demo groups' language: every text in them is Dutch
HOUSE_RULES = (
    "<ul><li>Wat hier gedeeld wordt, blijft hier.</li>"
    "<li>We noemen geen namen, adressen of andere gegevens die iemand herkenbaar maken.</li>"
    "<li>We luisteren naar elkaar en oordelen niet.</li>"
    "<li>De ervaringsdeskundige begeleidt het gesprek en mag ingrijpen.</li></ul>"
)
# Meeting titles per group language (what participants see in the group's own language).
TITLES: dict[str, dict[str, str]] = {
    "nl": {"open": "Demo: nu open", "weekly": "Wekelijkse bijeenkomst"},
    "en": {"open": "Demo: open now", "weekly": "Weekly meeting"},
}


def _user(
    username: str, password: str, role: Role, first_name: str | None = None, story: str = "", *, known: bool = True
) -> User:
    """The demo account `username`, made now if missing: with `password`, or awaiting activation (`known` False:
    no password at all)."""
    user = find_user(username)
    if user is None:
        user = create_user(username, password, role, first_name=first_name, trained=role == Role.PEER_EXPERT)
        if not known:
            user.password_hash = UNUSABLE_HASH
        if user.profile is not None:
            user.profile.story = story
            user.profile.experience_kinds = ["survivor"] if "meegemaakt" in story else ["former_perpetrator"]
            user.profile.languages = ["nl", "en"]
    return user


def _local_now() -> datetime:
    """Now on the wall clock in Amsterdam, naive (the form of time a coordinator types in)."""
    return datetime.now(ZoneInfo(TIMEZONE)).replace(tzinfo=None, second=0, microsecond=0)


def _evening(days_ahead: int) -> datetime:
    """19:30 Amsterdam time, `days_ahead` days from today."""
    return (_local_now() + timedelta(days=days_ahead)).replace(hour=19, minute=30)


def _retitle(group: Group, meetings: Sequence[Meeting], titles: dict[str, str]) -> None:
    """A demo seeded before kept English titles in its Dutch groups: give them the group's language."""
    renames = {TITLES["en"][key]: title for key, title in titles.items()}
    all_series = db.session.scalars(select(MeetingSeries).where(MeetingSeries.group_id == group.id)).all()
    for meeting in meetings:
        meeting.title = renames.get(meeting.title, meeting.title)
    for one in all_series:
        one.title = renames.get(one.title, one.title)


def seed_demo(password: str, *, staff_passwords: bool = True) -> str:
    """Seed the demo; `staff_passwords` False (outside development): staff accounts get no password and there is
    no demo admin (see the module's docstring)."""
    created = []
    coordinator = _user("coordinator", password, Role.COORDINATOR, known=staff_passwords)
    if staff_passwords:
        _user("admin", password, Role.ADMIN)  # the admin console; two-factor sign-in is deferred in development
    for index, spec in enumerate(DEMO_GROUPS):
        username, first_name, story = spec["moderator"]
        expert = _user(username, password, Role.PEER_EXPERT, first_name, story, known=staff_passwords)
        group = db.session.scalar(select(Group).where(Group.name == spec["name"]))
        if group is None:
            group = lifecycle.create_group(spec["name"], spec["kind"], LANGUAGE, 12, spec["description"], HOUSE_RULES)
            created.append(group.name)
        if not any(m.user_id == expert.id for m in roster.moderators(group)):
            enrolment.assign_moderator(group, expert)
        for participant_name in spec["participants"]:
            participant = _user(participant_name, password, Role.PARTICIPANT)
            if not any(m.user_id == participant.id for m in roster.participants(group)):
                membership = enrolment.add_participant(group, participant)
                enrolment.accept_house_rules(membership)  # so the demo chat works at once
        titles = TITLES.get(group.language, TITLES["en"])
        meetings = db.session.scalars(select(Meeting).where(Meeting.group_id == group.id)).all()
        _retitle(group, meetings, titles)
        if db.session.scalar(select(MeetingSeries.id).where(MeetingSeries.group_id == group.id)) is None:
            first = _evening(2 + index)
            create_series(
                group,
                title=titles["weekly"],
                frequency="weekly",
                interval=1,
                weekday=first.weekday(),
                week_of_month=None,
                local_start=first.time(),
                duration_minutes=90,
                tz_name=TIMEZONE,
                starts_on=first.date(),
                count=12,
            )
        if not any(m.state == MeetingState.OPEN for m in meetings):
            started = _local_now() - timedelta(minutes=5)
            meeting = create_meeting(group, started, 120, TIMEZONE, titles["open"], allow_past=True)
            # The demo meeting is already open, as if its peer expert had just opened it.
            open_meeting(meeting, expert)
    db.session.flush()
    summary = f"Demo ready ({'new groups: ' + ', '.join(created) if created else 'nothing new'}). "
    if staff_passwords:
        accounts = "admin, coordinator, expert1, expert2, participant1-6"
        return summary + f"Accounts: {accounts}. Coordinator: {coordinator.username}."
    return summary + (
        "Accounts: participant1-6 (the demo password); coordinator, expert1 and expert2 have no password: "
        "an administrator gives them activation links in the console (Accounts). No demo admin was made."
    )
