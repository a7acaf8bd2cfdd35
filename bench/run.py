"""`make bench`: the app against a bare Flask-SocketIO baseline, on this machine; figures into
bench/results/latest.json and docs/benchmarks.md.

    python -m bench.run                        # the full run (about 12-15 minutes on 2 cores)
    BENCH_QUICK=1 python -m bench.run          # or --quick: a small smoke run -> bench/results/quick.json
    python -m bench.run --only realistic,sql   # some scenarios -> bench/results/partial.json

Only a full run of every scenario writes bench/results/latest.json and the figures in docs/benchmarks.md.

Environment: BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/sg_bench; dropped and
created again; a second database with the suffix _calendar too), BENCH_REDIS_URL (default
redis://127.0.0.1:6379/14; flushed). Scenarios, as issue #7 lists them:

- realistic: 900 participants in 60 groups (and one peer expert per group, connected and joined), each
  participant sending one message per 10 seconds on a fixed schedule; latency per recipient, ack latency,
  loss, CPU.
- sweep: the same connections; the total rate rises step by step (every participant sends at rate/900 per
  second) until delivery or ack p99 reaches 50 ms or anything is lost; the highest passing rate.
- storm: while the peer experts keep sending, all 900 participants' transports drop at once; time until
  every one has reconnected, rejoined with `after` and holds every message id since the drop.
- idle: 3,000 connected, joined sockets (accounts have several); server memory per connection.
- sql: SQL statements per chat message (in-process, steady state).
- calendar: the coordinator's calendar with 5 and 50 groups of weekly meetings for a year.
- accounts: the admin's accounts list with 10,000 accounts (first page, filtered, search, deep page), on SQLite and
  on a database of its own (the suffix _accounts).

Each server runs pinned to one core and the generator to another (when two are usable); PostgreSQL and
Redis run where the OS puts them.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness as h  # noqa: E402
from bench import report  # noqa: E402

RESULTS = h.BENCH / "results"
SCENARIOS = ("realistic", "storm", "sweep", "idle", "sql", "calendar", "accounts")

FULL = {
    "groups": 60,
    "participants": 900,
    "calendar_groups": 50,
    "realistic": {"kind": "realistic", "interval_s": 10, "duration_s": 60, "drain_s": 20},
    "storm": {"kind": "storm", "moderator_rate_per_s": 0.2, "pre_s": 3, "timeout_s": 120, "post_s": 3, "drain_s": 20},
    "sweep": {
        "kind": "sweep",
        "factor": 1.3,
        "step_s": 8,
        "warmup_s": 2,
        "drain_s": 15,
        "pause_s": 1,
        "p99_limit_ms": 50,
        "warmup_round_s": 10,
    },
    "sweep_start": {"app": 20, "baseline": 50},
    "sweep_max": {"app": 3000, "baseline": 6000},
    "idle": {"kind": "idle", "sockets": 3000, "warm": 20, "settle_s": 5, "concurrency": 50, "hold_s": 10},
    "sql": {"messages": 200, "warmup": 20},
    "calendar": {"small": 5, "large": 50, "requests": 30},
    "accounts": {"accounts": 10_000, "requests": 30},
}
QUICK = {
    **FULL,
    "groups": 6,
    "participants": 90,
    "calendar_groups": 10,
    "realistic": {**FULL["realistic"], "duration_s": 12, "drain_s": 10},
    "storm": {**FULL["storm"], "timeout_s": 30, "drain_s": 10},
    "sweep": {**FULL["sweep"], "step_s": 4, "warmup_s": 1, "drain_s": 8, "warmup_round_s": 5},
    "sweep_start": {"app": 10, "baseline": 30},
    "sweep_max": {"app": 400, "baseline": 800},
    "idle": {**FULL["idle"], "sockets": 300},
    "sql": {"messages": 50, "warmup": 10},
    "calendar": {"small": 2, "large": 10, "requests": 10},
    "accounts": {"accounts": 2_000, "requests": 10},
}
# The app runs with the per-account socket event limit (default "20 per 10 seconds") raised, for the sweep: it
# is still checked on every event (the same Redis work); only its value would stop the senders at high rates.
# The realistic load (one message per 10 s) and the storm stay far below the default anyway.
RATE_LIMIT = "100000 per 10 seconds"


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def background_load(seconds: float = 1.0) -> float:
    """Cores busy on the machine while the bench does nothing (other people's work)."""
    busy0, total0 = h.system_cpu()
    time.sleep(seconds)
    busy1, total1 = h.system_cpu()
    return round((busy1 - busy0) / max(total1 - total0, 1e-9) * os.cpu_count(), 2)


def wait_for_quiet(limit: float, max_wait: float) -> float:
    """Wait (at most `max_wait` s) until the machine is nearly idle; return the background load then."""
    deadline = time.monotonic() + max_wait
    load = background_load()
    while load > limit and time.monotonic() < deadline:
        log(f"machine busy with other work ({load} cores): waiting")
        time.sleep(4)
        load = background_load()
    return load


class Bench:
    def __init__(
        self,
        settings: dict,
        database_url: str,
        redis_url: str,
        workdir: Path,
        quiet_wait: float,
        redis_prefix: str = h.REDIS_PREFIX,
    ) -> None:
        self.s = settings
        self.database_url = database_url
        self.redis_url = redis_url
        self.redis_prefix = redis_prefix
        self.workdir = workdir
        self.quiet_wait = quiet_wait
        self.secret = h.new_secret_key()
        self.env = h.app_env(database_url, redis_url, self.secret, redis_prefix)
        self.server_core, self.generator_core, self.pinning = h.cores()
        self.clients: list[dict] = []
        self.results: dict = {}
        self.problems: list[str] = []

    # -- set-up --------------------------------------------------------------------------------------------
    def setup(self) -> None:
        started = time.monotonic()
        h.ensure_node_modules()
        h.recreate_database(self.database_url)
        h.flush_redis(self.redis_url, self.redis_prefix)
        h.flask(self.env, "db", "upgrade")
        out = self.workdir / "clients.json"
        summary = h.bench_setup(self.env, out, self.s["groups"], self.s["participants"], self.s["calendar_groups"])
        self.clients = json.loads(out.read_text())
        self.clients_path = out
        log(summary)
        self.results["setup"] = {"summary": summary, "seconds": round(time.monotonic() - started, 1)}

    # -- servers and generator -----------------------------------------------------------------------------
    def server(self, kind: str, name: str, **env) -> h.Server:
        h.flush_redis(self.redis_url, self.redis_prefix)
        background = wait_for_quiet(0.3, self.quiet_wait)
        self.results.setdefault("background_load_cores", {})[f"{kind}:{name}"] = background
        server_env = {**self.env, **env} if kind == "app" else {**self.env}
        return h.Server(kind, server_env, self.workdir / f"{kind}-{name}.log", self.server_core)

    # Where the app's time goes: with py-spy available (BENCH_PYSPY or on the PATH), the app server is
    # profiled for a while from these marks on.
    PROFILES = {
        "realistic_measure_start": ("realistic", 30),
        "storm_drop": ("storm", 30),
        "idle_before": ("idle_connect_and_join", 30),
    }
    # Marks before which the machine should be quiet (other people's work would distort the phase).
    QUIET_BEFORE = ("realistic_measure_start", "storm_drop", "sweep_step_start", "idle_before")

    def generate(self, server: h.Server, phases: list[dict]) -> h.GeneratorRun:
        profilers: dict[str, h.Profiler] = {}

        def on_mark(event: dict, marks: list[dict]) -> tuple[bool, dict]:
            waited, reply = False, {}
            if event["mark"] == "sweep_step_end" and event["sample"] is not None:
                start = next((m for m in reversed(marks) if m["mark"] == "sweep_step_start"), None)
                if start is not None and start["sample"] is not None:
                    reply = {"other_cores": h.cpu_between(start["sample"], event["sample"])["other_cores"]}
            if event.get("wait") and event["mark"] in self.QUIET_BEFORE:
                # The servers are idle here (the previous phase drained): wait for other work to stop.
                load = wait_for_quiet(0.35, self.quiet_wait / 4)
                waited = True
                self.results.setdefault("background_load_cores", {})[
                    f"{server.kind}:{event['mark']}" + (f"@{event['rate']}" if "rate" in event else "")
                ] = load
            spec = self.PROFILES.get(event["mark"])
            if spec and server.kind == "app" and h.pyspy_binary() and spec[0] not in profilers:
                seconds = min(spec[1], self.s["realistic"]["duration_s"]) if spec[0] == "realistic" else spec[1]
                profilers[spec[0]] = h.Profiler(server.pid, seconds, self.workdir / f"profile-{spec[0]}.txt")
            return waited, reply

        run = h.run_generator(
            server, self.clients, phases, self.generator_core, database_url=self.database_url, on_mark=on_mark
        )
        for name, profiler in profilers.items():
            path = profiler.wait()
            if path is not None:
                self.results.setdefault("profiles", {})[name] = h.summarise_profile(path)
        return run

    def record_log(self, server: h.Server, name: str) -> dict:
        problems = server.log_problems()
        if problems["lines"]:
            self.problems.append(
                f"{server.kind} server ({name}): {problems['lines']} error lines, e.g. {problems['first'][:2]}"
            )
        return problems

    # -- scenarios ---------------------------------------------------------------------------------------
    def load(self, kind: str, scenarios: set[str]) -> None:
        """realistic, storm and sweep on one server start and one set of connections (in that order: the
        sweep goes on until the server fails, so it comes last)."""
        phases = []
        if "realistic" in scenarios:
            phases.append(self.s["realistic"])
        if "storm" in scenarios:
            phases.append({**self.s["storm"], "replay": kind == "app"})
        if "sweep" in scenarios:
            phases.append(
                {**self.s["sweep"], "start_rate": self.s["sweep_start"][kind], "max_rate": self.s["sweep_max"][kind]}
            )
        if not phases:
            return
        log(f"{kind}: {', '.join(p['kind'] for p in phases)}")
        with self.server(kind, "load", SOCKET_EVENT_RATE_LIMIT=RATE_LIMIT) as server:
            run = self.generate(server, phases)
            time.sleep(1)  # let the disconnect handlers finish before reading the log
            server_log = self.record_log(server, "load")
            rss = h.rss_kb(server.pid)
        result = run.result
        common = {
            "connect": result["connect"],
            "server_log": server_log,
            "generator_counters": result["counters"],
            "rate_limit": RATE_LIMIT if kind == "app" else None,
            "server_rss_mb_at_end": round(rss / 1024, 1),
        }
        if "realistic" in result["phases"]:
            self.results.setdefault("realistic", {})[kind] = {
                **result["phases"]["realistic"],
                **common,
                "cpu": h.window(run.marks, "realistic_measure_start", "realistic_measure_end"),
            }
        if "storm" in result["phases"]:
            self.results.setdefault("storm", {})[kind] = {
                **result["phases"]["storm"],
                **common,
                "cpu": h.window(run.marks, "storm_drop", "storm_done"),
            }
        if "sweep" in result["phases"]:
            sweep = result["phases"]["sweep"]
            starts = [m for m in run.marks if m["mark"] == "sweep_step_start"]
            ends = [m for m in run.marks if m["mark"] == "sweep_step_end"]
            for step, start, end in zip(sweep["steps"], starts, ends, strict=False):  # the same order
                both = start["sample"] and end["sample"]
                step["cpu"] = h.cpu_between(start["sample"], end["sample"]) if both else None
            self.results.setdefault("sweep", {})[kind] = {**sweep, **common}

    def idle(self, kind: str) -> None:
        log(f"{kind}: {self.s['idle']['sockets']} idle connections")
        with self.server(kind, "idle") as server:
            run = self.generate(server, [self.s["idle"]])
            server_log = self.record_log(server, "idle")
        before = next(m for m in run.marks if m["mark"] == "idle_before")
        after = next(m for m in run.marks if m["mark"] == "idle_after")
        sockets = after.get("sockets") or run.result["phases"]["idle"]["sockets"]
        grown = after["sample"].server_rss_kb - before["sample"].server_rss_kb
        held = h.window(run.marks, "idle_after", "idle_hold_end")
        self.results.setdefault("idle", {})[kind] = {
            **run.result["phases"]["idle"],
            "idle_cpu": held,
            "rss_before_mb": round(before["sample"].server_rss_kb / 1024, 1),
            "rss_after_mb": round(after["sample"].server_rss_kb / 1024, 1),
            "kb_per_connection": round(grown / max(sockets, 1), 1),
            "server_log": server_log,
        }

    def sql(self) -> None:
        log("SQL statements per chat message (in-process)")
        out = self.workdir / "sql.json"
        self._python(
            "bench.sql_per_message",
            str(self.clients_path),
            "--messages",
            str(self.s["sql"]["messages"]),
            "--warmup",
            str(self.s["sql"]["warmup"]),
            "--out",
            str(out),
            env=self.env,
        )
        self.results["sql"] = json.loads(out.read_text())

    def calendar(self) -> None:
        log("calendar page (in-process, own database)")
        url = h.sibling_database(self.database_url, "_calendar")
        h.recreate_database(url)
        env = h.app_env(url, self.redis_url, self.secret, self.redis_prefix)
        h.flask(env, "db", "upgrade")
        out = self.workdir / "calendar.json"
        c = self.s["calendar"]
        self._python(
            "bench.calendar_page",
            "--small",
            str(c["small"]),
            "--large",
            str(c["large"]),
            "--requests",
            str(c["requests"]),
            "--out",
            str(out),
            env=env,
        )
        self.results["calendar"] = json.loads(out.read_text())

    def accounts(self) -> None:
        log("accounts list (in-process, SQLite and a database of its own)")
        url = h.sibling_database(self.database_url, "_accounts")
        h.recreate_database(url)
        out = self.workdir / "accounts.json"
        a = self.s["accounts"]
        self._python(
            "bench.accounts_list",
            "--accounts",
            str(a["accounts"]),
            "--requests",
            str(a["requests"]),
            "--database-url",
            url,
            "--out",
            str(out),
            env=self.env,
        )
        self.results["accounts"] = json.loads(out.read_text())

    def _python(self, module: str, *args: str, env: dict) -> None:
        wait_for_quiet(0.3, self.quiet_wait)
        result = subprocess.run(
            [h.PYTHON, "-m", module, *args], cwd=h.ROOT, env=env, text=True, capture_output=True, timeout=900
        )
        sys.stderr.write(result.stderr[-3000:])
        if result.returncode != 0:
            raise h.BenchError(f"{module} failed:\n{result.stdout}\n{result.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The benchmark of issue #7 (make bench).")
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK") not in (None, "", "0"),
        help="a small, short run (also BENCH_QUICK=1)",
    )
    parser.add_argument(
        "--only",
        default=os.environ.get("BENCH_ONLY", ""),
        help=f"comma-separated scenarios out of {', '.join(SCENARIOS)}",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=float(os.environ.get("BENCH_QUIET_WAIT", "60")),
        help="wait this many seconds at most for other work on the machine to stop, per scenario",
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    args = parser.parse_args(argv)
    scenarios = set(filter(None, args.only.split(","))) or set(SCENARIOS)
    unknown = scenarios - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    settings = QUICK if args.quick else FULL
    database_url = os.environ.get("BENCH_DATABASE_URL", h.DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("BENCH_REDIS_URL", h.DEFAULT_REDIS_URL)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="sgbench-") as tmp:
        # A prefix of its own: two runs sharing a Redis database (and so the Socket.IO channel) would mix.
        prefix = f"{h.REDIS_PREFIX}{secrets.token_hex(3)}"
        bench = Bench(settings, database_url, redis_url, Path(tmp), args.quiet_wait, redis_prefix=prefix)
        bench.results["machine"] = h.machine_info(database_url, redis_url, bench.pinning)
        bench.results["mode"] = "quick" if args.quick else "full"
        bench.results["settings"] = {k: v for k, v in settings.items()}
        bench.results["app_config"] = (
            "serve.py (gevent pywsgi, TCP_NODELAY), SUPPORTGROUP_ENV=production with a generated SECRET_KEY, "
            "PostgreSQL, Redis for presence, rate limits and the Socket.IO message queue, presence heartbeat and "
            f"purge job running; SOCKET_EVENT_RATE_LIMIT=\"{RATE_LIMIT}\" (default \"20 per 10 seconds\": raised "
            "for the sweep, still checked on every event)"
        )
        log(f"{bench.results['mode']} run: {', '.join(s for s in SCENARIOS if s in scenarios)}; {bench.pinning}")
        finished = False
        try:
            bench.setup()
            for kind in ("app", "baseline"):
                bench.load(kind, scenarios)
            if "idle" in scenarios:
                for kind in ("app", "baseline"):
                    bench.idle(kind)
            if "sql" in scenarios:
                bench.sql()
            if "calendar" in scenarios:
                bench.calendar()
            if "accounts" in scenarios:
                bench.accounts()
            finished = True
        finally:
            h.flush_redis(redis_url, prefix)
            bench.results["problems"] = bench.problems
            bench.results["duration_s"] = round(time.monotonic() - started, 1)
            RESULTS.mkdir(exist_ok=True)
            complete = not args.quick and scenarios == set(SCENARIOS) and finished
            # A run that failed keeps the last complete run's figures and writes what it got aside.
            name = "latest.json" if complete else ("quick.json" if args.quick else "partial.json")
            (RESULTS / name).write_text(json.dumps(bench.results, indent=1, default=str) + "\n")
            log(f"results in {RESULTS / name} ({bench.results['duration_s']}s)")
    if complete and not args.no_doc:
        report.update_doc(bench.results)
        log(f"figures written to {report.DOC}")
    print(report.summary_text(bench.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
