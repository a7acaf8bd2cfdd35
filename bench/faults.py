"""The fault tool (issue #12): faults under load, and what each does to messages. `python -m bench.faults`.

Sets up everything privately: a throw-away PostgreSQL cluster (initdb, a free port, a temp directory), its own
`redis-server`, two `serve.py` processes over them, and 44 python-socketio clients in 4 meetings (a peer
expert and 10 participants each, from `bench/setup.py`) that behave as `chat.js` does:
- each sends a line every `SEND_EVERY` seconds with a client id, and on a timeout or a refusal sends it
  again with the same id (so a message is stored once however often it is sent);
- on a lost connection it reconnects (to the other process first) after a short random wait, and on
  `server_shutdown` after `reconnect_in_ms` plus jitter; then it joins again with `after` = its replay point;
- it follows the `sync` / `catch_up` rule of docs/protocol.md §7 (when the server sends `sync`).
Then, one after the other: SIGKILL of the process with more clients, SIGTERM of one, a Redis restart (away
5 s), PostgreSQL stopped 7 s, 10,000 fuzzed events from one client, a frozen client (SIGSTOP of a client
process). A killed or stopped process is replaced by a new one before the next fault.

Per fault it prints: messages sent (client ids first sent in the fault's window), acknowledged, lost (acked but,
after the clients settled, missing at a member of its meeting: all are connected then), lost without
catch_up (what the live path and joins alone delivered), duplicated (a client id acked with two server ids;
and ids delivered more than once, which clients drop), and seconds to recovery: from the fault (for the fuzzing
and the frozen client: from their end) until every
client is connected and joined and a new message from each meeting's expert reaches every member of it live.
For the frozen client: seconds until the server closed its descriptor. Writes bench/results/faults.json.

    .venv/bin/python -m bench.faults                  # every fault (~3 minutes)
    .venv/bin/python -m bench.faults --only redis,sigterm
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import socketio

from bench import harness as h
from tests.faults import PostgresProcess, RedisProcess, holds_socket, server_socket_inode

FAULTS = ("sigkill", "sigterm", "redis", "postgres", "fuzz", "frozen")
SEND_EVERY = 1.0  # seconds between one client's lines
CALL_TIMEOUT = 3.0
STEADY = 2.0  # seconds of chat before a fault
AFTER = 3.0  # seconds of chat after recovery
SETTLE = 6.0  # seconds with senders paused before counting (syncs every 2 s, retries)
RECOVERY_LIMIT = 60.0
FUZZ_EVENTS = 10_000
USER_AGENT = "supportgroup-bench/1"  # what the bench cookies' sessions were made for
EVENT_NAMES = [
    "join",
    "leave",
    "send",
    "whisper",
    "delete",
    "report",
    "raise_hand",
    "lower_hand",
    "catch_up",
    "typing",
    "connect",
    "disconnect",
    "connect_error",
    "disconnecting",
    "newListener",
    "ping",
    "pong",
    "message",
    "sync",
    "alive",
    "__proto__",
    "constructor",
    "",
    "x" * 300,
]


class Cluster:
    """The servers, their shared Redis and PostgreSQL, and the URLs clients may connect to."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.postgres = PostgresProcess(workdir / "pg")
        self.redis = RedisProcess(workdir / "redis.log")
        self.env = h.app_env(
            self.postgres.url,
            self.redis.url,
            h.new_secret_key(),
            "sgfaults",
            SOCKET_EVENT_RATE_LIMIT="1000 per 10 seconds",
        )
        h.flask(self.env, "db", "upgrade")
        out = workdir / "clients.json"
        h.bench_setup(self.env, out, groups=4, participants=44, calendar_groups=0)
        self.accounts = json.loads(out.read_text())
        self.servers: list[h.Server] = []
        self.lock = threading.Lock()
        self.started = 0
        for _ in range(2):
            self.add_server()

    def add_server(self) -> h.Server:
        self.started += 1
        server = h.Server("app", self.env, self.workdir / f"server{self.started}.log")
        with self.lock:
            self.servers.append(server)
        return server

    def remove(self, server: h.Server) -> None:
        with self.lock:
            self.servers.remove(server)

    def urls(self) -> list[str]:
        with self.lock:
            return [s.url for s in self.servers]

    def close(self) -> None:
        for server in list(self.servers):
            server.stop()
        self.redis.stop()
        self.postgres.destroy()


