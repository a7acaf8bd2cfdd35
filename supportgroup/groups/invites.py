"""Invites: codes a coordinator hands out, each good for a group until revoked, expired or used up."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from ..audit import AuditAction, record, record_by
from ..errors import DomainError
from ..extensions import db
from ..models import Group, Invite, Membership, User, utcnow
from .enrolment import enrol


def create_invite(group: Group, actor: User, expires_at: datetime | None, max_uses: int | None) -> Invite:
    if expires_at is not None and expires_at <= utcnow():
        raise DomainError("expiry_in_past", _l("The expiry date lies in the past."), field="expires_at")
    if max_uses is not None and max_uses < 1:
        raise DomainError("max_uses_too_low", _l("An invite can be used at least once."), field="max_uses")
    invite = Invite(
        group=group,
        code=secrets.token_urlsafe(9),
        created_by_user_id=actor.id,
        expires_at=expires_at,
        max_uses=max_uses,
    )
    db.session.add(invite)
    db.session.flush()
    record(actor, AuditAction.CREATE_INVITE, "invite", invite.id, group_id=group.id)
    return invite


def revoke_invite(invite: Invite, actor: User | None = None) -> None:
    if invite.revoked_at is None:
        invite.revoked_at = utcnow()
        record_by(actor, AuditAction.REVOKE_INVITE, "invite", invite.id, group_id=invite.group_id)
        db.session.flush()


def invite_problem(invite: Invite) -> LazyString | None:
    """Why an existing invite cannot be used now, or None."""
    if invite.revoked_at is not None:
        return _l("This invite has been withdrawn. Ask your coordinator for a new one.")
    if invite.expires_at is not None and invite.expires_at <= utcnow():
        return _l("This invite has expired. Ask your coordinator for a new one.")
    if invite.max_uses is not None and invite.uses >= invite.max_uses:
        return _l("This invite has been used up. Ask your coordinator for a new one.")
    if invite.group.is_archived:
        return _l("This group has ended.")
    return None


def find_invite(code: str) -> Invite | None:
    code = (code or "").strip()
    if not code or len(code) > 32:
        return None
    return db.session.scalar(select(Invite).where(Invite.code == code))


def redeem_invite(code: str, user: User) -> Membership:
    invite = find_invite(code)
    if invite is None:
        raise DomainError(
            "invite_unusable", _l("This invite code is not valid. Check the code, or ask for a new one."), field="code"
        )
    if (problem := invite_problem(invite)) is not None:
        raise DomainError("invite_unusable", problem, field="code")
    membership = enrol(invite.group, user, "invite")
    # Count the use atomically, so a last place cannot be taken twice.
    counted = db.session.execute(
        update(Invite)
        .where(Invite.id == invite.id, or_(Invite.max_uses.is_(None), Invite.uses < Invite.max_uses))
        .values(uses=Invite.uses + 1)
        .returning(Invite.id)
    ).scalar()
    if counted is None:
        raise DomainError(
            "invite_used_up", _l("This invite has been used up. Ask your coordinator for a new one."), field="code"
        )
    db.session.flush()
    return membership
