"""SQL statements (and Redis round trips) per chat message at steady state.

In-process: the app as configured by the environment (run by bench/run.py with the production config over
the bench's PostgreSQL and Redis), driven by Flask-SocketIO's test client with the session cookies of
`bench/setup.py`. One peer expert and two participants join a meeting; after a warm-up, each counted
`send` is one event handled start to finish (parse, load, authorize, store, commit, emit, ack). Statements
are counted with SQLAlchemy's `before_cursor_execute` event, Redis round trips at redis-py's connection.

Differences from the served app, said in the report: the test client cannot use the Socket.IO message
queue, so the one Redis PUBLISH per broadcast is not counted here; the socket event rate limit is raised
(it is still checked, with the same Redis work) so one account can send a few hundred messages; and
PRESENCE_TTL is long, because no heartbeat runs in-process to keep the joins present.

    python -m bench.sql_per_message CLIENTS_JSON [--messages 200] [--warmup 20] [--out result.json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import write_result  # noqa: E402

USER_AGENT = "supportgroup-bench/1"


def normalise(statement: str) -> str:
    text = re.sub(r"\s+", " ", statement).strip()
    text = re.sub(r"\(%\(\w+\)s(, %\(\w+\)s)*\)", "(…)", text)  # IN lists and VALUES rows
    return text[:220]


class Counters:
    """Only what the measuring thread sends counts: background tasks (the coalesced presence push after the
    joins) run in threads of their own in this in-process set-up."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        self.on = False
        self.statements: list[str] = []
        self.redis = 0


@contextmanager
def counting(counters: Counters):
    counters.on = True
    try:
        yield
    finally:
        counters.on = False


def install(app, counters: Counters) -> None:
    import redis.connection
    from sqlalchemy import event

    from supportgroup.extensions import db

    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001
        if counters.on and threading.get_ident() == counters.thread:
            counters.statements.append(statement)

    original = redis.connection.AbstractConnection.send_packed_command

    def send_packed_command(self, command, check_health=True):
        if counters.on and threading.get_ident() == counters.thread:
            counters.redis += 1
        return original(self, command, check_health)

    redis.connection.AbstractConnection.send_packed_command = send_packed_command


def socket_for(app, cookie: str):
    from supportgroup.extensions import socketio

    http = app.test_client()
    name, _, value = cookie.partition("=")
    http.set_cookie(name, value, domain="localhost")
    client = socketio.test_client(app, flask_test_client=http, headers={"User-Agent": USER_AGENT})
    if not client.is_connected():
        raise SystemExit("the test client was refused: are the cookies from this database and SECRET_KEY?")
    return client


def measure(app, clients: list[dict], messages: int = 200, warmup: int = 20) -> dict:
    counters = Counters()
    install(app, counters)
    group = min(c["group"] for c in clients if c.get("group"))
    moderator = next(c for c in clients if c["group"] == group and c["role"] == "moderator")
    participants = [c for c in clients if c["group"] == group and c["role"] == "participant"][:2]
    meeting_id = moderator["meeting_id"]
    sockets = {"moderator": socket_for(app, moderator["cookie"])}
    for index, participant in enumerate(participants):
        sockets[f"participant{index}"] = socket_for(app, participant["cookie"])
    for sock in sockets.values():
        ack = sock.emit("join", {"meeting_id": meeting_id}, callback=True)
        if not ack.get("ok"):
            raise SystemExit(f"join refused: {ack}")
    result = {"meeting_id": meeting_id, "messages": messages, "warmup": warmup}
    stamp = f"{int(time.time() * 1000):x}"
    for role, sender in (("participant", sockets["participant0"]), ("moderator", sockets["moderator"])):
        for n in range(warmup):
            sender.emit(
                "send",
                {"meeting_id": meeting_id, "client_id": f"w{stamp}{role[0]}{n:06d}", "text": f"warm-up {n}"},
                callback=True,
            )
        counters.statements.clear()
        counters.redis = 0
        per_message: list[int] = []
        per_message_sql: list[list[str]] = []
        times: list[float] = []
        failures = Counter()
        for n in range(messages):
            before = len(counters.statements)
            started = time.perf_counter()
            with counting(counters):
                ack = sender.emit(
                    "send",
                    {
                        "meeting_id": meeting_id,
                        "client_id": f"m{stamp}{role[0]}{n:06d}",
                        "text": f"Message number {n} from the bench.",
                    },
                    callback=True,
                )
            times.append((time.perf_counter() - started) * 1000)
            per_message.append(len(counters.statements) - before)
            per_message_sql.append(counters.statements[before:])
            if not ack.get("ok"):
                failures[ack.get("error", {}).get("code", "?")] += 1
        distinct = Counter(normalise(s) for s in counters.statements)
        result[role] = {
            "statements_per_message": round(len(counters.statements) / messages, 2),
            "min": min(per_message),
            "max": max(per_message),
            # How many messages took how many statements (a message after which a rule changed re-reads them).
            "distribution": {str(k): v for k, v in sorted(Counter(per_message).items())},
            "unusual": [
                {"message": i, "statements": n, "sql": [normalise(q)[:90] for q in queries]}
                for i, (n, queries) in enumerate(zip(per_message, per_message_sql, strict=True))
                if n != Counter(per_message).most_common(1)[0][0]
            ][:5],
            "redis_round_trips_per_message": round(counters.redis / messages, 2),
            "handler_ms_median": round(statistics.median(times), 3),
            "handler_ms_p95": round(sorted(times)[int(0.95 * len(times)) - 1], 3),
            "failures": dict(failures),
            "statements": [
                {"per_message": round(count / messages, 2), "sql": sql} for sql, count in distinct.most_common()
            ],
        }
        # Everyone in the room received every message (the test client queues what it receives).
        for sock in sockets.values():
            sock.get_received()
    for sock in sockets.values():
        sock.disconnect()
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clients")
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    from supportgroup import create_app

    app = create_app(
        overrides={
            "SOCKETIO_ASYNC_MODE": "threading",
            "SOCKETIO_MESSAGE_QUEUE": None,
            "SOCKET_EVENT_RATE_LIMIT": "100000 per 10 seconds",
            # No heartbeat runs in-process: keep the joins present for the whole run.
            "PRESENCE_TTL": 600.0,
        }
    )
    clients = json.loads(Path(args.clients).read_text())
    result = measure(app, clients, args.messages, args.warmup)
    write_result(result, args.out)
    return result


if __name__ == "__main__":
    main()
