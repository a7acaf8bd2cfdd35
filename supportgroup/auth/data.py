"""A person's own data: export it, or erase the account. Services flush; the caller commits.

Erasure deletes the memberships rather than blanking their aliases: `Membership.user_id` is required and
cascades from the account, so a membership cannot outlive its account, and a row kept with a NULL alias
would still hold the person's dates, status and referral. Deleting it releases the alias (the unique
(group, alias) pair frees up) and cascades to what hangs off it: attendance, mutes, hands, admissions,
removals, safety checks, their reports, and whispers addressed to them.

The audit log survives: entries the person made as a peer expert or coordinator keep who-did-what as a
stable pseudonym (a keyed hash) instead of the account.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from typing import Any, cast

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import CursorResult, Executable, delete, select, update

from ..errors import DomainError
from ..extensions import db
from ..models import Group, Meeting, Membership, MembershipStatus, Message, ModerationAction, User, utcnow
from . import codes
from .accounts import keep_an_admin
from .alias_reads import alias_reads_of
from .passwords import verify_password


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_data(user: User) -> dict[str, Any]:
    """Everything stored about this account that is theirs: the account, memberships, own messages."""
    memberships = db.session.execute(
        select(Membership, Group)
        .join(Group, Membership.group_id == Group.id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.created_at, Membership.id)
    ).all()
    messages = db.session.execute(
        select(Message, Meeting, Group)
        .join(Membership, Message.author_membership_id == Membership.id)
        .join(Meeting, Message.meeting_id == Meeting.id)
        .join(Group, Meeting.group_id == Group.id)
        .where(Membership.user_id == user.id)
        .order_by(Message.created_at, Message.id)
    ).all()
    data: dict[str, Any] = {
        "exported_at": _iso(utcnow()),
        "account": {
            "username": user.username,
            "role": user.role.value,
            "created_at": _iso(user.created_at),
            "last_active_at": _iso(user.last_active_at),  # the day of the last login or page seen
            "timezone": user.timezone,
            "locale": user.locale,
            "calendar_alarm_minutes": user.calendar_alarm_minutes,
        },
        "memberships": [
            {
                "group": group.name,
                "alias": membership.alias,
                "role": membership.role.value,
                "status": membership.status.value,
                "joined_at": _iso(membership.created_at),
                "status_changed_at": _iso(membership.status_changed_at),
                "house_rules_accepted_at": _iso(membership.consented_at),
            }
            for membership, group in memberships
        ],
        # When someone saw which account is behind one of these aliases: the role of who looked, never who.
        "alias_lookups": [
            {"group": read.group, "alias": read.alias, "looked_up_at": _iso(read.at), "by_role": read.role}
            for read in alias_reads_of(user)
        ],
        "messages": [
            {
                "group": group.name,
                "meeting": meeting.title,
                "meeting_starts_at": _iso(meeting.starts_at),
                "sent_at": _iso(message.created_at),
                "text": message.text,
                "kind": message.kind,
                "status": message.status,
                "deleted": message.deleted_at is not None,
            }
            for message, meeting, group in messages
        ],
    }
    if user.profile is not None:
        profile = user.profile
        data["peer_expert_profile"] = {
            "first_name": profile.first_name,
            "story": profile.story,
            "experience_kinds": list(profile.experience_kinds or []),
            "languages": list(profile.languages or []),
            "trained": profile.trained,
            "trained_on": profile.trained_on.isoformat() if profile.trained_on else None,
        }
    return data


def actor_pseudonym(user_id: int, created_at: datetime | None = None) -> str:
    """A stable pseudonym for an erased account in the audit log: a keyed hash (HMAC with SECRET_KEY).

    The account's creation time is part of the input: SQLite may hand out an erased account's id again,
    and two people must never share a pseudonym.
    """
    secret = current_app.config["SECRET_KEY"].encode()
    stamp = _iso(created_at) or ""
    digest = hmac.new(secret, f"erased-actor:{user_id}:{stamp}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def _bulk(statement: Executable) -> int:
    """Run a bulk UPDATE or DELETE without touching the session's objects; how many rows it changed."""
    result = cast(CursorResult[Any], db.session.execute(statement, execution_options={"synchronize_session": False}))
    return result.rowcount or 0


def erase_account(user: User, password: str) -> dict[str, int]:
    """Erase the account after checking the password (raises DomainError), unless it is the last administrator
    who can sign in. One transaction: flush only.

    Returns counts (no content). The caller commits, then disconnects the user's sockets and logs out.
    """
    if not verify_password(user.password_hash, password or ""):
        raise DomainError("wrong_password", _l("The password is not correct."), field="password")
    keep_an_admin(user)  # the platform keeps an administrator who can sign in
    user_id = user.id
    membership_ids = select(Membership.id).where(Membership.user_id == user_id)
    groups_with_a_place = db.session.scalars(
        select(Membership.group_id).where(Membership.user_id == user_id, Membership.status == MembershipStatus.ACTIVE)
    ).all()

    audited = _bulk(
        update(ModerationAction)
        .where(ModerationAction.actor_user_id == user_id)
        .values(actor_pseudonym=actor_pseudonym(user_id, user.created_at), actor_user_id=None)
    )
    codes.discard_issued_by(user_id)  # reset codes they handed over die with them (not "issued by the CLI")
    messages = _bulk(delete(Message).where(Message.author_membership_id.in_(membership_ids)))
    memberships = _bulk(delete(Membership).where(Membership.user_id == user_id))
    # The profile, conflicts and the rest cascade in the database; the audit entries were already detached.
    _bulk(delete(User).where(User.id == user_id))
    db.session.expunge(user)
    db.session.expire_all()

    # A place freed in a full group goes to the next person on its waitlist.
    from ..groups.enrolment import promote_waitlist

    for group_id in set(groups_with_a_place):
        group = db.session.get(Group, group_id)
        if group is not None:
            promote_waitlist(group)
    db.session.flush()
    return {"audit_entries": audited, "messages": messages, "memberships": memberships}