class Client:
    """One member, as chat.js behaves (module docstring). Records every id it receives and how."""

    def __init__(self, cluster: Cluster, account: dict, start_index: int) -> None:
        self.cluster, self.account = cluster, account
        self.name, self.meeting_id = account["user"], account["meeting_id"]
        self.is_expert = account["role"] == "moderator"
        self.received: dict[int, int] = {}  # id -> times received
        self.via_catch_up: set[int] = set()  # ids only catch_up brought
        self.covered = 0
        self.known_deleted = 0
        self.acked: dict[str, int] = {}  # client id -> server id
        self.first_sent: dict[str, float] = {}
        self.sending = threading.Event()
        self.sending.set()
        self.joined = False
        self.url: str | None = None
        self.in_flight = threading.Lock()  # a join or catch_up of the meeting
        self.lock = threading.Lock()
        self.stopped = False
        self.reconnect_at = 0.0
        self.number = 0
        self.sio = self._new_client()
        self.connect(preferred=start_index)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _new_client(self) -> socketio.Client:
        sio = socketio.Client(reconnection=False)
        sio.on("message", lambda data: self._got([data], live=True))
        sio.on("sync", self._sync)
        sio.on("server_shutdown", self._shutdown)
        sio.on("alive", lambda _data=None: {"ok": True})
        sio.on("disconnect", lambda *_reason: self._lost(sio))
        return sio

    def _lost(self, sio: socketio.Client) -> None:
        if sio is self.sio:  # not an old connection's late news
            self.joined = False

    # --- connection ------------------------------------------------------------------------------------

    def connect(self, preferred: int | None = None) -> bool:
        urls = self.cluster.urls()
        if not urls:
            return False
        if preferred is not None:
            order = urls[preferred % len(urls) :] + urls[: preferred % len(urls)]
        else:  # another process than the last one first
            order = sorted(urls, key=lambda u: u == self.url)
        for url in order:
            try:
                old, self.sio = self.sio, self._new_client()
                self.joined = False
                _discard(old)
                self.sio.connect(
                    url,
                    headers={"Cookie": self.account["cookie"], "User-Agent": USER_AGENT},
                    transports=["websocket"],
                    wait_timeout=5,
                )
                self.url = url
                return self.join()
            except Exception:
                continue
        return False

    def join(self) -> bool:
        with self.in_flight:
            ack = self.sio.call("join", {"meeting_id": self.meeting_id, "after": self.covered}, timeout=CALL_TIMEOUT)
            if not ack.get("ok"):
                return False
            self._got(ack.get("messages", []), live=True)
            self._advance(ack.get("messages", []), ack.get("last_id"))
            if "deleted" in ack:
                self.known_deleted = ack["deleted"]
            self.joined = True
            return True

    def _shutdown(self, data) -> None:
        delay = int(data.get("reconnect_in_ms", 1000)) / 1000 + random.uniform(0, 1.0)
        self.reconnect_at = time.monotonic() + delay
        self.joined = False

    # --- gap detection (docs/protocol.md §7) ------------------------------------------------------------

    def _advance(self, messages: list, last_id: int | None) -> None:
        replay_limit = 1000
        if last_id is None:  # a server without gap detection: what was received is the best guess
            self.covered = max([self.covered, *(m["id"] for m in messages)])
        elif len(messages) < replay_limit:
            self.covered = max(self.covered, last_id)
        else:
            self.covered = messages[-1]["id"]

    def _sync(self, data) -> None:
        if data.get("meeting_id") != self.meeting_id or not self.joined:
            return
        if data["last_id"] > self.covered or data["deleted"] != self.known_deleted:
            threading.Thread(target=self._catch_up, daemon=True).start()

    def _catch_up(self) -> None:
        if not self.in_flight.acquire(blocking=False):
            return
        try:
            ack = self.sio.call(
                "catch_up", {"meeting_id": self.meeting_id, "after": self.covered}, timeout=CALL_TIMEOUT
            )
            if ack.get("ok"):
                self._got(ack["messages"], live=False)
                self.known_deleted = len(ack.get("deleted_ids", []))
                self._advance(ack["messages"], ack["last_id"])
        except Exception:
            pass
        finally:
            self.in_flight.release()

    def _got(self, messages: list, live: bool) -> None:
        with self.lock:
            for message in messages:
                if message.get("meeting_id", self.meeting_id) != self.meeting_id or "id" not in message:
                    continue
                seen = self.received.get(message["id"], 0)
                self.received[message["id"]] = seen + 1
                if not live and not seen:
                    self.via_catch_up.add(message["id"])
                elif live:
                    self.via_catch_up.discard(message["id"])

    # --- the loop: keep connected, send ------------------------------------------------------------------

    def _run(self) -> None:
        pending: str | None = None
        while not self.stopped:
            if not (self.sio.connected and self.joined):
                if time.monotonic() < self.reconnect_at:
                    time.sleep(0.05)
                    continue
                if not self.connect():
                    time.sleep(random.uniform(0.3, 0.8))
                continue
            if not self.sending.is_set() and pending is None:
                time.sleep(0.05)
                continue
            if pending is None:
                self.number += 1
                pending = f"{self.name}-{self.number:06d}"
                self.first_sent[pending] = time.monotonic()
            if self.send(pending) is not None:
                pending = None
                time.sleep(SEND_EVERY * random.uniform(0.8, 1.2))
            else:
                time.sleep(0.2)

    def send(self, client_id: str, text: str | None = None) -> int | None:
        try:
            ack = self.sio.call(
                "send",
                {"meeting_id": self.meeting_id, "client_id": client_id, "text": text or f"line {client_id}"},
                timeout=CALL_TIMEOUT,
            )
        except Exception:
            return None
        if not ack.get("ok"):
            return None
        with self.lock:
            earlier = self.acked.get(client_id)
            if earlier is not None and earlier != ack["id"]:
                self.acked[client_id + "#dup"] = ack["id"]  # stored twice: counted as duplicated
            self.acked[client_id] = ack["id"]
        return ack["id"]

    def ready(self) -> bool:
        return self.sio.connected and self.joined

    def stop(self) -> None:
        self.stopped = True
        _discard(self.sio)


