"""One-time codes: activation links, reset codes, recovery codes and two-factor backup codes.

A code is shown once, when it is issued, and stored only as a keyed hash (HMAC-SHA256 with a key derived from
`SECRET_KEY`, over the kind and the normalised code): a copy of the database alone cannot test guesses offline,
and looking a code up costs one indexed query (a slow password hash per stored code would cost ten per try).
Changing `SECRET_KEY` therefore voids every unspent code (and every session): say so to whoever rotates it.

Codes people type (reset, recovery, backup) are 12 characters of Crockford's base32 (60 bits), shown in three
groups of four; typing is forgiving (case, spaces, dashes, O for 0, I and L for 1). Activation tokens travel in a
link and are 43 URL-safe characters (256 bits).

Spending is one `UPDATE ... WHERE used_at IS NULL`: two requests racing with the same code spend it once.
Issuing locks the account's row first (`SELECT ... FOR UPDATE` on PostgreSQL; SQLite serialises writers anyway), so
two issues racing for one account leave one valid set: the second waits, then voids the first's codes.
Services flush, never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import AccountCode, CodeKind, User
from ..models.types import utcnow

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U
CODE_LENGTH = 12
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})

LIFETIMES: dict[CodeKind, timedelta | None] = {
    CodeKind.ACTIVATION: timedelta(hours=72),
    CodeKind.RESET: timedelta(hours=24),
    CodeKind.RECOVERY: None,
    CodeKind.BACKUP: None,
}
SET_SIZES: dict[CodeKind, int] = {CodeKind.ACTIVATION: 1, CodeKind.RESET: 1, CodeKind.RECOVERY: 10, CodeKind.BACKUP: 10}


def _key() -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return hashlib.sha256(b"supportgroup one-time codes\0" + secret).digest()


def normalise(code: str) -> str:
    """What a person typed, as stored: upper case, no spaces or dashes, O read as 0 and I, L as 1."""
    return "".join(ch for ch in (code or "").upper() if ch not in " -\t").translate(_TYPO)


def code_hash(kind: CodeKind, code: str) -> str:
    text = code if kind == CodeKind.ACTIVATION else normalise(code)
    return hmac.new(_key(), f"{kind.value}:{text}".encode(), hashlib.sha256).hexdigest()


def _new_code(kind: CodeKind) -> str:
    if kind == CodeKind.ACTIVATION:
        return secrets.token_urlsafe(32)
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, CODE_LENGTH, 4))


def issue(user: User, kind: CodeKind, *, now: datetime | None = None, issued_by: User | None = None) -> list[str]:
    """Replace `user`'s unspent codes of `kind` with a new set (`SET_SIZES`) and return them in clear text:
    the only time anyone sees them. Spent codes stay (their rows say when they were used). `issued_by`: who hands
    them over (None: the person themselves, or the CLI)."""
    now = now or utcnow()
    _lock_account(user)
    discard(user, kind)
    lifetime = LIFETIMES[kind]
    codes = [_new_code(kind) for _ in range(SET_SIZES[kind])]
    for code in codes:
        db.session.add(
            AccountCode(
                user_id=user.id,
                kind=kind,
                code_hash=code_hash(kind, code),
                created_at=now,
                expires_at=now + lifetime if lifetime else None,
                issued_by_user_id=issued_by.id if issued_by is not None else None,
            )
        )
    db.session.flush()
    return codes


def _lock_account(user: User) -> None:
    """Hold `user`'s row until the commit: without it two issues at once each delete only the committed codes
    (neither sees the other's new rows) and both sets stay valid."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())


def discard(user: User, kind: CodeKind) -> None:
    """Void every unspent code of `kind` (a new set replaces them; a used activation link voids a reset code)."""
    db.session.execute(
        delete(AccountCode).where(
            AccountCode.user_id == user.id, AccountCode.kind == kind, AccountCode.used_at.is_(None)
        )
    )


def discard_issued_by(issuer_id: int) -> None:
    """Void every unspent code `issuer_id` handed over (their account is going: a code must not outlive it as if
    the CLI had issued it)."""
    db.session.execute(
        delete(AccountCode)
        .where(AccountCode.issued_by_user_id == issuer_id, AccountCode.used_at.is_(None))
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Found:
    """An unspent, unexpired code that matched what was typed, with who issued it (None: no issuer, or the CLI)."""

    id: int
    kind: CodeKind
    issuer: User | None
    issued_by_user_id: int | None


def find_typed(user_id: int, kinds: Sequence[CodeKind], code: str, *, now: datetime | None = None) -> list[Found]:
    """The codes of `kinds` that `code` matches among `user_id`'s unspent, unexpired ones, in the order of
    `kinds`; spends nothing. The same work whatever is typed and whoever `user_id` is (one keyed hash per kind,
    one SELECT; an id no account has finds nothing): "Forgot password?" must not tell by its timing whether a
    username exists."""
    now = now or utcnow()
    typed = (code or "")[:100]
    issuer = aliased(User)
    rows = db.session.execute(
        select(AccountCode.id, AccountCode.kind, AccountCode.issued_by_user_id, issuer)
        .outerjoin(issuer, issuer.id == AccountCode.issued_by_user_id)
        .where(
            AccountCode.user_id == user_id,
            AccountCode.code_hash.in_([code_hash(kind, typed) for kind in kinds]),
            AccountCode.kind.in_(list(kinds)),
            AccountCode.used_at.is_(None),
            (AccountCode.expires_at.is_(None)) | (AccountCode.expires_at > now),
        )
    ).all()
    found = [Found(row.id, row.kind, row[3], row.issued_by_user_id) for row in rows]
    return sorted(found, key=lambda one: list(kinds).index(one.kind))


def spend_found(found: Found, *, now: datetime | None = None) -> bool:
    """Spend a code `find_typed` returned: True once (a request racing this one with the same code loses)."""
    return _spend_id(found.id, now or utcnow())


def _spend_id(code_id: int, now: datetime) -> bool:
    spent = db.session.execute(
        update(AccountCode)
        .where(AccountCode.id == code_id, AccountCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return spent.rowcount == 1  # type: ignore[attr-defined]


def _spend_row(kind: CodeKind, code: str, now: datetime, user_id: int | None) -> int | None:
    """Spend the unspent, unexpired code of `kind` (of `user_id` if given); its owner's id, or None."""
    if not code or len(code) > 100:
        return None
    conditions = [
        AccountCode.code_hash == code_hash(kind, code),
        AccountCode.kind == kind,
        AccountCode.used_at.is_(None),
        (AccountCode.expires_at.is_(None)) | (AccountCode.expires_at > now),
    ]
    if user_id is not None:
        conditions.append(AccountCode.user_id == user_id)
    row = db.session.execute(select(AccountCode.id, AccountCode.user_id).where(*conditions)).first()
    if row is None:
        return None
    return row.user_id if _spend_id(row.id, now) else None


def spend(user: User, kind: CodeKind, code: str, *, now: datetime | None = None) -> bool:
    """Spend one of `user`'s codes of `kind`: True once for a valid code, False for a wrong, used or expired one."""
    return _spend_row(kind, code, now or utcnow(), user.id) is not None


def spend_token(kind: CodeKind, token: str, *, now: datetime | None = None) -> User | None:
    """Spend a code found by its value alone (an activation link names no account): its owner, or None."""
    user_id = _spend_row(kind, token, now or utcnow(), None)
    return db.session.get(User, user_id) if user_id is not None else None


def peek_token(kind: CodeKind, token: str, *, now: datetime | None = None) -> User | None:
    """The owner of a valid, unspent code found by its value alone, without spending it (a link's GET)."""
    if not token or len(token) > 100:
        return None
    now = now or utcnow()
    user_id = db.session.scalar(
        select(AccountCode.user_id).where(
            AccountCode.code_hash == code_hash(kind, token),
            AccountCode.kind == kind,
            AccountCode.used_at.is_(None),
            (AccountCode.expires_at.is_(None)) | (AccountCode.expires_at > now),
        )
    )
    return db.session.get(User, user_id) if user_id is not None else None


def remaining(user: User, kind: CodeKind, *, now: datetime | None = None) -> int:
    """How many of `user`'s codes of `kind` are still unspent and unexpired."""
    now = now or utcnow()
    return (
        db.session.scalar(
            select(func.count(AccountCode.id)).where(
                AccountCode.user_id == user.id,
                AccountCode.kind == kind,
                AccountCode.used_at.is_(None),
                (AccountCode.expires_at.is_(None)) | (AccountCode.expires_at > now),
            )
        )
        or 0
    )
