"""The admin's accounts list: search, filters and keyset paging in a fixed number of queries.

Two statements of its own per page whatever the platform's size or the page's (a request adds the account's
load and the platform settings): the count of matching accounts and the page's rows (one more than shown, to
know whether a next page exists). Pages follow the username order (unique, indexed): "next" asks for usernames
after the last one shown, "previous" for those before the first, so a page deep in 10,000 accounts costs what
the first one costs (no OFFSET to walk). The rows carry only what the list shows: never an alias, a group or a
membership next to a username, never a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, func, select

from ..auth.passwords import UNUSABLE_HASH
from ..extensions import db
from ..models import Role, User
from ..models.types import utcnow

PAGE_SIZE = 50
STATUS_FILTERS = {
    "enabled": _l("Enabled"),
    "disabled": _l("Disabled"),
    "awaiting": _l("Awaiting activation"),
}
ACTIVE_FILTERS = {
    "recent": _l("In the last 30 days"),
    "30": _l("More than 30 days ago"),
    "90": _l("More than 90 days ago"),
    "never": _l("Never"),
}


@dataclass(frozen=True)
class AccountFilters:
    q: str = ""
    role: str = ""
    status: str = ""
    active: str = ""

    def as_args(self) -> dict[str, str]:
        """The filters as query arguments for the paging links (empty ones left out)."""
        return {key: value for key, value in vars(self).items() if value}


@dataclass(frozen=True)
class AccountRow:
    id: int
    username: str
    role: Role
    is_enabled: bool
    awaiting_activation: bool
    created_at: datetime
    last_active_at: datetime | None
    two_factor: bool


@dataclass(frozen=True)
class AccountPage:
    rows: list[AccountRow]
    total: int
    after: str | None  # the cursor of the next page (its usernames come after this one), or None: the last page
    before: str | None  # the cursor of the previous page, or None: the first page


def _conditions(filters: AccountFilters, now: datetime) -> list[ColumnElement[bool]]:
    awaiting = User.password_hash == UNUSABLE_HASH
    conditions: list[ColumnElement[bool]] = []
    if filters.q:
        conditions.append(User.username.contains(filters.q.strip().lower(), autoescape=True))
    if filters.role:
        conditions.append(User.role == Role(filters.role))
    if filters.status == "enabled":
        conditions.append(and_(User.is_enabled.is_(True), ~awaiting))
    elif filters.status == "disabled":
        conditions.append(User.is_enabled.is_(False))
    elif filters.status == "awaiting":
        conditions.append(and_(User.is_enabled.is_(True), awaiting))
    if filters.active == "recent":
        conditions.append(User.last_active_at >= now - timedelta(days=30))
    elif filters.active in ("30", "90"):
        conditions.append(User.last_active_at < now - timedelta(days=int(filters.active)))
    elif filters.active == "never":
        conditions.append(User.last_active_at.is_(None))
    return conditions


def list_accounts(
    filters: AccountFilters,
    *,
    after: str | None = None,
    before: str | None = None,
    page_size: int = PAGE_SIZE,
    now: datetime | None = None,
) -> AccountPage:
    """One page of the accounts matching `filters`, in username order, after or before a cursor (a username)."""
    conditions = _conditions(filters, now or utcnow())
    total = db.session.scalar(select(func.count(User.id)).where(*conditions)) or 0
    query = select(
        User.id,
        User.username,
        User.role,
        User.is_enabled,
        (User.password_hash == UNUSABLE_HASH).label("awaiting"),
        User.created_at,
        User.last_active_at,
        User.totp_enabled_at.is_not(None).label("two_factor"),
    ).where(*conditions)
    backwards = before is not None and after is None
    if backwards:
        query = query.where(User.username < before).order_by(User.username.desc())
    else:
        if after is not None:
            query = query.where(User.username > after)
        query = query.order_by(User.username)
    found = list(db.session.execute(query.limit(page_size + 1)).all())
    more = len(found) > page_size
    found = found[:page_size]
    if backwards:
        found.reverse()
    rows = [
        AccountRow(
            r.id, r.username, r.role, r.is_enabled, bool(r.awaiting), r.created_at, r.last_active_at, bool(r.two_factor)
        )
        for r in found
    ]
    if not rows:
        return AccountPage(rows, total, None, None)
    if backwards:
        return AccountPage(rows, total, rows[-1].username, rows[0].username if more else None)
    return AccountPage(
        rows, total, rows[-1].username if more else None, rows[0].username if after is not None else None
    )