def _discard(sio: socketio.Client) -> None:
    """Disconnect, and close the WebSocket's socket: websocket-client keeps it open after the server closed."""
    try:
        sio.disconnect()
    except Exception:
        pass
    ws = getattr(sio.eio, "ws", None)
    if ws is not None:
        try:
            ws.shutdown()
        except Exception:
            pass


# --- faults ------------------------------------------------------------------------------------------------


def busiest(cluster: Cluster, clients: list[Client]) -> h.Server:
    counts = {s.url: sum(1 for c in clients if c.url == s.url) for s in cluster.servers}
    return max(cluster.servers, key=lambda s: counts[s.url])


def fault_sigkill(cluster, clients, extra) -> dict:
    victim = busiest(cluster, clients)
    held = sum(1 for c in clients if c.url == victim.url)
    cluster.remove(victim)
    victim.process.kill()
    victim.process.wait()
    victim.stop()
    cluster.add_server()
    return {"killed_clients": held}


def fault_sigterm(cluster, clients, extra) -> dict:
    victim = busiest(cluster, clients)
    held = sum(1 for c in clients if c.url == victim.url)
    cluster.remove(victim)
    started = time.monotonic()
    victim.process.terminate()
    victim.process.wait(timeout=30)
    exited = time.monotonic() - started
    victim.stop()
    drained = [
        line.split("drain: ", 1)[1]
        for line in victim.log_path.read_text(errors="replace").splitlines()
        if "drain: " in line
    ]
    cluster.add_server()
    return {"exit_seconds": round(exited, 2), "drained_clients": held, "drain_log": drained}


def fault_redis(cluster, clients, extra) -> dict:
    cluster.redis.kill()
    time.sleep(5.0)
    cluster.redis.start()
    return {"outage_seconds": 5.0}


def fault_postgres(cluster, clients, extra) -> dict:
    cluster.postgres.stop()
    time.sleep(7.0)
    cluster.postgres.start()
    return {"outage_seconds": 7.0}


def _fuzz_value(depth: int = 0):
    kind = random.randrange(9 if depth < 2 else 6)
    if kind == 0:
        return random.choice([0, -1, 1, 2**31, 2**63, 10**30, 1.5, float("nan") if False else 3.25])
    if kind == 1:
        return "".join(random.choice(string.printable + "\u202e\x00\ud7ff\ufffe") for _ in range(random.randrange(40)))
    if kind == 2:
        return random.choice([None, True, False, ""])
    if kind == 3:
        return "x" * random.choice([0, 64, 2001, 70000])
    if kind == 4:
        return random.randrange(1, 50)
    if kind == 5:
        return "a" * random.randrange(1, 9) + "-12345678"
    if kind == 6:
        return [_fuzz_value(depth + 1) for _ in range(random.randrange(4))]
    keys = ["meeting_id", "client_id", "text", "after", "id", "to", "reason", random.choice(string.ascii_letters)]
    return {random.choice(keys): _fuzz_value(depth + 1) for _ in range(random.randrange(5))}


