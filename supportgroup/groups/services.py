"""Group rules: enrolment, aliases, waitlist, conflicts, invites. Services flush; the caller commits."""

from __future__ import annotations

import secrets
from datetime import datetime

import bleach
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from ..audit import AuditAction, record, record_by
from ..errors import DomainError
from ..extensions import db
from ..models import (
    Attendance,
    EnrolmentConflict,
    Group,
    GroupKind,
    Invite,
    Membership,
    MembershipRole,
    MembershipStatus,
    Organisation,
    Role,
    User,
    utcnow,
)
from ..permissions import Denied, require_trained_peer_expert
from .aliases import draw_alias

# Memberships that hold or claim a place in a group (and so count for conflict screening).
CURRENT_STATUSES = (
    MembershipStatus.ACTIVE,
    MembershipStatus.WAITLISTED,
    MembershipStatus.PENDING,
    MembershipStatus.INVITED,
)
RULES_TAGS = ["p", "br", "ul", "ol", "li", "strong", "em", "b", "i", "h3", "h4", "blockquote"]


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


# --- groups -----------------------------------------------------------------------------------------


def clean_rules(html: str) -> str:
    """House rules are rich text written by coordinators: keep simple structure, drop everything else."""
    return bleach.clean(html or "", tags=RULES_TAGS, attributes={}, strip=True).strip()


def create_group(
    name: str,
    kind: GroupKind,
    language: str,
    capacity: int,
    description: str = "",
    house_rules: str = "",
    *,
    actor: User | None = None,
) -> Group:
    group = Group(
        name=name.strip(),
        kind=kind,
        language=language,
        capacity=capacity,
        description=description.strip(),
        house_rules=clean_rules(house_rules),
    )
    db.session.add(group)
    db.session.flush()
    record_by(actor, AuditAction.CREATE_GROUP, "group", group.id, group_id=group.id)
    return group


def update_group(
    group: Group,
    *,
    name: str,
    kind: GroupKind,
    language: str,
    capacity: int,
    description: str,
    house_rules: str,
    waiting_room: bool,
    premoderation: bool,
    retention_days: int,
    open_for_requests: bool,
    actor: User | None = None,
) -> list[Membership]:
    """Change a group's details and settings. Returns members promoted from the waitlist."""
    active = active_participant_count(group)
    if capacity < active:
        raise DomainError(
            "capacity_below_active",
            _l("The group has %(n)d active participants; the capacity cannot be lower.", n=active),
            field="capacity",
        )
    rules = clean_rules(house_rules)
    if rules != group.house_rules:
        group.house_rules = rules
        group.rules_version += 1  # everyone accepts the new rules before their next meeting
    group.name, group.kind, group.language = name.strip(), kind, language
    group.capacity, group.description = capacity, description.strip()
    group.waiting_room, group.premoderation = waiting_room, premoderation
    group.retention_days, group.open_for_requests = retention_days, open_for_requests
    record_by(actor, AuditAction.EDIT_GROUP, "group", group.id, group_id=group.id)
    db.session.flush()
    return promote_waitlist(group)


def archive_group(group: Group, actor: User) -> None:
    group.archived_at = utcnow()
    record(actor, AuditAction.ARCHIVE_GROUP, "group", group.id, group_id=group.id)
    db.session.flush()


# --- counting and listing ---------------------------------------------------------------------------


def active_participant_count(group: Group) -> int:
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.group_id == group.id,
                Membership.role == MembershipRole.PARTICIPANT,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
        or 0
    )


def moderators(group: Group) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership).where(
                Membership.group_id == group.id,
                Membership.role == MembershipRole.MODERATOR,
                Membership.status == MembershipStatus.ACTIVE,
            )
        )
    )


def participants(group: Group) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.group_id == group.id, Membership.role == MembershipRole.PARTICIPANT)
            .order_by(Membership.status, Membership.status_changed_at)
        )
    )


def groups_of(user: User) -> list[tuple[Group, Membership]]:
    """The groups a user takes part in, waits for, or moderates, with their membership."""
    rows = db.session.execute(
        select(Group, Membership)
        .join(Membership, Membership.group_id == Group.id)
        .where(
            Membership.user_id == user.id,
            Membership.status.in_([MembershipStatus.ACTIVE, MembershipStatus.WAITLISTED, MembershipStatus.PENDING]),
            Group.archived_at.is_(None),
        )
        .order_by(Group.name)
    )
    return [(g, m) for g, m in rows]


