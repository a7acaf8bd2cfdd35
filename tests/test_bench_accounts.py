"""bench/accounts_list.py (`make bench`'s accounts scenario) works and finds the statement count fixed: a small run
on its own temporary SQLite database, in a process of its own (it builds its own app)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.live import ROOT


def test_the_accounts_list_bench_runs_and_counts_fixed_queries(tmp_path):
    out = tmp_path / "accounts.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.accounts_list", "--accounts", "300", "--requests", "2", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "SUPPORTGROUP_ENV": "development"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["fixed_query_count"] is True and "postgresql" not in result
    sqlite = result["sqlite"]
    assert sqlite["accounts"] == 301
    assert [sqlite[page]["rows_shown"] for page in ("first", "filtered", "deep")] == [50, 50, 0]
    assert all(sqlite[page]["queries"] == [4] for page in ("first", "filtered", "search", "deep"))
