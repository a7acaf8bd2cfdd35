"""A quick run of the fault tool (bench/faults.py): SIGTERM of one of two processes under 44 chatting clients.

The tool brings its own PostgreSQL cluster and Redis (never the shared ones); the clients retry, rejoin and
catch up as js/chat/ does. Nothing acknowledged may be lost or stored twice, the drained process exits
within `EXIT_WITHIN`, and chat is whole again within `RECOVERY_WITHIN` (clients wait `reconnect_in_ms` plus
jitter before they come back). About a minute.
"""

from __future__ import annotations

import shutil

import pytest

EXIT_WITHIN = 4.0
RECOVERY_WITHIN = 15.0


@pytest.mark.live
@pytest.mark.scaleout_only
def test_sigterm_under_load_loses_nothing(tmp_path, capsys):
    if not shutil.which("redis-server"):
        pytest.skip("needs redis-server")
    from bench.faults import main

    results = main(["--only", "sigterm", "--out", str(tmp_path / "faults.json")])
    figures = results["sigterm"]
    with capsys.disabled():
        print(f"\nfault tool, SIGTERM: {figures}")
    assert figures["acked"] > 0
    assert figures["lost"] == 0 and figures["dup_stored"] == 0, figures
    assert figures["exit_seconds"] < EXIT_WITHIN, figures
    assert figures["recovery_seconds"] is not None and figures["recovery_seconds"] < RECOVERY_WITHIN, figures
    assert figures["not_ready"] == 0, figures
