"""The transaction edge of HTTP routes and CLI commands: commit once on success, roll back on any error.

Services change models and flush, never commit (docs/architecture.md). A route or command runs its
service calls inside `with committing():`; what comes after the block (pushes, redirects, output) sees
the committed state. Socket events have their own edge in the event pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .extensions import db


@contextmanager
def committing() -> Iterator[None]:
    """Commit the session when the block ends normally; roll back and re-raise when anything fails,
    including the commit itself (an IntegrityError, a lost connection)."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
