"""When someone saw which account is behind one of my aliases: the participant's side of the audit log.

Each audited read that resolves a membership's alias to its account (today the coordinator's look-up,
LOOKUP_ALIAS, target "membership") is shown to that membership's person: when, in which group, under which
alias, and the role of who looked; never who, and never the reason (it may concern someone else, or an
investigation the person must not be warned of by its wording). A read that resolves aliases elsewhere (an
account page listing someone's groups with their aliases, say) joins in by recording its row the same way
and adding its action to ALIAS_RESOLVING_ACTIONS.

SQLite may hand out a deleted membership's id again (an erased account's): a row older than the membership
cannot be about it, so only rows written since the membership began count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, cast, select

from ..extensions import db
from ..models import Group, Membership, ModerationAction, User
from ..models.audit import AuditAction

ALIAS_RESOLVING_ACTIONS = (AuditAction.LOOKUP_ALIAS,)


@dataclass(frozen=True)
class AliasRead:
    at: datetime
    group: str
    alias: str | None
    role: str | None  # the role of who looked, as stored ("coordinator", "admin", ...)


def alias_reads_of(user: User) -> list[AliasRead]:
    """Every resolving read of this person's aliases, newest first. One query."""
    row = ModerationAction
    query = (
        select(row.created_at, Group.name, Membership.alias, row.actor_role)
        .join(Membership, cast(Membership.id, String) == row.target_id)
        .join(Group, Group.id == Membership.group_id)
        .where(
            row.target_type == "membership",
            row.action.in_(ALIAS_RESOLVING_ACTIONS),
            Membership.user_id == user.id,
            row.created_at >= Membership.created_at,
        )
        .order_by(row.created_at.desc(), row.id.desc())
    )
    return [AliasRead(at, group, alias, role) for at, group, alias, role in db.session.execute(query)]
