"""The audit log: who did what to which id, and why. Never the content of a message, a note or a profile.

Every write a coordinator or peer expert makes (groups, meetings, series, memberships, the pool, invites,
conflicts, live moderation) and every read of data that links a person to an alias or an incident is one row
of `ModerationAction`, written here and nowhere else. Like every service, `record` adds and never commits:
the edge that made the change (or the GET that showed the data) commits once.
"""

from __future__ import annotations

from .extensions import db
from .models import ModerationAction, User
from .models.audit import AuditAction

__all__ = ["AuditAction", "record", "record_by"]


def record(
    actor: User | None,
    action: AuditAction,
    target_type: str,
    target_id: int | str,
    *,
    group_id: int | None = None,
    meeting_id: int | None = None,
    reason: str | None = None,
) -> ModerationAction:
    """Add one audit row. `actor` None is the system (an operator's CLI command). `reason` is the actor's own
    stated reason or a short label, cut to 500 characters; never anyone's text."""
    entry = ModerationAction(
        actor_user_id=actor.id if actor else None,
        actor_role=actor.role.value if actor else None,
        action=AuditAction(action),
        target_type=target_type,
        target_id=str(target_id),
        group_id=group_id,
        meeting_id=meeting_id,
        reason=(reason or "")[:500],
    )
    db.session.add(entry)
    return entry


def record_by(
    actor: User | None,
    action: AuditAction,
    target_type: str,
    target_id: int | str,
    *,
    group_id: int | None = None,
    meeting_id: int | None = None,
    reason: str | None = None,
) -> None:
    """`record` when a person acts. Services that seeds, the benchmark and test factories call without an
    actor (`actor=None`: set-up, not a coordinator's or peer expert's decision) write no row."""
    if actor is not None:
        record(actor, action, target_type, target_id, group_id=group_id, meeting_id=meeting_id, reason=reason)
