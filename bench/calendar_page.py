"""The coordinator's calendar page (`/schedule/calendar`): render time and number of queries.

In-process, on a database of its own (DATABASE_URL, made and migrated by bench/run.py): a coordinator and
groups with a year of weekly meetings each (52, planned as a series, as bench/setup.py does), first
a few groups, then many, to show that the number of queries stays the same however many meetings there
are. The coordinator is logged in with a session cookie from bench/sessions.py; each request
is timed in full (routing, session, queries, template) with the Flask test client.

    python -m bench.calendar_page [--small 5] [--large 50] [--requests 30] [--out result.json]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import write_result  # noqa: E402
from bench.sessions import USER_AGENT, cheap_password_hashing, session_cookie  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_page(app, cookie: str, requests: int, path: str = "/schedule/calendar") -> dict:
    from sqlalchemy import event

    from supportgroup.extensions import db

    client = app.test_client()
    name, _, value = cookie.partition("=")
    client.set_cookie(name, value, domain="localhost")
    headers = {"User-Agent": USER_AGENT}
    queries: list[int] = []
    current = [0]

    def count(*_args):
        current[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        for _ in range(3):  # warm-up: templates compiled, connections open
            response = client.get(path, headers=headers)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}: is the coordinator logged in?")
        times = []
        size = 0
        for _ in range(requests):
            current[0] = 0
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            times.append((time.perf_counter() - started) * 1000)
            queries.append(current[0])
            size = len(response.data)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return {
        "requests": requests,
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
        "queries": sorted(set(queries)),
        "html_bytes": size,
    }


def build(app, groups: int) -> tuple[str, dict]:
    """Complete the calendar data up to `groups` groups; return the coordinator's cookie and what is there."""
    from sqlalchemy import func, select

    from supportgroup import benchdata
    from supportgroup.extensions import db
    from supportgroup.models import Group, Meeting

    cheap_password_hashing(app)
    with app.app_context():
        summary = benchdata.SetupSummary()
        coordinator = benchdata.setup_calendar(groups, benchdata.random_password(), summary)
        db.session.commit()
        cookie = session_cookie(app, coordinator)
        counts = {
            "groups": db.session.scalar(select(func.count()).select_from(Group)),
            "meetings": db.session.scalar(select(func.count()).select_from(Meeting)),
        }
        db.session.remove()
    return cookie, counts


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", type=int, default=5)
    parser.add_argument("--large", type=int, default=50)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    from supportgroup import create_app

    app = create_app()
    result = {}
    for label, groups in (("small", args.small), ("large", args.large)):
        cookie, counts = build(app, groups)
        # Meetings shown: the page shows four weeks from this week.
        page = measure_page(app, cookie, args.requests)
        result[label] = {**counts, **page}
        print(
            f"calendar with {counts['groups']} groups / {counts['meetings']} meetings: "
            f"median {page['median_ms']} ms, p95 {page['p95_ms']} ms, queries {page['queries']}",
            file=sys.stderr,
        )
    result["fixed_query_count"] = (
        result["small"]["queries"] == result["large"]["queries"] and len(result["large"]["queries"]) == 1
    )
    write_result(result, args.out)
    return result


if __name__ == "__main__":
    main()
