"""The one place that answers "may this user do this here?".

HTTP routes and socket events both call these functions, after loading the objects from the
database and before acting. A refusal raises `Denied` with a stable machine-readable code and a
message a person understands; routes turn it into an HTTP error, socket events into an error ack.
Nothing here trusts what a client sent about roles, groups or aliases: it reads the database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .errors import DomainError
from .extensions import db
from .models import (
    Admission,
    Attendance,
    Meeting,
    MeetingRemoval,
    MeetingState,
    Membership,
    MembershipRole,
    MembershipStatus,
    Message,
    Mute,
    Role,
    User,
    utcnow,
)


class Denied(DomainError):
    """An action is not allowed. `code` is stable (see docs/protocol.md); `message` is for people."""

    def __init__(self, code: str, message, status: int = 403, **extra):
        super().__init__(code, message)
        self.status = status
        self.extra = extra  # machine-readable details for the client, e.g. retry_after


STAFF_ROLES = (Role.COORDINATOR, Role.ADMIN)


def require_authenticated(user) -> User:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise Denied("not_authenticated", _l("Please log in first."), status=401)
    return user


def require_role(user, *roles: Role) -> User:
    require_authenticated(user)
    if user.role not in roles:
        raise Denied("forbidden", _l("You do not have permission to do that."))
    return user


def can_manage_groups(user) -> bool:
    """Coordinators (and admins) plan groups, meetings and memberships."""
    return bool(user and user.is_authenticated and user.role in STAFF_ROLES)


def require_group_manager(user) -> User:
    return require_role(user, *STAFF_ROLES)


def membership_of(user: User, group_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.group_id == group_id, Membership.user_id == user.id))


def meeting_not_found() -> Denied:
    return Denied("meeting_not_found", _l("This meeting does not exist."), status=404)


def require_meeting_member(user, meeting: Meeting) -> Membership:
    """The user's active membership in the meeting's group: needed to see or join the meeting.

    Someone with no place in the group gets the very answer a meeting id that does not exist gets
    (`meeting_not_found`), so guessing ids tells no one which meetings exist. Coordinators and admins, who
    see every meeting in the calendar anyway, are told they are not members."""
    require_authenticated(user)
    membership = membership_of(user, meeting.group_id)
    if membership is None:
        if user.role in STAFF_ROLES:
            raise Denied("not_member", _l("You are not a member of this group."))
        raise meeting_not_found()
    if membership.status == MembershipStatus.BANNED:
        raise Denied("banned", _l("You can no longer take part in this group."))
    if membership.status != MembershipStatus.ACTIVE:
        raise Denied("membership_inactive", _l("Your membership of this group is not active."))
    if membership.role == MembershipRole.MODERATOR and not _may_moderate(user):
        raise meeting_not_found()
    return membership


def require_joinable(meeting: Meeting, membership: Membership, lobby_minutes: int) -> None:
    """Open meetings can be joined; a scheduled one from its lobby time on (moderators any time).
    Never a meeting of an archived group."""
    require_group_in_use(meeting)
    if meeting.state == MeetingState.OPEN:
        return
    if meeting.state == MeetingState.SCHEDULED:
        if membership.is_moderator or utcnow() >= meeting.starts_at - timedelta(minutes=lobby_minutes):
            return
        raise Denied("meeting_not_open", _l("This meeting has not started yet."))
    raise Denied("meeting_not_open", _l("This meeting is not open."))


def require_group_in_use(meeting: Meeting) -> None:
    """An archived group's meetings are over for everyone: nobody joins or stays (`chat/rooms.may_stay`)."""
    if meeting.group.archived_at is not None:
        raise Denied("group_archived", _l("This group is archived."), status=409)


def require_meeting_open(meeting: Meeting) -> None:
    if meeting.state != MeetingState.OPEN:
        raise Denied("meeting_not_open", _l("This meeting is not open."), status=409)


def require_meeting_moderator(user, meeting: Meeting) -> Membership:
    """Only a trained peer expert assigned to the meeting's group moderates it."""
    membership = require_meeting_member(user, meeting)
    if not membership.is_moderator:
        raise Denied("not_moderator", _l("Only the group's peer experts can do that."))
    return membership


