"""A group's life: created, its details and settings edited, archived. Services flush; the caller commits."""

from __future__ import annotations

import bleach
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit import AuditAction, record, record_by
from ..errors import DomainError
from ..extensions import db
from ..models import Group, GroupKind, Membership, User, utcnow
from . import rules_text
from .enrolment import promote_waitlist
from .roster import active_participant_count


def clean_rules(source: str) -> str:
    """House rules are stored as the coordinator's text (rules_text.py renders them). HTML pasted in, like the
    rules stored before the editor, keeps only simple structure."""
    if rules_text.is_legacy_html(source):
        return bleach.clean(source, tags=rules_text.LEGACY_TAGS, attributes={}, strip=True).strip()
    return rules_text.normalize(source)


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
        if not rules_text.same_for_readers(group.house_rules, rules):
            group.rules_version += 1  # everyone accepts the new rules before their next meeting
        group.house_rules = rules  # (legacy HTML saved as text for the first time reads the same: no new consent)
    group.name, group.kind, group.language = name.strip(), kind, language
    group.capacity, group.description = capacity, description.strip()
    group.waiting_room, group.premoderation = waiting_room, premoderation
    group.retention_days, group.open_for_requests = retention_days, open_for_requests
    record_by(actor, AuditAction.EDIT_GROUP, "group", group.id, group_id=group.id)
    db.session.flush()
    return promote_waitlist(group)


def archive_group(group: Group, actor: User) -> None:
    """Members can no longer enter the group's meetings (permissions.py); nothing else changes, so a restore
    gives the group back as it was."""
    if group.archived_at is None:
        group.archived_at = utcnow()
        record(actor, AuditAction.ARCHIVE_GROUP, "group", group.id, group_id=group.id)
    db.session.flush()


def archived_groups() -> list[Group]:
    return list(db.session.scalars(select(Group).where(Group.archived_at.is_not(None)).order_by(Group.name)))


def restore_group(group: Group, actor: User) -> None:
    """Undo an archive: the same members, moderators, meetings, rules and settings as before."""
    if group.archived_at is None:
        raise DomainError("group_not_archived", _l("This group is not archived."))
    group.archived_at = None
    record(actor, AuditAction.RESTORE_GROUP, "group", group.id, group_id=group.id)
    db.session.flush()
