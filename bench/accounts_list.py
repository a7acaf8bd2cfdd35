"""The admin's accounts list (`/admin/accounts`) with 10,000 accounts: queries and time per page.

In-process (Flask test client, an admin logged in with a cookie from bench/sessions.py), on a temporary SQLite
database, and on PostgreSQL too when one is given (`--database-url`, or BENCH_DATABASE_URL: its sibling database
`<name>_accounts`, dropped and made again; the name must start with sg_bench, as bench/run.py's). The accounts
are inserted in one statement (a mix of roles, some disabled, some awaiting activation, last active over the past
200 days or never); each page is requested `--requests` times after 3 of warm-up:

- first: the first page, no filter;
- filtered: participants, enabled, last active more than 30 days ago;
- search: usernames containing "123";
- deep: the page after the 9,000th username (keyset paging: no OFFSET to walk).

The number of statements per request must be the same on every page and every size (`fixed_query_count`).

    python -m bench.accounts_list [--accounts 10000] [--requests 30] [--database-url URL] [--out result.json]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import write_result  # noqa: E402
from bench.sessions import USER_AGENT, session_cookie  # noqa: E402

PAGES = {
    "first": "/admin/accounts",
    "filtered": "/admin/accounts?role=participant&status=enabled&active=30",
    "search": "/admin/accounts?q=123",
    "deep": "/admin/accounts?after=user09000",
}


def make_app(database_url: str):
    from config import DevelopmentConfig
    from supportgroup import create_app

    return create_app(
        DevelopmentConfig,
        {
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": None,
            "SOCKETIO_MESSAGE_QUEUE": None,
            "SOCKETIO_ASYNC_MODE": "threading",
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 64,
        },
    )


def populate(app, accounts: int, seed: int = 15) -> str:
    """Migrate, insert `accounts` accounts and an admin; the admin's session cookie."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from supportgroup.auth.passwords import UNUSABLE_HASH, hash_password
    from supportgroup.extensions import db
    from supportgroup.models import Role, User
    from supportgroup.models.types import utcnow

    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        now = utcnow()
        unknown = hash_password(os.urandom(16).hex())  # nobody knows it: nobody logs in with these accounts
        roles = [Role.PARTICIPANT] * 940 + [Role.PEER_EXPERT] * 40 + [Role.COORDINATOR] * 15 + [Role.ADMIN] * 5
        rows = []
        for n in range(accounts):
            role = rng.choice(roles)
            awaiting = role != Role.PARTICIPANT and rng.random() < 0.1
            rows.append(
                {
                    "username": f"user{n:05d}",
                    "password_hash": UNUSABLE_HASH if awaiting else unknown,
                    "role": role,
                    "is_enabled": rng.random() > 0.03,
                    "session_token": os.urandom(16).hex(),
                    "timezone": "Europe/Amsterdam",
                    "created_at": now - timedelta(days=rng.randrange(400)),
                    "last_active_at": None
                    if awaiting or rng.random() < 0.1
                    else now - timedelta(days=rng.randrange(200)),
                }
            )
        for start in range(0, len(rows), 2000):
            db.session.execute(insert(User), rows[start : start + 2000])
        admin = User(username="bench-admin", password_hash=unknown, role=Role.ADMIN)
        db.session.add(admin)
        db.session.commit()
        admin = db.session.scalar(select(User).where(User.username == "bench-admin"))
        cookie = session_cookie(app, admin)
        db.session.remove()
    return cookie


def measure(app, cookie: str, path: str, requests: int) -> dict:
    from sqlalchemy import event

    from supportgroup.extensions import db

    client = app.test_client()
    name, _, value = cookie.partition("=")
    client.set_cookie(name, value, domain="localhost")
    headers = {"User-Agent": USER_AGENT}
    current = [0]

    def count(*_args) -> None:
        current[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):  # warm-up: templates compiled, connections open, the admin's day stamped
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}: is the admin logged in?")
        times, queries, rows = [], [], 0
        for _ in range(requests):
            current[0] = 0
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            queries.append(current[0])
            rows = response.get_data(as_text=True).count('<th scope="row">')
    finally:
        event.remove(engine, "before_cursor_execute", count)
    ordered = sorted(times)
    return {
        "path": path,
        "rows_shown": rows,
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
        "queries": sorted(set(queries)),
    }


def run_on(database_url: str, accounts: int, requests: int, label: str) -> dict:
    app = make_app(database_url)
    cookie = populate(app, accounts)
    result: dict = {"accounts": accounts + 1, "requests": requests}
    for name, path in PAGES.items():
        result[name] = measure(app, cookie, path, requests)
        page = result[name]
        print(
            f"accounts list, {label}, {accounts + 1} accounts, {name}: median {page['median_ms']} ms, "
            f"p95 {page['p95_ms']} ms, queries {page['queries']}, rows {page['rows_shown']}",
            file=sys.stderr,
        )
    with app.app_context():
        from supportgroup.extensions import db

        db.engine.dispose()
    return result


def postgres_url(given: str | None) -> str | None:
    """The PostgreSQL database to measure on: `--database-url` as given, else BENCH_DATABASE_URL's sibling
    `<name>_accounts`, dropped and made again (None: SQLite only)."""
    from bench import harness as h

    if given:
        return given
    base = os.environ.get("BENCH_DATABASE_URL")
    if not base:
        return None
    url = h.sibling_database(base, "_accounts")
    h.recreate_database(url)
    return url


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--database-url", help="a migrated-or-empty PostgreSQL database to measure on as well")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    result: dict = {}
    with tempfile.TemporaryDirectory(prefix="sgbench-accounts-") as tmp:
        result["sqlite"] = run_on(f"sqlite:///{tmp}/accounts.sqlite", args.accounts, args.requests, "SQLite")
    url = postgres_url(args.database_url)
    if url:
        result["postgresql"] = run_on(url, args.accounts, args.requests, "PostgreSQL")
    counts = {tuple(page["queries"]) for figures in result.values() for name, page in figures.items() if name in PAGES}
    result["fixed_query_count"] = len(counts) == 1 and len(next(iter(counts))) == 1
    write_result(result, args.out)
    return result


if __name__ == "__main__":
    main()
