"""Migrate the database at boot, once, even when several app processes start at the same moment.

`deploy/gunicorn.conf.py` runs `python -m supportgroup.health.boot` from gunicorn's `on_starting` hook,
before the process binds its port: nginx sends it nothing until the schema is current. On PostgreSQL the
upgrade runs under a session-level advisory lock, so processes starting together take turns: the first
migrates, the others wait, then find nothing left to do. On SQLite (one process) it just upgrades.

It runs in a subprocess of its own because gunicorn's master must not import the app: the gevent
worker monkey-patches after the fork, and modules imported earlier (sockets, threading, psycopg, redis)
would stay unpatched in every worker.
"""

from __future__ import annotations

import sys

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import text

from .. import create_app
from ..extensions import db

# The advisory-lock key every supportgroup process agrees on ("SGMIGRAT" in ASCII, a signed bigint).
MIGRATION_LOCK = 0x53474D4947524154


def upgrade_locked(app: Flask) -> None:
    """`flask db upgrade`, serialised between processes on PostgreSQL."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            upgrade()
            return
        # AUTOCOMMIT: the lock's connection holds no transaction open (it waits and holds, nothing more);
        # the upgrade runs on a connection of its own. Closing the connection releases the lock too.
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                upgrade()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        db.engine.dispose()


def main() -> int:
    upgrade_locked(create_app())
    return 0


if __name__ == "__main__":
    sys.exit(main())
