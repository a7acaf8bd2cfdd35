"""Conflict screening: pairs of accounts that must never share a group, and the refusal it causes."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..audit import AuditAction, record
from ..errors import DomainError
from ..extensions import db
from ..models import EnrolmentConflict, Group, Membership, User
from .roster import CURRENT_STATUSES


class ConflictRefused(DomainError):
    """Enrolment would put two people who must be kept apart in one group (a narrower case: coordinators'
    pages catch it to say why).

    `message` is neutral (safe to show the person enrolling); `reason` is for coordinators only.
    """

    def __init__(self, field: str | None, reason: str):
        super().__init__(
            "enrolment_refused",
            _l("It is not possible to join this group. Your coordinator can tell you about other groups."),
            field=field,
        )
        self.reason = reason


def conflicting_member(group: Group, user: User) -> Membership | None:
    """A current member of the group whom this user must never meet, if any."""
    other = func.coalesce(
        select(EnrolmentConflict.user_high_id)
        .where(EnrolmentConflict.user_low_id == user.id, EnrolmentConflict.user_high_id == Membership.user_id)
        .scalar_subquery(),
        select(EnrolmentConflict.user_low_id)
        .where(EnrolmentConflict.user_high_id == user.id, EnrolmentConflict.user_low_id == Membership.user_id)
        .scalar_subquery(),
    )
    return db.session.scalar(
        select(Membership)
        .where(Membership.group_id == group.id, Membership.status.in_(CURRENT_STATUSES), other.is_not(None))
        .limit(1)
    )


def record_conflict(first: User, second: User, note: str, actor: User) -> tuple[EnrolmentConflict, list[Group]]:
    """Record that two accounts must never share a group. Returns groups where they already do."""
    if first.id == second.id:
        raise DomainError("same_account", _l("Choose two different accounts."), field="second")
    low, high = sorted((first.id, second.id))
    existing = db.session.scalar(
        select(EnrolmentConflict).where(EnrolmentConflict.user_low_id == low, EnrolmentConflict.user_high_id == high)
    )
    if existing is not None:
        raise DomainError("conflict_exists", _l("This pair is already recorded."), field="second")
    conflict = EnrolmentConflict(
        user_low_id=low, user_high_id=high, note=note.strip()[:500], created_by_user_id=actor.id
    )
    db.session.add(conflict)
    record(actor, AuditAction.RECORD_CONFLICT, "conflict", f"{low}-{high}")
    db.session.flush()
    shared = select(Membership.group_id).where(Membership.user_id == first.id, Membership.status.in_(CURRENT_STATUSES))
    groups = list(
        db.session.scalars(
            select(Group)
            .join(Membership, Membership.group_id == Group.id)
            .where(Membership.user_id == second.id, Membership.status.in_(CURRENT_STATUSES), Group.id.in_(shared))
        )
    )
    return conflict, groups


def remove_conflict(conflict: EnrolmentConflict, actor: User) -> None:
    record(actor, AuditAction.REMOVE_CONFLICT, "conflict", f"{conflict.user_low_id}-{conflict.user_high_id}")
    db.session.delete(conflict)
    db.session.flush()
