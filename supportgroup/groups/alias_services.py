"""A participant's alias in use: what a new draw must avoid, redrawing it, and the audited look-up of the
account behind one (`aliases.py` draws the words)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select

from ..audit import AuditAction, record
from ..errors import DomainError
from ..extensions import db
from ..models import Attendance, Group, Membership, MembershipRole, User
from .aliases import draw_alias


def aliases_to_avoid(group: Group, user: User) -> set[str]:
    """Aliases taken in this group, plus this person's aliases elsewhere: two groups never share one."""
    return set(
        db.session.scalars(
            select(Membership.alias).where(
                Membership.alias.is_not(None), or_(Membership.group_id == group.id, Membership.user_id == user.id)
            )
        )
    )


def has_attended(membership: Membership) -> bool:
    return db.session.execute(select(exists().where(Attendance.membership_id == membership.id))).scalar_one()


def redraw_alias(membership: Membership) -> str:
    """A new random alias, allowed until the participant has taken part in a meeting."""
    if membership.role != MembershipRole.PARTICIPANT:
        raise DomainError("no_alias", _l("Only participants have an alias."), field="alias")
    if has_attended(membership):
        raise DomainError(
            "alias_fixed", _l("Your alias stays the same once you have taken part in a meeting."), field="alias"
        )
    alias = draw_alias(membership.group.language, aliases_to_avoid(membership.group, membership.user))
    membership.alias = alias
    db.session.flush()
    return alias


def lookup_alias(group: Group, alias: str, actor: User, reason: str) -> Membership:
    """Which account is behind an alias: coordinators only, and every look-up is audited."""
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise DomainError(
            "reason_required", _l("Give the reason for this look-up; it is written to the audit log."), field="reason"
        )
    membership = db.session.scalar(
        select(Membership).where(Membership.group_id == group.id, func.lower(Membership.alias) == alias.strip().lower())
    )
    if membership is None:
        raise DomainError("alias_not_found", _l("No member of this group has this alias."), field="alias")
    record(actor, AuditAction.LOOKUP_ALIAS, "membership", membership.id, group_id=group.id, reason=reason)
    db.session.flush()
    return membership
