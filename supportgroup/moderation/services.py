"""The audit log. Records who did what to which id and why; never message content."""
from __future__ import annotations

from ..extensions import db
from ..models import ModerationAction, User


def record_action(actor: User | None, action: str, target_type: str, target_id, *, group_id: int | None = None,
                  meeting_id: int | None = None, reason: str = "") -> ModerationAction:
    entry = ModerationAction(
        actor_user_id=actor.id if actor else None,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        group_id=group_id,
        meeting_id=meeting_id,
        reason=(reason or "")[:500],
    )
    db.session.add(entry)
    return entry
