"""Helpers for the admin console's account tests: forms with prefixes, bulk accounts, the audit rows."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import insert, select

from supportgroup.extensions import db
from supportgroup.models import ModerationAction, Role, User
from supportgroup.models.types import utcnow

TOKEN_RE = re.compile(r'name="[\w-]*csrf_token"[^>]*value="([^"]+)"')
ACTIVATION_RE = re.compile(r'value="(https?://[^"]*/activate/([A-Za-z0-9_-]+))"')
RESET_CODE_RE = re.compile(r'id="reset-code">([0-9A-Z-]+)<')


def token_from(http, page: str) -> str:
    response = http.get(page)
    match = TOKEN_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {page}: {response.status_code}"
    return match.group(1)


def post(http, page: str, action: str, data: dict, prefix: str = ""):
    """POST a form of `page` to `action`; the fields (and the CSRF token) named with the form's `prefix`."""
    name = (lambda key: f"{prefix}-{key}") if prefix else (lambda key: key)
    body = {name("csrf_token"): token_from(http, page), **{name(k): v for k, v in data.items()}}
    return http.post(action, data=body)


def account_action(http, account_id: int, action: str, prefix: str, **data):
    page = f"/admin/accounts/{account_id}"
    return post(http, page, f"{page}/{action}", data, prefix)


def bulk_accounts(count: int, *, start: int = 0, role: Role = Role.PARTICIPANT, **values) -> None:
    """`count` accounts in one INSERT (no password hashing: nobody logs in with them)."""
    now = utcnow()
    rows = [
        {
            "username": f"bulk{start + n:05d}",
            "password_hash": "not-a-hash",
            "role": role,
            "is_enabled": True,
            "session_token": f"t{start + n:031d}",
            "timezone": "Europe/Amsterdam",
            "created_at": now,
            **values,
        }
        for n in range(count)
    ]
    db.session.execute(insert(User), rows)
    db.session.commit()


def audit_rows(action, target_id: int | None = None) -> list[ModerationAction]:
    db.session.expire_all()
    query = select(ModerationAction).where(ModerationAction.action == action)
    if target_id is not None:
        query = query.where(ModerationAction.target_id == str(target_id))
    return list(db.session.scalars(query.order_by(ModerationAction.id)))


def reload(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def at(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)
