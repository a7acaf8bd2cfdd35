"""Group rules. Services change models and flush; the caller commits."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..models import Group, GroupKind, Membership, MembershipRole, MembershipStatus, Role, User
from ..permissions import Denied, require_trained_peer_expert
from .aliases import draw_alias


class GroupError(Exception):
    def __init__(self, field: str, message):
        super().__init__(field)
        self.field = field
        self.message = message


def create_group(name: str, kind: GroupKind, language: str, capacity: int, description: str = "") -> Group:
    group = Group(name=name.strip(), kind=kind, language=language, capacity=capacity, description=description)
    db.session.add(group)
    db.session.flush()
    return group


def active_participant_count(group: Group) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Membership).where(
            Membership.group_id == group.id,
            Membership.role == MembershipRole.PARTICIPANT,
            Membership.status == MembershipStatus.ACTIVE,
        )
    ) or 0


def _taken_aliases(group: Group) -> set[str]:
    return set(db.session.scalars(select(Membership.alias).where(Membership.group_id == group.id,
                                                                 Membership.alias.is_not(None))))


def _existing(group: Group, user: User) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.group_id == group.id, Membership.user_id == user.id))


def add_participant(group: Group, user: User) -> Membership:
    """Enrol a participant under a fresh alias. Raises GroupError when they cannot be added."""
    if user.role != Role.PARTICIPANT:
        raise GroupError("username", _l("Only participant accounts can be added as members."))
    if _existing(group, user) is not None:
        raise GroupError("username", _l("This person is already in the group."))
    if active_participant_count(group) >= group.capacity:
        raise GroupError("username", _l("The group is full."))
    membership = Membership(group=group, user=user, role=MembershipRole.PARTICIPANT,
                            status=MembershipStatus.ACTIVE, alias=draw_alias(group.language, _taken_aliases(group)))
    db.session.add(membership)
    db.session.flush()
    return membership


def assign_moderator(group: Group, user: User) -> Membership:
    """Make a trained peer expert a moderator of the group."""
    try:
        require_trained_peer_expert(user)
    except Denied as denied:
        raise GroupError("username", denied.message) from None
    membership = _existing(group, user)
    if membership is not None:
        if membership.is_moderator and membership.is_active:
            raise GroupError("username", _l("This peer expert already moderates the group."))
        membership.role = MembershipRole.MODERATOR
        membership.status = MembershipStatus.ACTIVE
    else:
        membership = Membership(group=group, user=user, role=MembershipRole.MODERATOR,
                                status=MembershipStatus.ACTIVE)
        db.session.add(membership)
    db.session.flush()
    return membership


def moderators(group: Group) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).where(Membership.group_id == group.id, Membership.role == MembershipRole.MODERATOR,
                                 Membership.status == MembershipStatus.ACTIVE)
    ))


def participants(group: Group) -> list[Membership]:
    return list(db.session.scalars(
        select(Membership).where(Membership.group_id == group.id, Membership.role == MembershipRole.PARTICIPANT)
        .order_by(Membership.alias)
    ))


def groups_of(user: User) -> list[tuple[Group, Membership]]:
    """The groups a user takes part in or moderates, with their membership."""
    rows = db.session.execute(
        select(Group, Membership).join(Membership, Membership.group_id == Group.id)
        .where(Membership.user_id == user.id, Membership.status == MembershipStatus.ACTIVE,
               Group.archived_at.is_(None))
        .order_by(Group.name)
    )
    return [(g, m) for g, m in rows]