def _existing(group: Group, user: User) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.group_id == group.id, Membership.user_id == user.id))


# --- aliases ----------------------------------------------------------------------------------------


def _aliases_to_avoid(group: Group, user: User) -> set[str]:
    """Aliases taken in this group, plus this person's aliases elsewhere: two groups never share one."""
    return set(
        db.session.scalars(
            select(Membership.alias).where(
                Membership.alias.is_not(None), or_(Membership.group_id == group.id, Membership.user_id == user.id)
            )
        )
    )


def has_attended(membership: Membership) -> bool:
    return (
        db.session.scalar(select(func.count()).select_from(Attendance).where(Attendance.membership_id == membership.id))
        > 0
    )


def redraw_alias(membership: Membership) -> str:
    """A new random alias, allowed until the participant has taken part in a meeting."""
    if membership.role != MembershipRole.PARTICIPANT:
        raise DomainError("no_alias", _l("Only participants have an alias."), field="alias")
    if has_attended(membership):
        raise DomainError(
            "alias_fixed", _l("Your alias stays the same once you have taken part in a meeting."), field="alias"
        )
    membership.alias = draw_alias(membership.group.language, _aliases_to_avoid(membership.group, membership.user))
    db.session.flush()
    return membership.alias


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


# --- enrolment --------------------------------------------------------------------------------------


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


def _check_can_enrol(group: Group, user: User, field: str) -> Membership | None:
    if group.is_archived:
        raise DomainError("group_archived", _l("This group has ended."), field=field)
    if user.role != Role.PARTICIPANT:
        raise DomainError(
            "not_a_participant_account", _l("Only participant accounts can be added as members."), field=field
        )
    existing = _existing(group, user)
    if existing is not None and existing.status in CURRENT_STATUSES:
        raise DomainError("already_member", _l("Already in this group, or waiting for a place."), field=field)
    if existing is not None and existing.status == MembershipStatus.BANNED:
        raise ConflictRefused(field, "banned")
    if conflicting_member(group, user) is not None:
        raise ConflictRefused(field, "conflict")
    return existing


def _set_status(membership: Membership, status: MembershipStatus) -> None:
    membership.status = status
    membership.status_changed_at = utcnow()


def enrol(
    group: Group, user: User, source: str, *, organisation: Organisation | None = None, pending: bool = False
) -> Membership:
    """Place a participant in a group: active when there is room, else on the waitlist (or pending approval).

    Raises DomainError (or ConflictRefused, whose message reveals nothing about anyone else).
    """
    field = "code" if source == "invite" else "username"
    membership = _check_can_enrol(group, user, field)
    if pending:
        status = MembershipStatus.PENDING
    else:
        status = (
            MembershipStatus.ACTIVE if active_participant_count(group) < group.capacity else MembershipStatus.WAITLISTED
        )
    alias = draw_alias(group.language, _aliases_to_avoid(group, user))
    if membership is None:
        membership = Membership(group=group, user=user, role=MembershipRole.PARTICIPANT)
        db.session.add(membership)
    membership.role = MembershipRole.PARTICIPANT  # a former moderator enrolled again takes part, not moderates
    membership.alias, membership.source = alias, source
    membership.consented_at = membership.consented_rules_version = None
    membership.referred_by_organisation_id = organisation.id if organisation else None
    membership.referral_closed_at = None
    _set_status(membership, status)
    db.session.flush()
    return membership


def add_participant(
    group: Group, user: User, organisation: Organisation | None = None, *, actor: User | None = None
) -> Membership:
    """A coordinator's referral."""
    membership = enrol(group, user, "referral", organisation=organisation)
    record_by(actor, AuditAction.ADD_MEMBER, "membership", membership.id, group_id=group.id)
    return membership


def request_to_join(group: Group, user: User) -> Membership:
    if not group.open_for_requests:
        raise DomainError(
            "requests_closed", _l("This group does not take requests. Ask your coordinator for an invite.")
        )
    return enrol(group, user, "request", pending=True)


def approve_request(membership: Membership, actor: User) -> Membership:
    if membership.status != MembershipStatus.PENDING:
        raise DomainError("request_handled", _l("This request has already been handled."))
    if conflicting_member(membership.group, membership.user) is not None:
        raise ConflictRefused(None, "conflict")
    full = active_participant_count(membership.group) >= membership.group.capacity
    _set_status(membership, MembershipStatus.WAITLISTED if full else MembershipStatus.ACTIVE)
    record(actor, AuditAction.APPROVE_REQUEST, "membership", membership.id, group_id=membership.group_id)
    db.session.flush()
    return membership


