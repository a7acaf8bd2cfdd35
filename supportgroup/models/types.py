"""Column types and defaults shared by the models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """Now, aware, in UTC. Used as a callable default, never evaluated at import time."""
    return datetime.now(UTC)


def public_token(nbytes: int = 12) -> str:
    """A random URL-safe id for anything shown to clients in place of a database id."""
    return secrets.token_urlsafe(nbytes)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC (portable across SQLite and PostgreSQL), returns aware UTC datetimes.

    An aware value in another zone is converted; a naive value is refused, because it is ambiguous.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone first")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
