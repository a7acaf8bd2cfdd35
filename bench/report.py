"""Turn bench results into the tables of docs/benchmarks.md (between the figures markers) and a summary."""

from __future__ import annotations

from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"

TARGETS = {
    "realistic_p99": 10.0,  # ms, delivery and ack
    "saturation_ratio": 0.70,  # app / baseline
    "idle_ratio": 1.2,  # app / baseline memory per connection
    "storm_s": 10.0,
    "sql": 2.0,  # statements per chat message
    "calendar_ms": 50.0,
}


def _num(value, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _ratio(app, baseline) -> str:
    if app is None or baseline in (None, 0):
        return "–"
    return f"{app / baseline:.2f}×"


def _at_most(value, target, unit: str) -> str:
    if value is None:
        return "not measured"
    if value <= target:
        return "**met**"
    over = value - target
    return f"**missed** by {over:,.{1 if over >= 1 else 2}f} {unit} ({value / target:.{1 if value / target >= 1.1 else 2}f}× the target)"


def _at_least(value, target, unit: str) -> str:
    if value is None:
        return "not measured"
    if value >= target:
        return "**met**"
    return f"**missed** by {target - value:,.2f}{unit} ({value / target:.0%} of the target)"


def _get(d: dict | None, *keys):
    for key in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


def _background(r: dict) -> str:
    loads = list((r.get("background_load_cores") or {}).values())
    if not loads:
        return "–"
    ordered = sorted(loads)
    return (
        f"machine busy before each server start and each measured phase (the harness waits, up to a "
        f"limit, for it to drop below about 0.3 cores): median {ordered[len(ordered) // 2]:.2f}, "
        f"max {ordered[-1]:.2f} cores over {len(loads)} checks; during the phases see the *other work* rows"
    )


def machine_table(r: dict) -> list[str]:
    m = r.get("machine", {})
    rows = [
        ("Date", m.get("date")),
        ("Commit", m.get("git")),
        ("Run", f"{r.get('mode')} ({r.get('duration_s')} s)"),
        (
            "CPU",
            f"{m.get('cpu_model')}, {m.get('cpus')} cores ({m.get('cpus_usable')} usable), {m.get('memory_gb')} GB",
        ),
        ("Pinning", m.get("pinning")),
        ("App as run", r.get("app_config")),
        (
            "Software",
            f"Python {m.get('python')}, gevent {m.get('gevent')}, Flask {m.get('flask')}, Flask-SocketIO "
            f"{m.get('flask_socketio')}, python-socketio {m.get('python_socketio')}, python-engineio "
            f"{m.get('python_engineio')}, SQLAlchemy {m.get('sqlalchemy')}, psycopg {m.get('psycopg')}",
        ),
        ("Services", f"PostgreSQL {m.get('postgresql')}, Redis {m.get('redis')}"),
        ("Generator", f"Node {m.get('node')}, socket.io-client {m.get('socket_io_client')}"),
        ("Other work", _background(r)),
    ]
    lines = ["| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    return lines


def realistic_section(r: dict) -> list[str]:
    data = r.get("realistic") or {}
    app, base = data.get("app"), data.get("baseline")
    if not app:
        return ["Not measured in this run."]
    t = TARGETS["realistic_p99"]
    lines = [
        f"{app.get('senders')} participants in {r['settings']['groups']} groups (one peer expert per group "
        f"connected and joined), one message per {app.get('interval_s')} s each = {app.get('rate_per_s')} "
        f"messages/s, {app.get('measured_s')} s measured after a first round in which every participant sent "
        f"one message (the app does per-socket work on a socket's first message; that round is shown "
        f"separately); every message reaches its "
        f"{app['expected_deliveries'] // max(app['acked'], 1) if app.get('acked') else '?'} room members "
        "(the sender included).",
        "",
        "| | app | baseline | app / baseline | target | |",
        "|---|---|---|---|---|---|",
    ]

    def row(label, key, sub, target=None, unit="ms"):
        a, b = _get(app, key, sub), _get(base, key, sub)
        verdict = _at_most(a, target, unit) if target is not None else ""
        tgt = f"≤ {target:g} {unit}" if target is not None else ""
        lines.append(f"| {label} | {_num(a, 2)} | {_num(b, 2)} | {_ratio(a, b)} | {tgt} | {verdict} |")

    row("delivery p50 (ms)", "delivery_ms", "p50")
    row("delivery p99 (ms)", "delivery_ms", "p99", t)
    row("delivery max (ms)", "delivery_ms", "max")
    row("ack p50 (ms)", "ack_ms", "p50")
    row("ack p99 (ms)", "ack_ms", "p99", t)
    row("ack max (ms)", "ack_ms", "max")
    fa, fb = _get(app, "first_message"), _get(base, "first_message")
    lines.append(
        f"| first message of each socket: delivery p50 / p99 (ms) | {_num(_get(fa, 'delivery_ms', 'p50'), 1)} / "
        f"{_num(_get(fa, 'delivery_ms', 'p99'), 1)} | {_num(_get(fb, 'delivery_ms', 'p50'), 1)} / "
        f"{_num(_get(fb, 'delivery_ms', 'p99'), 1)} | | | |"
    )
    lost = (app.get("lost_deliveries") or 0) + (app.get("unacked") or 0)
    lines.append(
        f"| deliveries lost / expected | {app.get('lost_deliveries')} / {app.get('expected_deliveries')} | "
        f"{_get(base, 'lost_deliveries')} / {_get(base, 'expected_deliveries')} | | 0 | "
        f"{'**met**' if lost == 0 and not app.get('ack_errors') else '**missed**'} |"
    )
    lines.append(
        f"| messages unacked / refused | {app.get('unacked')} / {sum((app.get('ack_errors') or {}).values())} | "
        f"{_get(base, 'unacked')} / {sum((_get(base, 'ack_errors') or {}).values())} | | 0 | |"
    )
    a_cpu, b_cpu = _get(app, "cpu", "server_cores"), _get(base, "cpu", "server_cores")
    lines.append(f"| server CPU (cores) | {_num(a_cpu, 2)} | {_num(b_cpu, 2)} | {_ratio(a_cpu, b_cpu)} | | |")
    lines.append(
        f"| generator CPU (cores) | {_num(_get(app, 'cpu', 'generator_cores'), 2)} | "
        f"{_num(_get(base, 'cpu', 'generator_cores'), 2)} | | | |"
    )
    lines.append(
        f"| machine busy (cores, incl. PostgreSQL, Redis) | {_num(_get(app, 'cpu', 'machine_busy_cores'), 2)} | "
        f"{_num(_get(base, 'cpu', 'machine_busy_cores'), 2)} | | | |"
    )
    lines.append(
        f"| other work on the machine meanwhile (cores) | {_num(_get(app, 'cpu', 'other_cores'), 2)} | "
        f"{_num(_get(base, 'cpu', 'other_cores'), 2)} | | | |"
    )
    lines.append(
        f"| generator schedule lag p99 (ms) | {_num(_get(app, 'schedule_lag_ms', 'p99'), 2)} | "
        f"{_num(_get(base, 'schedule_lag_ms', 'p99'), 2)} | | | |"
    )
    lines.append(
        f"| connect + join, {app['connect']['participants']['clients']} participants (s) | "
        f"{_num(_get(app, 'connect', 'participants', 'seconds'), 1)} | "
        f"{_num(_get(base, 'connect', 'participants', 'seconds'), 1)} | | | |"
    )
    if app.get("ack_errors"):
        lines += ["", f"Refused sends (app): {app['ack_errors']}."]
    return lines


def sweep_section(r: dict) -> list[str]:
    data = r.get("sweep") or {}
    app, base = data.get("app"), data.get("baseline")
    if not app and not base:
        return ["Not measured in this run."]
    a, b = _get(app, "best_rate_per_s"), _get(base, "best_rate_per_s")
    ratio = a / b if a and b else None
    senders = (app or base).get("senders")
    lines = [
        f"All {senders} participants send, each at rate/{senders} per second, in steps of "
        f"{r['settings']['sweep']['step_s']} s (the first {r['settings']['sweep']['warmup_s']} s not measured); "
        f"the rate rises ×{r['settings']['sweep']['factor']} per step until delivery or ack p99 reaches "
        f"{r['settings']['sweep']['p99_limit_ms']} ms or anything is lost, then one step in between. A failing "
        "step is run again once, and up to four times while other work on the machine took more than 0.3 "
        "cores during it (*disturbed*). "
        "The sweep runs after the realistic load and the storm, on the same server and connections, after a "
        "round in which every participant sends once.",
        "",
        "| | app | baseline | app / baseline | target | |",
        "|---|---|---|---|---|---|",
        f"| highest rate with p99 < 50 ms, nothing lost (messages/s) | {_num(a, 0)} | {_num(b, 0)} | "
        f"{_ratio(a, b)} | ≥ 0.70× | {_at_least(ratio, TARGETS['saturation_ratio'], '×')} |",
    ]
    deliveries = lambda run, rate: rate * (run["steps"][0]["expected_deliveries"] / max(run["steps"][0]["acked"], 1))  # noqa: E731
    for label, run in (("app", app), ("baseline", base)):
        if run and run.get("best_rate_per_s"):
            lines.append(
                f"| {label}: deliveries/s at that rate | {_num(deliveries(run, run['best_rate_per_s']), 0)} | | | | |"
            )
    if _get(app, "capped") or _get(base, "capped"):
        lines.append("")
        lines.append("The sweep stopped at its maximum rate before failing: the true limit is higher.")
    for label, run in (("app", app), ("baseline", base)):
        if not run:
            continue
        lines += [
            "",
            f"Steps, {label}:",
            "",
            "| rate/s | delivery p50 | p99 | max | ack p99 | lost | refused | server CPU | generator CPU | other work | lag p99 | |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for step in run["steps"]:
            refused = sum(step["ack_errors"].values()) + step["unacked"]
            lines.append(
                f"| {_num(step['rate_per_s'], 0)} | {_num(step['delivery_ms'].get('p50'), 1)} | "
                f"{_num(step['delivery_ms'].get('p99'), 1)} | {_num(step['delivery_ms'].get('max'), 1)} | "
                f"{_num(step['ack_ms'].get('p99'), 1)} | {step['lost_deliveries']} | {refused} | "
                f"{_num(_get(step, 'cpu', 'server_cores'), 2)} | {_num(_get(step, 'cpu', 'generator_cores'), 2)} | "
                f"{_num(_get(step, 'cpu', 'other_cores'), 2)} | "
                f"{_num(step['schedule_lag_ms'].get('p99'), 1)} | "
                f"{'pass' if step['pass'] else ('fail, disturbed' if step.get('disturbed') else 'fail')} |"
            )
    return lines


def storm_section(r: dict) -> list[str]:
    data = r.get("storm") or {}
    app, base = data.get("app"), data.get("baseline")
    if not app:
        return ["Not measured in this run."]
    t = TARGETS["storm_s"]
    done = app.get("seconds_until_all_back")
    lines = [
        f"While the {r['settings']['groups']} peer experts keep sending ({app.get('moderator_rate_per_s')} "
        f"messages/s in total), the transports of all {app['participants']} participants close at once; they "
        "reconnect with the browser's settings (socket.io-client defaults, `reconnectionDelayMax: 5000`: "
        "first attempt after 0.5-1.5 s) and join with `after` = the last id they saw. *Back* = reconnected, "
        "rejoined and holding every message id since the drop up to the last one acknowledged when the "
        "rejoin was acknowledged. The baseline has no replay: for it, *back* = rejoined.",
        "",
        "| | app | baseline | app / baseline | target | |",
        "|---|---|---|---|---|---|",
        f"| all back (s) | {_num(done, 2)} | {_num(_get(base, 'seconds_until_all_back'), 2)} | "
        f"{_ratio(done, _get(base, 'seconds_until_all_back'))} | ≤ {t:g} s | "
        f"{_at_most(done, t, 's') if done is not None else '**missed**: not all back' + ('' if app.get('seconds_until_all_rejoined') is not None else ' within ' + str(r['settings']['storm']['timeout_s']) + ' s')} |",
        f"| all rejoined (s) | {_num(app.get('seconds_until_all_rejoined'), 2)} | "
        f"{_num(_get(base, 'seconds_until_all_rejoined'), 2)} | "
        f"{_ratio(app.get('seconds_until_all_rejoined'), _get(base, 'seconds_until_all_rejoined'))} | | |",
    ]
    for label, key in (("reconnected", "reconnect_s"), ("rejoined", "rejoin_s"), ("complete", "complete_s")):
        lines.append(
            f"| {label}: p50 / p99 / last (s) | {_num(_get(app, key, 'p50'), 2)} / {_num(_get(app, key, 'p99'), 2)} / "
            f"{_num(_get(app, key, 'max'), 2)} | {_num(_get(base, key, 'p50'), 2)} / {_num(_get(base, key, 'p99'), 2)} / "
            f"{_num(_get(base, key, 'max'), 2)} | | | |"
        )
    lines.append(
        f"| participants back / total | {app.get('complete')} / {app['participants']} | "
        f"{_get(base, 'complete')} / {_get(base, 'participants')} | | all | |"
    )
    lines.append(
        f"| message ids missing at participants who rejoined | {app.get('missing_after_rejoin')} "
        f"(at {app.get('participants_with_gaps')} participants) | (no replay) | | 0 | "
        f"{'**met**' if app.get('missing_after_rejoin') == 0 else '**missed**'} |"
    )
    lines.append(
        f"| peer experts' sends refused / ack p99 (ms) | "
        f"{sum(_get(app, 'moderator_messages', 'ack_errors').values())} / {_num(_get(app, 'moderator_messages', 'ack_ms', 'p99'), 1)} | "
        f"{sum((_get(base, 'moderator_messages', 'ack_errors') or {}).values())} / "
        f"{_num(_get(base, 'moderator_messages', 'ack_ms', 'p99'), 1)} | | | |"
    )
    lines.append(
        f"| server CPU during the storm (cores) | {_num(_get(app, 'cpu', 'server_cores'), 2)} | "
        f"{_num(_get(base, 'cpu', 'server_cores'), 2)} | | | |"
    )
    lines.append(
        f"| other work on the machine meanwhile (cores) | {_num(_get(app, 'cpu', 'other_cores'), 2)} | "
        f"{_num(_get(base, 'cpu', 'other_cores'), 2)} | | | |"
    )
    if app.get("gap_examples"):
        lines += [
            "",
            "Examples of missing ids, with when the message was acknowledged to its sender and when the "
            "participant's rejoin was acknowledged (s after the drop):",
            "",
            "| account | meeting | last id seen before the drop | missing id | acked at | rejoined at |",
            "|---|---|---|---|---|---|",
        ]
        for gap in app["gap_examples"][:8]:
            if isinstance(gap, dict):
                lines.append(
                    f"| {gap['user']} | {gap['meeting_id']} | {gap['dropped_at_id']} | {gap['id']} | "
                    f"{_num(gap['acked_s'], 2)} | {_num(gap['rejoined_s'], 2)} |"
                )
    return lines


def idle_section(r: dict) -> list[str]:
    data = r.get("idle") or {}
    app, base = data.get("app"), data.get("baseline")
    if not app:
        return ["Not measured in this run."]
    a, b = app.get("kb_per_connection"), _get(base, "kb_per_connection")
    ratio = a / b if a and b else None
    t = TARGETS["idle_ratio"]
    return [
        f"{app['sockets']} sockets connected and joined to their meeting (accounts cycle, so each has several); "
        "server RSS after a warm-up of a few connections, and again with all connected.",
        "",
        "| | app | baseline | app / baseline | target | |",
        "|---|---|---|---|---|---|",
        f"| memory per connection (KiB) | {_num(a, 1)} | {_num(b, 1)} | {_ratio(a, b)} | ≤ {t}× | "
        f"{'**met**' if ratio is not None and ratio <= t else ('**missed** by ' + f'{ratio - t:.2f}× ({ratio / t:.1f}× the target)' if ratio else 'not measured')} |",
        f"| RSS before / after (MiB) | {_num(app['rss_before_mb'])} / {_num(app['rss_after_mb'])} | "
        f"{_num(_get(base, 'rss_before_mb'))} / {_num(_get(base, 'rss_after_mb'))} | | | |",
        f"| time to connect and join all (s) | {_num(app['connect_seconds'])} | {_num(_get(base, 'connect_seconds'))} | | | |",
        f"| server CPU with all of them idle (cores) | {_num(_get(app, 'idle_cpu', 'server_cores'), 3)} | "
        f"{_num(_get(base, 'idle_cpu', 'server_cores'), 3)} | | | |",
    ]


def sql_section(r: dict) -> list[str]:
    data = r.get("sql")
    if not data:
        return ["Not measured in this run."]
    p, m = data["participant"], data["moderator"]
    t = TARGETS["sql"]
    lines = [
        f"In-process (Flask-SocketIO test client, the production config over the bench's PostgreSQL and Redis), "
        f"{data['messages']} messages after {data['warmup']} of warm-up, per sender. Not counted: COMMIT "
        "(one per message), and the Redis PUBLISH of the broadcast (the test client has no message queue).",
        "",
        "| sender | SQL statements per message | min / max | Redis round trips | handler time median / p95 (ms) | target | |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, d in (("participant", p), ("peer expert", m)):
        lines.append(
            f"| {label} | {_num(d['statements_per_message'], 2)} | {d['min']} / {d['max']} | "
            f"{_num(d['redis_round_trips_per_message'], 1)} | {_num(d['handler_ms_median'], 2)} / "
            f"{_num(d['handler_ms_p95'], 2)} | ≤ {t:g} | {_at_most(d['statements_per_message'], t, 'statements')} |"
        )
    lines += [
        "",
        "Statements per message, how many messages: participant "
        f"{', '.join(f'{k}: {v}' for k, v in (p.get('distribution') or {}).items())}; peer expert "
        f"{', '.join(f'{k}: {v}' for k, v in (m.get('distribution') or {}).items())}.",
        "",
        "Statements (participant):",
        "",
    ]
    lines += [f"- {s['per_message']:g}× `{s['sql']}`" for s in p["statements"]]
    return lines


def calendar_section(r: dict) -> list[str]:
    data = r.get("calendar")
    if not data:
        return ["Not measured in this run."]
    small, large = data["small"], data["large"]
    t = TARGETS["calendar_ms"]
    fixed = data.get("fixed_query_count")
    return [
        f"In-process (Flask test client, coordinator logged in), `GET /schedule/calendar` (four weeks from this "
        f"week), {large['requests']} timed requests after 3 of warm-up, on a database of its own. Judged on the "
        "median.",
        "",
        "| groups / meetings in the database | median (ms) | p95 (ms) | queries per request | page size | target | |",
        "|---|---|---|---|---|---|---|",
        f"| {small['groups']} / {small['meetings']} | {_num(small['median_ms'], 1)} | {_num(small['p95_ms'], 1)} | "
        f"{', '.join(map(str, small['queries']))} | {small['html_bytes'] // 1024} KiB | | |",
        f"| {large['groups']} / {large['meetings']} | {_num(large['median_ms'], 1)} | {_num(large['p95_ms'], 1)} | "
        f"{', '.join(map(str, large['queries']))} | {large['html_bytes'] // 1024} KiB | < {t:g} ms, fixed queries | "
        f"{_at_most(large['median_ms'], t, 'ms')}; queries {'fixed' if fixed else '**not fixed**'} |",
    ]


ACCOUNT_PAGES = {
    "first": "first page",
    "filtered": "filtered (participants, enabled, not active for 30 days)",
    "search": "search (username contains “123”)",
    "deep": "a page after the 9,000th username",
}


def accounts_section(r: dict) -> list[str]:
    data = r.get("accounts")
    if not data:
        return ["Not measured in this run."]
    backends = [(name, data[name]) for name in ("sqlite", "postgresql") if name in data]
    requests_note = f"{backends[0][1].get('requests', '?')} timed requests per page after 3 of warm-up"
    lines = [
        f"In-process (Flask test client, an admin logged in), `GET /admin/accounts` with "
        f"{backends[0][1]['accounts']:,} accounts, {requests_note}; keyset paging by username, 50 rows a page. "
        f"Statements per request: {'fixed' if data.get('fixed_query_count') else '**not fixed**'} (the account, the "
        "count, the rows).",
        "",
        "| database | page | median (ms) | p95 (ms) | queries | rows |",
        "|---|---|---|---|---|---|",
    ]
    for name, figures in backends:
        for key, label in ACCOUNT_PAGES.items():
            page = figures[key]
            lines.append(
                f"| {'SQLite' if name == 'sqlite' else 'PostgreSQL'} | {label} | {_num(page['median_ms'], 1)} | "
                f"{_num(page['p95_ms'], 1)} | {', '.join(map(str, page['queries']))} | {page['rows_shown']} |"
            )
    return lines


# Library frames worth showing beside the app's own functions (inclusive shares).
PROFILE_LIBRARY = (
    "Hub.run (gevent/hub.py)",
    "Socket._websocket_handler.<locals>.writer",
    "RequestContext.push",
    "SecureCookieSessionInterface.open_session",
    "Session.commit (sqlalchemy/orm/session.py)",
    "PerMessageDeflate.frame_outbound",
    "Pipeline.execute (redis/client.py)",
    "Redis.execute_command (redis/client.py)",
    "Cursor.execute (psycopg/cursor.py)",
    "RedisManager._publish",
    "PubSubManager.emit",
    "Server._emit_internal",
)


def profile_section(r: dict) -> list[str]:
    profiles = r.get("profiles") or {}
    if not profiles:
        return ["No profile in this run (install py-spy and set BENCH_PYSPY, see bench/README.md)."]
    lines = [
        "py-spy samples of the app server, 100 per second for 30 s from the start of each phase. Under gevent "
        "a sample is the running greenlet, so this is CPU time; `Hub.run` is the server waiting. Shares are "
        "inclusive (the function and what it called): the app's own functions, then a few library ones."
    ]
    for name, profile in profiles.items():
        lines += ["", f"**{name}** ({profile['samples']} samples)", "", "| function | % of samples |", "|---|---|"]
        own = [
            (f, v)
            for f, v in profile["inclusive_percent"]
            if "(supportgroup/" in f and "decorator.<locals>.handler" not in f
        ][:16]
        library = [(f, v) for f, v in profile["inclusive_percent"] if any(k in f for k in PROFILE_LIBRARY)][:10]
        lines += [f"| `{f}` | {v} |" for f, v in own]
        lines += [f"| `{f}` | {v} |" for f, v in library]
        lines.append("| *self time, largest:* | |")
        lines += [f"| `{f}` | {v} |" for f, v in profile["self_percent"][:6]]
    return lines


def summary_rows(r: dict) -> list[tuple[str, str, str, str]]:
    """(target, figure, target value, verdict) for the overview table."""
    rows = []
    app = _get(r, "realistic", "app")
    if app:
        worst = max(app["delivery_ms"].get("p99") or 0, app["ack_ms"].get("p99") or 0)
        lost = app["lost_deliveries"] + app["unacked"] + sum(app["ack_errors"].values())
        verdict = _at_most(worst, TARGETS["realistic_p99"], "ms")
        if lost:
            verdict = f"**missed**: {lost} lost/refused; " + verdict
        rows.append(
            (
                "Realistic: p99 delivery and ack, nothing lost",
                f"delivery {app['delivery_ms'].get('p99')} ms, ack {app['ack_ms'].get('p99')} ms, lost {lost}",
                "≤ 10 ms, 0 lost",
                verdict,
            )
        )
    a, b = _get(r, "sweep", "app", "best_rate_per_s"), _get(r, "sweep", "baseline", "best_rate_per_s")
    if a is not None or b is not None:
        ratio = a / b if a and b else None
        rows.append(
            (
                "Saturation (p99 < 50 ms) vs baseline",
                f"{_num(a, 0)} vs {_num(b, 0)} msg/s = {_ratio(a, b)}",
                "≥ 0.70×",
                _at_least(ratio, TARGETS["saturation_ratio"], "×"),
            )
        )
    a, b = _get(r, "idle", "app", "kb_per_connection"), _get(r, "idle", "baseline", "kb_per_connection")
    if a is not None:
        ratio = a / b if b else None
        rows.append(
            (
                "Memory per idle connection vs baseline",
                f"{_num(a)} vs {_num(b)} KiB = {_ratio(a, b)}",
                "≤ 1.2×",
                "**met**" if ratio and ratio <= 1.2 else (f"**missed** ({ratio:.2f}×)" if ratio else "not measured"),
            )
        )
    storm = _get(r, "storm", "app")
    if storm:
        done = storm.get("seconds_until_all_back")
        rejoined = storm.get("seconds_until_all_rejoined")
        verdict = _at_most(done, TARGETS["storm_s"], "s") if done is not None else "**missed**: not all back"
        if storm.get("missing_after_rejoin"):
            verdict += (
                f"; {storm['missing_after_rejoin']} messages missing at {storm['participants_with_gaps']} "
                "participants who rejoined"
            )
        if storm.get("not_rejoined"):
            verdict += f"; {storm['not_rejoined']} never rejoined"
        figure = f"all back {_num(done, 2)} s, all rejoined {_num(rejoined, 2)} s"
        rows.append(("Reconnect storm: all back and replayed", figure, "≤ 10 s", verdict))
    sql = _get(r, "sql", "participant", "statements_per_message")
    if sql is not None:
        rows.append(
            ("SQL statements per chat message", _num(sql, 2), "≤ 2", _at_most(sql, TARGETS["sql"], "statements"))
        )
    cal = _get(r, "calendar", "large")
    if cal:
        verdict = _at_most(cal["median_ms"], TARGETS["calendar_ms"], "ms")
        if not r["calendar"].get("fixed_query_count"):
            verdict += "; queries not fixed"
        rows.append(
            (
                f"Calendar page, {cal['groups']} groups × a year of weekly meetings",
                f"median {cal['median_ms']} ms, {', '.join(map(str, cal['queries']))} queries "
                f"({', '.join(map(str, r['calendar']['small']['queries']))} with {r['calendar']['small']['groups']} groups)",
                "< 50 ms, fixed queries",
                verdict,
            )
        )
    accounts = r.get("accounts") or {}
    first = _get(accounts, "postgresql", "first") or _get(accounts, "sqlite", "first")
    if first:
        fixed = accounts.get("fixed_query_count")
        rows.append(
            (
                f"Accounts list, {_get(accounts, 'sqlite', 'accounts') or 0:,} accounts",
                f"first page median {first['median_ms']} ms, {', '.join(map(str, first['queries']))} queries",
                "fixed queries",
                "**met**" if fixed else "**missed**: queries not fixed",
            )
        )
    return rows


def figures_markdown(r: dict) -> str:
    lines = [
        "_Generated by `make bench` from `bench/results/latest.json`; do not edit between the markers._",
        "",
        "### Overview",
        "",
        "| target | this run | target | |",
        "|---|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in summary_rows(r)]
    lines += ["", "### Machine", ""] + machine_table(r)
    lines += ["", "### Realistic load", ""] + realistic_section(r)
    lines += ["", "### Saturation sweep", ""] + sweep_section(r)
    lines += ["", "### Reconnect storm", ""] + storm_section(r)
    lines += ["", "### Idle connections", ""] + idle_section(r)
    lines += ["", "### SQL statements per chat message", ""] + sql_section(r)
    lines += ["", "### Coordinator's calendar page", ""] + calendar_section(r)
    lines += ["", "### Admin's accounts list", ""] + accounts_section(r)
    lines += ["", "### Where the app's time goes", ""] + profile_section(r)
    problems = r.get("problems") or []
    lines += ["", "### Server logs", ""]
    lines += [f"- {p}" for p in problems] or ["No errors or warnings in the servers' output."]
    return "\n".join(lines)


def update_doc(r: dict, doc: Path = DOC) -> None:
    """Replace what is between the markers; leave the rest of the document alone."""
    text = doc.read_text() if doc.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{figures_markdown(r)}\n{END}{tail}")


def summary_text(r: dict) -> str:
    rows = summary_rows(r)
    width = max((len(a) for a, *_ in rows), default=10)
    out = ["", "Benchmark summary (" + str(r.get("mode")) + " run):"]
    out += [f"  {a:<{width}}  {b}  [target {c}]  {d.replace('**', '')}" for a, b, c, d in rows]
    if r.get("problems"):
        out.append("  Server log problems: " + "; ".join(r["problems"]))
    return "\n".join(out)
