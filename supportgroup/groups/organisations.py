"""Renaming and removing partner organisations (adding them is `enrolment.create_organisation`).

Memberships remember which organisation referred someone: an organisation that any membership names stays
listed (removing it would silently drop that record), so only an unused one may be removed. Both are audited as
EDIT_ORGANISATION with the organisation's id ("renamed" / "removed"). Services flush; the caller commits.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..audit import AuditAction, record_by
from ..errors import DomainError
from ..extensions import db
from ..models import Membership, Organisation, User


def name_taken(name: str, *, other_than: Organisation | None = None) -> bool:
    """Whether another organisation has this name (names are unique whatever their capitals)."""
    query = select(Organisation.id).where(func.lower(Organisation.name) == name.strip().lower())
    if other_than is not None:
        query = query.where(Organisation.id != other_than.id)
    return db.session.scalar(query) is not None


def referrals(organisation: Organisation) -> int:
    """How many memberships name this organisation as the one that referred them."""
    return (
        db.session.scalar(
            select(func.count(Membership.id)).where(Membership.referred_by_organisation_id == organisation.id)
        )
        or 0
    )


def rename_organisation(organisation: Organisation, name: str, actor: User | None = None) -> None:
    name = name.strip()
    if name_taken(name, other_than=organisation):
        raise DomainError("organisation_exists", _l("Another organisation already has this name."), field="name")
    if name == organisation.name:
        return
    organisation.name = name
    db.session.flush()
    record_by(actor, AuditAction.EDIT_ORGANISATION, "organisation", organisation.id, reason="renamed")


def remove_organisation(organisation: Organisation, actor: User | None = None) -> None:
    if referrals(organisation):
        raise DomainError(
            "organisation_in_use",
            _l("Memberships name this organisation as the one that referred them, so it stays listed."),
        )
    organisation_id = organisation.id
    db.session.delete(organisation)
    db.session.flush()
    record_by(actor, AuditAction.EDIT_ORGANISATION, "organisation", organisation_id, reason="removed")
