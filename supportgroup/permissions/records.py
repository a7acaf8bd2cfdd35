"""Records about people: who may see a group's attendance and its incidents (from the database)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Membership, MembershipRole, MembershipStatus, User
from .core import STAFF_ROLES, Denied, may_moderate, membership_of, require_authenticated

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
    if may_moderate(user):
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


# --- safeguarding records: incidents (issue #5) -------------------------------------------------------


def incident_group_ids(user) -> list[int] | None:
    """Whose incidents this user may see: None for all (coordinators, admins), else the ids of the groups a
    trained peer expert actively moderates. Participants (and untrained peer experts) are refused."""
    require_authenticated(user)
    if user.role in STAFF_ROLES:
        return None
    if may_moderate(user):
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