def _may_moderate(user: User) -> bool:
    profile = user.profile
    return user.role == Role.PEER_EXPERT and profile is not None and profile.trained


def require_trained_peer_expert(user: User) -> User:
    """Assigning someone as moderator: they must be a trained peer expert."""
    if not _may_moderate(user):
        raise Denied("not_trained", _l("Only trained peer experts can moderate a group."), status=400)
    return user


def require_rules_accepted(membership: Membership) -> None:
    """Participants accept the group's current house rules before they take part in a meeting."""
    group = membership.group
    if membership.role == MembershipRole.PARTICIPANT and membership.consented_rules_version != group.rules_version:
        raise Denied("rules_not_accepted", _l("Please read and accept the house rules of this group first."))


def require_profile_editor(user, profile_owner: User) -> User:
    """A peer expert edits their own profile; coordinators and admins edit any peer expert's."""
    require_authenticated(user)
    if user.id != profile_owner.id and user.role not in STAFF_ROLES:
        raise Denied("forbidden", _l("You do not have permission to do that."))
    return user


# --- attendance (issue #3) ---------------------------------------------------------------------------

ATTENDANCE_FULL = "full"  # names, times and minutes: coordinators and admins
ATTENDANCE_COUNTS = "counts"  # numbers only: the group's own peer experts


def attendance_access(user, group_id: int) -> str:
    """How much of a group's attendance this user may see, read from the database.

    Coordinators and admins see everything (`ATTENDANCE_FULL`); a trained peer expert with an active
    moderator membership of this group sees counts only (`ATTENDANCE_COUNTS`). Everyone else, and every
    participant, is refused: participants never see anyone's attendance.
    """
    require_authenticated(user)
    if user.role in STAFF_ROLES:
        return ATTENDANCE_FULL
    if _may_moderate(user):
        membership = membership_of(user, group_id)
        if membership is not None and membership.is_moderator and membership.status == MembershipStatus.ACTIVE:
            return ATTENDANCE_COUNTS
    raise Denied("forbidden", _l("You do not have permission to see this attendance."))


def require_attendance_details(user) -> User:
    """One member's attendance over time: coordinators and admins only."""
    require_authenticated(user)
    if user.role not in STAFF_ROLES:
        raise Denied("forbidden", _l("You do not have permission to see this attendance."))
    return user


# --- Scheduling (meetings, series, calendars) ---------------------------------------------------


def require_schedule_planner(user, group=None) -> User:
    """Coordinators and admins plan, change and cancel meetings; never in an archived group."""
    require_role(user, *STAFF_ROLES)
    if group is not None and group.archived_at is not None:
        raise Denied("group_archived", _l("This group is archived."), status=409)
    return user


def require_schedule_viewer(user, meeting: Meeting) -> Membership | None:
    """Who may see a meeting's time (and download it): staff, and the active members of its group."""
    require_authenticated(user)
    if user.role in STAFF_ROLES:
        return None
    return require_meeting_member(user, meeting)


def require_rota_viewer(user) -> User:
    """The rota lists the meetings of the groups a peer expert moderates."""
    return require_role(user, Role.PEER_EXPERT)


def require_calendar_viewer(user) -> User:
    """The calendar of all groups is for coordinators and admins."""
    return require_role(user, *STAFF_ROLES)


# --- the live meeting -------------------------------------------------------------------------------


def is_removed_from(meeting: Meeting, membership: Membership) -> bool:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(MeetingRemoval)
            .where(MeetingRemoval.meeting_id == meeting.id, MeetingRemoval.membership_id == membership.id)
        )
        > 0
    )


def removed_refusal() -> Denied:
    return Denied("removed", _l("A peer expert has removed you from this meeting."))


def require_not_removed(meeting: Meeting, membership: Membership) -> None:
    if is_removed_from(meeting, membership):
        raise removed_refusal()


