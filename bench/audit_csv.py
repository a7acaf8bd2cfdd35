"""The audit log's CSV download (`/admin/audit.csv`) with many rows: time, size and the memory it takes.

In-process, on a SQLite file of its own in a temporary directory (migrated here): an admin, a group and
`--rows` audit rows (inserted in bulk), then the whole log downloaded by the Flask test client, read piece by
piece as a server would send it: once timed, once with Python's allocations traced (tracemalloc). The peak
stays that of one chunk (admin/audit_log.py CHUNK_ROWS), not of the log: it must not grow with the rows.

    python -m bench.audit_csv [--rows 100000] [--small 10000] [--out result.json]
"""

from __future__ import annotations

import argparse
import contextvars
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import write_result  # noqa: E402
from bench.sessions import USER_AGENT, cheap_password_hashing, session_cookie  # noqa: E402


def make_app(path: Path):
    from flask_migrate import upgrade

    from config import TestingConfig
    from supportgroup import create_app

    app = create_app(TestingConfig, {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "TESTING": False})
    with app.app_context():
        upgrade()
    return app


def fill(app, rows: int) -> str:
    """An admin and `rows` audit rows (reasons typed by people, some starting like a formula); the admin's cookie."""
    from sqlalchemy import insert

    from supportgroup.auth.services import create_user
    from supportgroup.extensions import db
    from supportgroup.groups import lifecycle
    from supportgroup.models import GroupKind, ModerationAction, Role

    cheap_password_hashing(app)
    with app.app_context():
        admin = create_user("bench-admin", "x" * 20, Role.ADMIN)
        group = lifecycle.create_group("Bench group", GroupKind.SURVIVORS, "en", 12)
        db.session.commit()
        start = datetime(2025, 1, 1, tzinfo=UTC)
        batch = []
        for n in range(rows):
            batch.append(
                {
                    "actor_user_id": admin.id,
                    "actor_role": "admin",
                    "action": "lookup_alias" if n % 3 else "edit_group",
                    "target_type": "membership",
                    "target_id": str(n),
                    "group_id": group.id,
                    "reason": f"=reason {n}, typed by someone" if n % 7 == 0 else f"reason {n}",
                    "created_at": start + timedelta(seconds=n),
                }
            )
            if len(batch) == 5000:
                db.session.execute(insert(ModerationAction), batch)
                batch.clear()
        if batch:
            db.session.execute(insert(ModerationAction), batch)
        db.session.commit()
        cookie = session_cookie(app, admin)
        db.session.remove()
    return cookie


def download(app, cookie: str, traced: bool) -> dict:
    """The whole CSV read piece by piece, inside one context (as a server's greenlet reads a streamed body).
    `traced`: with Python's allocations traced (the peak), which makes it several times slower."""
    http = app.test_client()
    name, _, value = cookie.partition("=")
    http.set_cookie(name, value, domain="localhost")

    def read() -> dict:
        if traced:
            tracemalloc.start()
        started = time.perf_counter()
        response = http.get("/admin/audit.csv", headers={"User-Agent": USER_AGENT}, buffered=False)
        if response.status_code != 200:
            raise SystemExit(f"/admin/audit.csv answered {response.status_code}")
        first_piece_ms = None
        size = lines = pieces = 0
        for piece in response.response:
            if first_piece_ms is None:
                first_piece_ms = (time.perf_counter() - started) * 1000
            pieces += 1
            size += len(piece)
            lines += piece.count(b"\r\n")
        response.close()
        total_s = time.perf_counter() - started
        if traced:
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            return {"peak_traced_mib": round(peak / 2**20, 2)}
        return {
            "csv_lines": lines,
            "csv_bytes": size,
            "pieces": pieces,
            "first_piece_ms": round(first_piece_ms or 0, 1),
            "total_s": round(total_s, 2),
            "rows_per_s": round((lines - 1) / total_s),
        }

    return contextvars.Context().run(read)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    result = {}
    for label, rows in (("small", args.small), ("large", args.rows)):
        with tempfile.TemporaryDirectory() as tmp:
            app = make_app(Path(tmp) / "audit.sqlite")
            cookie = fill(app, rows)
            figures = {**download(app, cookie, traced=False), **download(app, cookie, traced=True)}
            result[label] = {"rows": rows, **figures}
            print(
                f"{rows} rows: {figures['csv_bytes'] / 2**20:.1f} MiB CSV in {figures['total_s']} s "
                f"({figures['rows_per_s']} rows/s), first piece after {figures['first_piece_ms']} ms, "
                f"peak traced memory {figures['peak_traced_mib']} MiB",
                file=sys.stderr,
            )
    write_result(result, args.out)
    return result


if __name__ == "__main__":
    main()
