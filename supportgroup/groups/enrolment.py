"""Enrolment and a membership's life after it: referral, request, approval, the waitlist, leaving, removal
and bans, house-rules consent, referring organisations, and moderators. Services flush; the caller commits."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..audit import AuditAction, record, record_by
from ..errors import DomainError
from ..extensions import db
from ..models import Group, Membership, MembershipRole, MembershipStatus, Organisation, Role, User, utcnow
from ..permissions import Denied, require_trained_peer_expert
from .alias_services import aliases_to_avoid
from .aliases import draw_alias
from .conflicts import ConflictRefused, conflicting_member
from .roster import CURRENT_STATUSES, active_participant_count, existing_membership, set_status


def _check_can_enrol(group: Group, user: User, field: str) -> Membership | None:
    if group.is_archived:
        raise DomainError("group_archived", _l("This group has ended."), field=field)
    if user.role != Role.PARTICIPANT:
        raise DomainError(
            "not_a_participant_account", _l("Only participant accounts can be added as members."), field=field
        )
    existing = existing_membership(group, user)
    if existing is not None and existing.status in CURRENT_STATUSES:
        raise DomainError("already_member", _l("Already in this group, or waiting for a place."), field=field)
    if existing is not None and existing.status == MembershipStatus.BANNED:
        raise ConflictRefused(field, "banned")
    if conflicting_member(group, user) is not None:
        raise ConflictRefused(field, "conflict")
    return existing


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
    alias = draw_alias(group.language, aliases_to_avoid(group, user))
    if membership is None:
        membership = Membership(group=group, user=user, role=MembershipRole.PARTICIPANT)
        db.session.add(membership)
    membership.role = MembershipRole.PARTICIPANT  # a former moderator enrolled again takes part, not moderates
    membership.alias, membership.source = alias, source
    membership.consented_at = membership.consented_rules_version = None
    membership.referred_by_organisation_id = organisation.id if organisation else None
    membership.referral_closed_at = None
    set_status(membership, status)
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
    set_status(membership, MembershipStatus.WAITLISTED if full else MembershipStatus.ACTIVE)
    record(actor, AuditAction.APPROVE_REQUEST, "membership", membership.id, group_id=membership.group_id)
    db.session.flush()
    return membership


def decline_request(membership: Membership, actor: User) -> None:
    if membership.status != MembershipStatus.PENDING:
        raise DomainError("request_handled", _l("This request has already been handled."))
    set_status(membership, MembershipStatus.REMOVED)
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
        set_status(membership, MembershipStatus.ACTIVE)
    db.session.flush()
    return waiting


def leave_group(membership: Membership) -> list[Membership]:
    if membership.status not in CURRENT_STATUSES:
        raise DomainError("not_member", _l("You are no longer in this group."))
    set_status(membership, MembershipStatus.LEFT)
    db.session.flush()
    return promote_waitlist(membership.group)


def end_membership(membership: Membership, actor: User, status: MembershipStatus, reason: str = "") -> list[Membership]:
    """Remove or ban a member (a state, never a deletion). Returns members promoted from the waitlist."""
    if status not in (MembershipStatus.REMOVED, MembershipStatus.BANNED):
        raise ValueError(status)
    set_status(membership, status)
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


def create_organisation(name: str, actor: User | None = None) -> Organisation:
    """An organisation that refers participants (a membership may name the one that referred it)."""
    name = name.strip()
    if db.session.scalar(select(Organisation).where(func.lower(Organisation.name) == name.lower())):
        raise DomainError("organisation_exists", _l("This organisation is already listed."), field="name")
    organisation = Organisation(name=name)
    db.session.add(organisation)
    db.session.flush()
    record_by(actor, AuditAction.CREATE_ORGANISATION, "organisation", organisation.id)
    return organisation


def assign_moderator(group: Group, user: User, *, actor: User | None = None) -> Membership:
    """Make a trained peer expert a (co-)moderator of the group."""
    try:
        require_trained_peer_expert(user)
    except Denied as denied:
        raise DomainError(denied.code, denied.message, field="username") from None
    membership = existing_membership(group, user)
    if membership is not None:
        if membership.is_moderator and membership.is_active:
            raise DomainError(
                "already_moderator", _l("This peer expert already moderates the group."), field="username"
            )
        membership.role = MembershipRole.MODERATOR
        set_status(membership, MembershipStatus.ACTIVE)
    else:
        membership = Membership(
            group=group, user=user, role=MembershipRole.MODERATOR, status=MembershipStatus.ACTIVE, source="referral"
        )
        db.session.add(membership)
    db.session.flush()
    record_by(actor, AuditAction.ASSIGN_MODERATOR, "membership", membership.id, group_id=group.id)
    return membership