def require_unlocked_for(meeting: Meeting, membership: Membership) -> None:
    """A locked meeting takes no new joiners; people who were already in may come back after a drop."""
    if not meeting.locked or membership.is_moderator:
        return
    was_in = (
        db.session.scalar(
            select(func.count())
            .select_from(Attendance)
            .where(Attendance.meeting_id == meeting.id, Attendance.membership_id == membership.id)
        )
        > 0
    )
    if not was_in:
        raise Denied("meeting_locked", _l("This meeting is closed to new participants."))


def is_waiting(meeting: Meeting, membership: Membership) -> bool:
    """Waiting room: a participant waits until a moderator lets them in."""
    if not meeting.group.waiting_room or membership.is_moderator:
        return False
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Admission)
            .where(Admission.meeting_id == meeting.id, Admission.membership_id == membership.id)
        )
        == 0
    )


def active_mute(meeting: Meeting, membership: Membership) -> Mute | None:
    now = utcnow()
    return db.session.scalar(
        select(Mute)
        .where(
            Mute.meeting_id == meeting.id,
            Mute.membership_id == membership.id,
            Mute.lifted_at.is_(None),
            (Mute.until.is_(None)) | (Mute.until > now),
        )
        .order_by(Mute.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class PostingFacts:
    """Everything `check_can_post` needs to know about one member in one meeting, read from the database.

    Plain values, so a socket can keep them between messages (`chat/rights.py` caches them and drops the
    copy as soon as anything they were read from changes)."""

    meeting_id: int
    group_id: int
    membership_id: int
    is_moderator: bool
    meeting_open: bool
    removed: bool
    waiting: bool
    muted: bool
    mute_until: datetime | None
    mute_reason: str | None
    floor_only: bool
    has_floor: bool
    slow_mode_seconds: int
    premoderated: bool
    hold_identifying: bool


def posting_facts(meeting: Meeting, membership: Membership) -> PostingFacts:
    moderator = membership.is_moderator
    mute = None if moderator else active_mute(meeting, membership)
    return PostingFacts(
        meeting_id=meeting.id,
        group_id=meeting.group_id,
        membership_id=membership.id,
        is_moderator=moderator,
        meeting_open=meeting.state == MeetingState.OPEN,
        removed=is_removed_from(meeting, membership),
        waiting=is_waiting(meeting, membership),
        muted=mute is not None,
        mute_until=mute.until if mute else None,
        mute_reason=mute.reason if mute else None,
        floor_only=meeting.floor_only,
        has_floor=meeting.floor_membership_id == membership.id,
        slow_mode_seconds=meeting.slow_mode_seconds or 0,
        premoderated=meeting.premoderated,
        hold_identifying=meeting.group.hold_identifying,
    )


def last_chat_at(meeting_id: int, membership_id: int) -> datetime | None:
    """When this member last wrote a chat message in this meeting (slow mode)."""
    return db.session.scalar(
        select(func.max(Message.created_at)).where(
            Message.meeting_id == meeting_id, Message.author_membership_id == membership_id, Message.kind == "chat"
        )
    )


def check_can_post(facts: PostingFacts, moderator_present: bool, last_post_at: Callable[[], datetime | None]) -> None:
    """Everything that may stop a chat message right now. Moderators are only stopped by a closed meeting.

    `last_post_at` is asked only when slow mode is on (it costs a query)."""
    if not facts.meeting_open:
        raise Denied("meeting_not_open", _l("This meeting is not open."), status=409)
    if facts.is_moderator:
        return
    if facts.removed:
        raise removed_refusal()
    if facts.waiting:
        raise Denied("waiting", _l("Please wait until the peer expert lets you in."))
    if not moderator_present:
        raise Denied("no_moderator", _l("No peer expert is connected right now, so the chat is read-only."))
    now = utcnow()
    if facts.muted and (facts.mute_until is None or facts.mute_until > now):
        raise Denied(
            "muted",
            _l("A peer expert has muted you for now."),
            until=facts.mute_until.isoformat() if facts.mute_until else None,
        )
    if facts.floor_only and not facts.has_floor:
        raise Denied("floor_only", _l("Only the person who has the floor can write now."))
    if facts.slow_mode_seconds and (last := last_post_at()) is not None:
        wait = facts.slow_mode_seconds - (now - last).total_seconds()
        if wait > 0:
            raise Denied(
                "slow_mode",
                _l("Slow mode is on: please wait a moment before your next message."),
                retry_after=int(wait) + 1,
            )


def require_can_post(meeting: Meeting, membership: Membership, moderator_present: bool) -> None:
    """`check_can_post` with the facts read from the database now."""
    check_can_post(
        posting_facts(meeting, membership), moderator_present, lambda: last_chat_at(meeting.id, membership.id)
    )


# --- safeguarding records: incidents (issue #5) -------------------------------------------------------


def incident_group_ids(user) -> list[int] | None:
    """Whose incidents this user may see: None for all (coordinators, admins), else the ids of the groups a
    trained peer expert actively moderates. Participants (and untrained peer experts) are refused."""
    require_authenticated(user)
    if user.role in STAFF_ROLES:
        return None
    if _may_moderate(user):
        return list(
            db.session.scalars(
                select(Membership.group_id).where(
                    Membership.user_id == user.id,
                    Membership.role == MembershipRole.MODERATOR,
                    Membership.status == MembershipStatus.ACTIVE,
                )
            )
        )
    raise Denied("forbidden", _l("You do not have permission to see incidents."))


def require_incident_viewer(user, group_id: int) -> User:
    """One group's incidents: coordinators and admins, or a trained peer expert moderating that group."""
    allowed = incident_group_ids(user)
    if allowed is not None and group_id not in allowed:
        raise Denied("forbidden", _l("You do not have permission to see incidents."))
    return user


# Chat rules (moved from chat/)


def require_may_delete_message(message: Message, by: Membership) -> None:
    """Authors delete their own messages; moderators any."""
    if not by.is_moderator and message.author_membership_id != by.id:
        raise Denied("not_allowed", _l("You can only delete your own messages."))


def require_may_whisper(meeting: Meeting, author: Membership, recipient: Membership | None) -> None:
    """A moderator whispers to one participant (never to another peer expert: that is the backchannel); a
    participant whispers to the meeting's moderators (`recipient` None), unless removed from the meeting."""
    if author.is_moderator:
        if recipient is not None and recipient.is_moderator:
            raise Denied("not_allowed", _l("Use the backchannel to write to other peer experts."))
    else:
        require_not_removed(meeting, author)


# Role rules for pages and templates
# Which links and parts of a page an account is shown. They only show or hide: the route behind a link checks
# its own rule above. Templates ask `can("see_pool")` (home.py's context processor binds the current user);
# a name that is not in PAGE_RULES raises, so a typo in a template is an error, not a link hidden for good.


def is_staff(user) -> bool:
    """Coordinators and admins."""
    return bool(user and user.is_authenticated and user.role in STAFF_ROLES)


def can_record_training(user) -> bool:
    """Only coordinators and admins record a peer expert's training (the profile form's training fields)."""
    return is_staff(user)


def is_participant(membership: Membership) -> bool:
    """A participant's membership (an alias, house rules to accept, a place to leave), not a moderator's."""
    return membership.role == MembershipRole.PARTICIPANT


def _role_in(*roles: Role) -> Callable[[User | None], bool]:
    def rule(user: User | None) -> bool:
        return bool(user and user.is_authenticated and user.role in roles)

    return rule


PAGE_RULES: dict[str, Callable[[User | None], bool]] = {
    "see_overview": is_staff,  # the dashboard is the platform's overview (else the account's own groups)
    "see_my_meetings": _role_in(Role.PARTICIPANT),
    "join_groups": _role_in(Role.PARTICIPANT),
    "see_rota": _role_in(Role.PEER_EXPERT),
    "edit_own_profile": _role_in(Role.PEER_EXPERT),
    "manage_groups": is_staff,
    "see_calendar": is_staff,
    "see_pool": is_staff,
    "keep_apart": is_staff,
    "manage_organisations": is_staff,
}


def can(user: User | None, action: str) -> bool:
    """May `user` be shown the link or page part named `action` (a key of PAGE_RULES; KeyError if none)?"""
    return PAGE_RULES[action](user)