def decline_request(membership: Membership, actor: User) -> None:
    if membership.status != MembershipStatus.PENDING:
        raise DomainError("request_handled", _l("This request has already been handled."))
    _set_status(membership, MembershipStatus.REMOVED)
    record(actor, AuditAction.DECLINE_REQUEST, "membership", membership.id, group_id=membership.group_id)
    db.session.flush()


def promote_waitlist(group: Group) -> list[Membership]:
    """Move waitlisted participants up, first come first served, while there are places."""
    free = group.capacity - active_participant_count(group)
    if free <= 0 or group.is_archived:
        return []
    waiting = list(
        db.session.scalars(
            select(Membership)
            .where(Membership.group_id == group.id, Membership.status == MembershipStatus.WAITLISTED)
            .order_by(Membership.status_changed_at, Membership.id)
            .limit(free)
        )
    )
    for membership in waiting:
        _set_status(membership, MembershipStatus.ACTIVE)
    db.session.flush()
    return waiting


def leave_group(membership: Membership) -> list[Membership]:
    if membership.status not in CURRENT_STATUSES:
        raise DomainError("not_member", _l("You are no longer in this group."))
    _set_status(membership, MembershipStatus.LEFT)
    db.session.flush()
    return promote_waitlist(membership.group)


def end_membership(membership: Membership, actor: User, status: MembershipStatus, reason: str = "") -> list[Membership]:
    """Remove or ban a member (a state, never a deletion). Returns members promoted from the waitlist."""
    if status not in (MembershipStatus.REMOVED, MembershipStatus.BANNED):
        raise ValueError(status)
    _set_status(membership, status)
    record(
        actor,
        AuditAction.BAN_MEMBER if status == MembershipStatus.BANNED else AuditAction.REMOVE_MEMBER,
        "membership",
        membership.id,
        group_id=membership.group_id,
        reason=reason,
    )
    db.session.flush()
    return promote_waitlist(membership.group)


def accept_house_rules(membership: Membership) -> None:
    membership.consented_at = utcnow()
    membership.consented_rules_version = membership.group.rules_version
    db.session.flush()


def has_accepted_rules(membership: Membership) -> bool:
    return membership.consented_rules_version == membership.group.rules_version


def close_referral(membership: Membership, actor: User) -> None:
    """The referring organisation closed its case. The membership goes on."""
    if membership.referred_by_organisation_id is None:
        raise DomainError("no_referral", _l("This membership has no referring organisation."))
    membership.referral_closed_at = utcnow()
    record(actor, AuditAction.CLOSE_REFERRAL, "membership", membership.id, group_id=membership.group_id)
    db.session.flush()


# --- moderators -------------------------------------------------------------------------------------


def assign_moderator(group: Group, user: User, *, actor: User | None = None) -> Membership:
    """Make a trained peer expert a (co-)moderator of the group."""
    try:
        require_trained_peer_expert(user)
    except Denied as denied:
        raise DomainError(denied.code, denied.message, field="username") from None
    membership = _existing(group, user)
    if membership is not None:
        if membership.is_moderator and membership.is_active:
            raise DomainError(
                "already_moderator", _l("This peer expert already moderates the group."), field="username"
            )
        membership.role = MembershipRole.MODERATOR
        _set_status(membership, MembershipStatus.ACTIVE)
    else:
        membership = Membership(
            group=group, user=user, role=MembershipRole.MODERATOR, status=MembershipStatus.ACTIVE, source="referral"
        )
        db.session.add(membership)
    db.session.flush()
    record_by(actor, AuditAction.ASSIGN_MODERATOR, "membership", membership.id, group_id=group.id)
    return membership


# --- invites ----------------------------------------------------------------------------------------


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


def invite_problem(invite: Invite | None):
    """Why an invite cannot be used now, or None."""
    if invite is None:
        return _l("This invite code is not valid. Check the code, or ask for a new one.")
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


# --- conflicts --------------------------------------------------------------------------------------


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


def create_organisation(name: str, actor: User | None = None) -> Organisation:
    name = name.strip()
    if db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower())):
        raise DomainError("organisation_exists", _l("This organisation is already listed."), field="name")
    organisation = Organisation(name=name)
    db.session.add(organisation)
    db.session.flush()
    record_by(actor, AuditAction.CREATE_ORGANISATION, "organisation", organisation.id)
    return organisation