def fault_fuzz(cluster, clients, extra) -> dict:
    """10,000 events with random names and payloads from one logged-in participant (not one of the 44)."""
    account = extra[0]
    url = cluster.urls()[0]
    answered = threading.Semaphore(0)
    counts = {"sent": 0, "answered": 0, "codes": {}, "reconnects": 0}

    def on_ack(*args):
        counts["answered"] += 1
        if args and isinstance(args[0], dict) and not args[0].get("ok", True):
            code = args[0].get("error", {}).get("code", "?")
            counts["codes"][code] = counts["codes"].get(code, 0) + 1
        answered.release()

    sio = None
    started = time.monotonic()
    for number in range(FUZZ_EVENTS):
        if sio is None or not sio.connected:
            if sio is not None:
                counts["reconnects"] += 1
                _discard(sio)
            sio = socketio.Client(reconnection=False)
            sio.connect(
                url,
                headers={"Cookie": account["cookie"], "User-Agent": USER_AGENT},
                transports=["websocket"],
                wait_timeout=5,
            )
        name = (
            random.choice(EVENT_NAMES)
            if random.random() < 0.7
            else "".join(random.choice(string.ascii_letters + "_-:/") for _ in range(random.randrange(1, 20)))
        )
        args = [_fuzz_value() for _ in range(random.choice([0, 1, 1, 1, 2]))]
        try:
            sio.emit(name, tuple(args) if len(args) != 1 else args[0], callback=on_ack)
            counts["sent"] += 1
        except Exception:
            continue
        if number % 50 == 49:  # about 50 unanswered at a time; a quarter second at most for a batch's answers
            deadline = time.monotonic() + 0.25
            for _ in range(50):
                if not answered.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    break
    time.sleep(1.0)
    _discard(sio)
    alive = all(s.process.poll() is None for s in cluster.servers)
    return {
        "_recovery_from": time.monotonic(),
        "fuzz_sent": counts["sent"],
        "fuzz_answered": counts["answered"],
        "fuzz_reconnects": counts["reconnects"],
        "fuzz_seconds": round(time.monotonic() - started, 1),
        "servers_alive": alive,
        "fuzz_codes": dict(sorted(counts["codes"].items(), key=lambda kv: -kv[1])[:8]),
    }


FROZEN_CLIENT = r"""
import sys, time, socketio
url, cookie, meeting_id, agent = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sio = socketio.Client(reconnection=False)
sio.connect(url, headers={"Cookie": cookie, "User-Agent": agent}, transports=["websocket"])
ack = sio.call("join", {"meeting_id": meeting_id}, timeout=10)
print(sio.eio.ws.sock.getsockname()[1] if ack.get("ok") else "refused", flush=True)
time.sleep(3600)
"""


