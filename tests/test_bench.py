"""The benchmark's own machinery (`make bench`, bench/): not timed, only that it works and loses nothing.

- `flask bench-setup` builds the groups, meetings and accounts it says, in development and testing only;
  bench/setup.py builds the same and its cookies are logged-in sessions that the HTTP side and the socket
  `connect` accept (both backends).
- The real harness path (bench/run.py -> serve.py + bench/loadgen.js), tiny and short, against the app on
  the scale-out backend: every message reaches every member of its room, and the results have the fields
  the report reads. It needs Node.js: without it the test skips, and in CI (`CI` set) it fails.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from sqlalchemy import func, select

from bench.sessions import USER_AGENT
from supportgroup.benchdata import CALENDAR_GROUP, CHAT_GROUP
from supportgroup.models import Group, Meeting, MeetingState, Membership, MembershipRole, MembershipStatus, Role, User
from tests.chat_helpers import join

from .conftest import socket_test_client


def _client_with_cookie(app, cookie: str):
    http = app.test_client()
    name, _, value = cookie.partition("=")
    http.set_cookie(name, value, domain="localhost")
    return http


def test_bench_setup_creates_what_it_says(app, db, runner, tmp_path):
    out = tmp_path / "clients.json"
    result = runner.invoke(
        args=["bench-setup", "--groups", "2", "--participants", "5", "--calendar-groups", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "2 chat groups with 5 participants" in result.output

    for index, size in ((1, 3), (2, 2)):
        group = db.session.scalar(select(Group).where(Group.name == CHAT_GROUP.format(index)))
        members = db.session.scalars(select(Membership).where(Membership.group_id == group.id)).all()
        moderators = [m for m in members if m.role == MembershipRole.MODERATOR]
        participants = [m for m in members if m.role == MembershipRole.PARTICIPANT]
        assert len(moderators) == 1 and moderators[0].user.profile.trained
        assert len(participants) == size
        assert all(
            m.status == MembershipStatus.ACTIVE and m.consented_rules_version == group.rules_version
            for m in members
            if m.role == MembershipRole.PARTICIPANT
        )
        meetings = db.session.scalars(select(Meeting).where(Meeting.group_id == group.id)).all()
        assert [m.state for m in meetings] == [MeetingState.OPEN]
    for index in (1, 2):
        group = db.session.scalar(select(Group).where(Group.name == CALENDAR_GROUP.format(index)))
        count = db.session.scalar(select(func.count()).select_from(Meeting).where(Meeting.group_id == group.id))
        assert count == 52  # a year of weekly meetings
    assert db.session.scalar(select(User).where(User.role == Role.COORDINATOR)).username == "benchcoord"

    clients = json.loads(out.read_text())
    assert sorted(c["role"] for c in clients) == ["coordinator"] + ["moderator"] * 2 + ["participant"] * 5
    assert all("cookie" not in c for c in clients)  # the app mints no sessions: bench/setup.py does
    assert oct(out.stat().st_mode & 0o777) == "0o600"

    # Running it again completes what is there and adds nothing twice.
    again = runner.invoke(
        args=["bench-setup", "--groups", "2", "--participants", "5", "--calendar-groups", "2", "--out", str(out)]
    )
    assert again.exit_code == 0, again.output
    assert "0 accounts created now" in again.output
    assert db.session.scalar(select(func.count()).select_from(Meeting)) == 2 + 2 * 52


def test_bench_setup_refuses_to_run_outside_development_and_testing(app, db, runner, tmp_path):
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(
        args=[
            "bench-setup",
            "--groups",
            "1",
            "--participants",
            "2",
            "--calendar-groups",
            "0",
            "--out",
            str(tmp_path / "clients.json"),
        ]
    )
    assert result.exit_code != 0 and "development" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert not (tmp_path / "clients.json").exists()


def test_bench_cookies_are_logged_in_sessions(app, db, tmp_path):
    from bench.setup import build, write_clients

    summary, clients = build(app, chat_groups=1, participants=2, calendar_groups=1)
    assert "1 chat groups with 2 participants" in summary
    assert sorted(c["role"] for c in clients) == ["coordinator", "moderator", "participant", "participant"]
    write_clients(clients, str(tmp_path / "clients.json"))
    assert oct((tmp_path / "clients.json").stat().st_mode & 0o777) == "0o600"  # live sessions: this user only

    # The cookies are logged-in sessions, for the website and for the socket.
    coordinator = next(c for c in clients if c["role"] == "coordinator")
    page = _client_with_cookie(app, coordinator["cookie"]).get("/schedule/calendar", headers={"User-Agent": USER_AGENT})
    assert page.status_code == 200
    expert = next(c for c in clients if c["role"] == "moderator")
    participant = next(c for c in clients if c["role"] == "participant")
    sockets = []
    for client in (expert, participant):
        sock = socket_test_client(app, _client_with_cookie(app, client["cookie"]))
        sockets.append(sock)
        assert sock.is_connected()
        join(sock, client["meeting_id"])
    ack = sockets[1].emit(
        "send", {"meeting_id": participant["meeting_id"], "client_id": "benchsetup0001", "text": "hello"}, callback=True
    )
    assert ack["ok"] and ack["id"] == 1
    for sock in sockets:
        sock.disconnect()


def test_bench_setup_refuses_a_database_with_other_accounts(runner, factory, tmp_path):
    factory.user("alice")
    result = runner.invoke(
        args=[
            "bench-setup",
            "--groups",
            "1",
            "--participants",
            "2",
            "--calendar-groups",
            "0",
            "--out",
            str(tmp_path / "clients.json"),
        ]
    )
    assert result.exit_code != 0
    assert "not bench accounts" in result.output


def _need_node() -> None:
    from bench import harness

    reason = None
    if harness.node_binary() is None:
        reason = "the benchmark's load generator needs Node.js (node) on the PATH"
    elif not harness.node_modules_ready() and shutil.which("npm") is None:
        reason = "the load generator needs socket.io-client from node_modules (npm ci), and npm is missing"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the benchmark smoke test: {reason}")
        pytest.skip(reason)
    harness.ensure_node_modules()


TINY = {
    "groups": 2,
    "participants": 6,
    "calendar_groups": 0,
    "realistic": {"kind": "realistic", "interval_s": 1, "duration_s": 3, "drain_s": 10},
    "storm": {"kind": "storm", "moderator_rate_per_s": 0.5, "pre_s": 1, "timeout_s": 20, "post_s": 1, "drain_s": 5},
    "sweep": {
        "kind": "sweep",
        "factor": 1.5,
        "step_s": 2,
        "warmup_s": 0.5,
        "drain_s": 10,
        "pause_s": 0.2,
        "p99_limit_ms": 1000,
        "warmup_round_s": 1,
    },
    "sweep_start": {"app": 4, "baseline": 4},
    "sweep_max": {"app": 7, "baseline": 7},
}


@pytest.mark.live
@pytest.mark.scaleout_only
def test_harness_against_the_app_loses_nothing(app, schema, redis_prefix, tmp_path):
    _need_node()
    from bench import harness, report
    from bench.run import Bench

    bench = Bench(TINY, schema.database_url, schema.redis_url, tmp_path, quiet_wait=0, redis_prefix=redis_prefix)
    out = tmp_path / "clients.json"
    harness.bench_setup(bench.env, out, TINY["groups"], TINY["participants"], 0)
    bench.clients = json.loads(out.read_text())
    bench.load("app", {"realistic", "storm", "sweep"})

    realistic = bench.results["realistic"]["app"]
    assert realistic["connect"]["participants"]["clients"] == 6 and realistic["connect"]["participants"]["failed"] == 0
    assert realistic["sent"] == 18 and realistic["acked"] == 18 and realistic["ack_errors"] == {}
    assert realistic["expected_deliveries"] == 18 * 4  # 3 participants and a peer expert per room
    assert realistic["received"] == realistic["expected_deliveries"]
    assert realistic["lost_deliveries"] == 0 and realistic["unacked"] == 0
    for key in ("p50", "p99", "max"):
        assert realistic["delivery_ms"][key] >= 0 and realistic["ack_ms"][key] >= 0
    assert realistic["first_message"]["lost_deliveries"] == 0
    assert {"server_cores", "generator_cores", "machine_busy_cores", "postgres_cores"} <= set(realistic["cpu"])
    assert realistic["server_log"]["tracebacks"] == 0, realistic["server_log"]

    storm = bench.results["storm"]["app"]
    assert storm["participants"] == 6 and storm["reconnected"] == 6 and storm["rejoined"] == 6
    assert {"seconds_until_all_back", "missing_after_rejoin", "complete_s", "rejoin_s"} <= set(storm)

    sweep = bench.results["sweep"]["app"]
    assert sweep["steps"] and all(step["cpu"] for step in sweep["steps"])
    assert {"best_rate_per_s", "first_failed_rate_per_s"} <= set(sweep)

    # The report renders what the harness measured.
    bench.results.update(
        {
            "machine": harness.machine_info(schema.database_url, schema.redis_url, bench.pinning),
            "mode": "test",
            "settings": TINY,
        }
    )
    text = report.figures_markdown(bench.results)
    assert "### Realistic load" in text and "### Reconnect storm" in text
