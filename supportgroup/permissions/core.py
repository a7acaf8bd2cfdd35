"""Accounts, roles and memberships: who is logged in, who plans, who belongs to a meeting's group.

`Denied` is the refusal every rule in this package raises; the other modules build on the rules here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import DomainError
from ..extensions import db
from ..models import Group, Meeting, MeetingState, Membership, MembershipRole, MembershipStatus, Role, User, utcnow


class Denied(DomainError):
    """An action is not allowed. `code` is stable (see docs/protocol.md); `message` is for people."""

    def __init__(self, code: str, message: Any, status: int = 403, **extra: Any) -> None:
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
    if membership.role == MembershipRole.MODERATOR and not may_moderate(user):
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


def may_moderate(user: User) -> bool:
    """A trained peer expert: the only account that may moderate a group (or see its records)."""
    profile = user.profile
    return user.role == Role.PEER_EXPERT and profile is not None and profile.trained


def require_trained_peer_expert(user: User) -> User:
    """Assigning someone as moderator: they must be a trained peer expert."""
    if not may_moderate(user):
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


# --- scheduling (meetings, series, calendars) ---------------------------------------------------


def require_schedule_planner(user, group: Group | None = None) -> User:
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