def fault_frozen(cluster, clients, extra) -> dict:
    """A member's device freezes (SIGSTOP of its client process, its kernel still ACKs): how long until the
    server closes its connection, while the meeting's chat goes on."""
    account = extra[1]
    server = cluster.servers[0]
    process = subprocess.Popen(
        [sys.executable, "-c", FROZEN_CLIENT, server.url, account["cookie"], str(account["meeting_id"]), USER_AGENT],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = process.stdout.readline().strip()
        if not port.isdigit():
            return {"frozen": f"could not join: {port}"}
        inode = server_socket_inode(server.port, int(port))
        process.send_signal(signal.SIGSTOP)
        frozen_at = time.monotonic()
        while time.monotonic() - frozen_at < 90 and holds_socket(server.pid, inode):
            time.sleep(0.25)
        held = time.monotonic() - frozen_at
        closed = not holds_socket(server.pid, inode)
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait()
    return {"_recovery_from": time.monotonic(), "frozen_socket_closed_after": round(held, 1) if closed else None}


# --- measuring ------------------------------------------------------------------------------------------------


def recovered_after(clients: list[Client], since: float) -> float | None:
    """Seconds from `since` until every client is joined and a probe from each meeting's expert reaches every
    member of that meeting live (polled every 0.25 s, at most RECOVERY_LIMIT)."""
    experts = [c for c in clients if c.is_expert]
    probe = 0
    while time.monotonic() - since < RECOVERY_LIMIT:
        if all(c.ready() for c in clients):
            probe += 1
            ids = {e.meeting_id: e.send(f"probe-{e.name}-{int(since)}-{probe:04d}") for e in experts}
            if all(ids.values()):
                deadline = time.monotonic() + 1.0
                while time.monotonic() < deadline:
                    if all(
                        ids[c.meeting_id] in c.received and ids[c.meeting_id] not in c.via_catch_up for c in clients
                    ):
                        return time.monotonic() - since
                    time.sleep(0.02)
        time.sleep(0.25)
    return None


def count(clients: list[Client], window_start: float, window_end: float) -> dict:
    by_meeting: dict[int, list[Client]] = {}
    for c in clients:
        by_meeting.setdefault(c.meeting_id, []).append(c)
    sent = acked = lost = lost_without = dup_stored = 0
    for c in clients:
        with c.lock:
            window = [cid for cid, t in c.first_sent.items() if window_start <= t < window_end]
            sent += len(window)
            dup_stored += sum(
                1
                for cid in c.acked
                if cid.endswith("#dup") and window_start <= c.first_sent.get(cid[:-4], 0) < window_end
            )
            for cid in window:
                server_id = c.acked.get(cid)
                if server_id is None:
                    continue
                acked += 1
                members = [m for m in by_meeting[c.meeting_id] if m.ready()]
                if any(server_id not in m.received for m in members):
                    lost += 1
                if any(server_id not in m.received or server_id in m.via_catch_up for m in members):
                    lost_without += 1
    return {"sent": sent, "acked": acked, "lost": lost, "lost_without_catch_up": lost_without, "dup_stored": dup_stored}


def run_fault(name: str, cluster: Cluster, clients: list[Client], extra: list[dict]) -> dict:
    for c in clients:
        c.sending.set()
    time.sleep(STEADY)
    dup_before = sum(sum(n - 1 for n in c.received.values()) for c in clients)
    window_start = time.monotonic()
    details = globals()[f"fault_{name}"](cluster, clients, extra)
    since = details.pop("_recovery_from", window_start)  # fuzz and frozen: from the fault's end
    recovery = recovered_after(clients, since)
    time.sleep(AFTER)
    window_end = time.monotonic()
    for c in clients:
        c.sending.clear()
    time.sleep(SETTLE)
    figures = count(clients, window_start, window_end)
    figures["dup_deliveries"] = sum(sum(n - 1 for n in c.received.values()) for c in clients) - dup_before
    figures["recovery_seconds"] = round(recovery, 2) if recovery is not None else None
    figures["not_ready"] = sum(1 for c in clients if not c.ready())
    figures.update(details)
    return figures


def print_table(results: dict[str, dict]) -> None:
    columns = ["sent", "acked", "lost", "lost_without_catch_up", "dup_stored", "dup_deliveries", "recovery_seconds"]
    heads = ["fault", "sent", "acked", "lost", "lost w/o catch_up", "dup stored", "dup deliveries", "recovery s"]
    rows = [[name, *(str(r.get(col)) for col in columns)] for name, r in results.items()]
    widths = [max(len(x) for x in column) for column in zip(heads, *rows, strict=False)]
    print("  ".join(head.ljust(w) for head, w in zip(heads, widths, strict=False)))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)))
    for name, r in results.items():
        notes = {k: v for k, v in r.items() if k not in columns}
        print(f"  {name}: {notes}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(FAULTS), help=f"comma-separated, of: {', '.join(FAULTS)}")
    parser.add_argument("--out", default=str(h.BENCH / "results" / "faults.json"))
    args = parser.parse_args(argv)
    chosen = [f.strip() for f in args.only.split(",") if f.strip()]
    unknown = set(chosen) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="sg-faults-") as tmp:
        cluster = Cluster(Path(tmp))
        clients: list[Client] = []
        try:
            members = [a for a in cluster.accounts if a["role"] in ("moderator", "participant")]
            per_meeting: dict[int, list[dict]] = {}
            for account in members:
                per_meeting.setdefault(account["meeting_id"], []).append(account)
            chosen_accounts, extra = [], []
            for accounts in per_meeting.values():  # an expert and 10 participants per meeting; the rest spare
                chosen_accounts += accounts[:11]
                extra += accounts[11:]
            for index, account in enumerate(chosen_accounts):
                clients.append(Client(cluster, account, index))
            print(
                f"{len(clients)} clients in {len(per_meeting)} meetings on 2 processes; faults: {', '.join(chosen)}",
                flush=True,
            )
            results = {}
            for name in chosen:
                results[name] = run_fault(name, cluster, clients, extra)
                print(f"{name}: {results[name]}", flush=True)
        finally:
            for c in clients:
                c.stop()
            logs = {s.log_path.name: s.log_problems() for s in cluster.servers}
            cluster.close()
    print()
    print_table(results)
    Path(args.out).write_text(json.dumps({"results": results, "server_logs": logs}, indent=2) + "\n")
    return results


if __name__ == "__main__":
    main()
