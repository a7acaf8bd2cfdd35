"""Pieces of the benchmark harness: the database and Redis, the servers, the Node generator, /proc figures.

`bench/run.py` strings them into `make bench`; `tests/test_bench.py` runs the same path at a tiny size.
"""

from __future__ import annotations

import json
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/sg_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/14"
REDIS_PREFIX = "sgbench"
USER_AGENT = "supportgroup-bench/1"  # the same as bench.sessions.USER_AGENT


class BenchError(RuntimeError):
    pass


# --- where things run ---------------------------------------------------------------------------------


def cores() -> tuple[int | None, int | None, str]:
    """(server core, generator core, description): different cores when this process may use two."""
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) >= 2:
        return allowed[0], allowed[1], f"server on CPU {allowed[0]}, generator on CPU {allowed[1]}"
    return None, None, f"not pinned (only CPU {allowed} available)"


def _pin(core: int | None):
    if core is None:
        return None
    return lambda: os.sched_setaffinity(0, {core})


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- /proc ------------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for {pid}")


def system_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, from /proc/stat."""
    with open("/proc/stat") as handle:
        values = [int(v) for v in handle.readline().split()[1:]]
    idle = values[3] + values[4]
    total = sum(values[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def _processes_named(name: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as handle:
                    if handle.read().strip() == name:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


class ServiceWatch:
    """CPU of the PostgreSQL backends serving one database (from pg_stat_activity) and of redis-server.

    Redis is shared with whatever else runs on the machine; during a bench run it serves mostly the bench."""

    def __init__(self, database_url: str | None) -> None:
        self.database_url = database_url
        self.redis_pids = _processes_named("redis-server")

    def _pg_pids(self) -> list[int]:
        if not self.database_url:
            return []
        try:
            import psycopg

            parts = urlsplit(self.database_url)
            name = parts.path.lstrip("/")
            with psycopg.connect(urlunsplit(parts._replace(scheme="postgresql")), autocommit=True) as conn:
                return [
                    row[0]
                    for row in conn.execute(
                        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (name,)
                    )
                ]
        except Exception:  # noqa: BLE001 - figures only
            return []

    def snapshot(self) -> dict[str, dict[int, float]]:
        def cpu(pids):
            out = {}
            for pid in pids:
                try:
                    out[pid] = cpu_seconds(pid)
                except OSError:
                    pass
            return out

        return {"postgres": cpu(self._pg_pids()), "redis": cpu(self.redis_pids)}


@dataclass
class Sample:
    wall: float
    server: float
    generator: float
    system_busy: float
    system_total: float
    server_rss_kb: int
    services: dict = field(default_factory=dict)


def take_sample(server_pid: int, generator_pid: int, services: ServiceWatch | None = None) -> Sample:
    busy, total = system_cpu()
    return Sample(
        time.monotonic(),
        cpu_seconds(server_pid),
        cpu_seconds(generator_pid),
        busy,
        total,
        rss_kb(server_pid),
        services.snapshot() if services else {},
    )


def cpu_between(a: Sample, b: Sample) -> dict:
    """CPU use between two samples, in cores (1.0 = one core busy all the time)."""
    wall = max(b.wall - a.wall, 1e-9)
    total = max(b.system_total - a.system_total, 1e-9)
    out = {
        "seconds": round(wall, 2),
        "server_cores": round((b.server - a.server) / wall, 3),
        "generator_cores": round((b.generator - a.generator) / wall, 3),
        "machine_busy_cores": round((b.system_busy - a.system_busy) / total * os.cpu_count(), 3),
    }
    known = out["server_cores"] + out["generator_cores"]
    for name in ("postgres", "redis"):
        after, before = b.services.get(name), a.services.get(name, {})
        if after is not None:
            used = sum(max(seconds - before.get(pid, 0.0), 0.0) for pid, seconds in after.items())
            out[f"{name}_cores"] = round(used / wall, 3)
            known += out[f"{name}_cores"]
    # Everything else the machine did meanwhile: other people's work, the kernel, other databases.
    out["other_cores"] = round(max(out["machine_busy_cores"] - known, 0.0), 3)
    return out


# --- database and Redis ---------------------------------------------------------------------------------


def sibling_database(url: str, suffix: str) -> str:
    """The same server, a database named with a suffix (sg_bench -> sg_bench_calendar)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path + suffix))


def recreate_database(url: str) -> None:
    """Drop and create the PostgreSQL database named in `url` (it must be called sg_bench...)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"sg_bench\w*", name):
        raise BenchError(f"refusing to drop database {name!r}: bench databases are named sg_bench*")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        busy = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()[0]
        if busy:
            raise BenchError(
                f"database {name} has {busy} open connections: another bench run (or a server) is "
                "using it. Give this run another one: BENCH_DATABASE_URL=...sg_bench_<something>"
            )
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def flush_redis(url: str, prefix: str | None = None) -> None:
    """Delete the keys under `prefix` (everything the app writes starts with its REDIS_PREFIX), or empty
    the whole Redis database when no prefix is given."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        if prefix is None:
            client.flushdb()
        else:
            keys = list(client.scan_iter(f"{prefix}*"))
            if keys:
                client.delete(*keys)
    finally:
        client.close()


def app_env(
    database_url: str, redis_url: str, secret_key: str, redis_prefix: str = REDIS_PREFIX, **extra: str
) -> dict[str, str]:
    """The environment of the app as deployed: production config, PostgreSQL, Redis."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SUPPORTGROUP_", "SOCKET", "FLASK_"))
        and key not in ("DATABASE_URL", "REDIS_URL", "REDIS_PREFIX", "SECRET_KEY", "HOST", "PORT")
    }
    env.update(
        {
            "SUPPORTGROUP_ENV": "production",
            "SECRET_KEY": secret_key,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": redis_prefix,
            "FLASK_APP": "wsgi.py",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def new_secret_key() -> str:
    return secrets.token_urlsafe(48)


def flask(env: dict, *args: str, timeout: float = 900) -> str:
    result = subprocess.run(
        [PYTHON, "-m", "flask", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise BenchError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


def bench_setup(env: dict, out: Path, groups: int, participants: int, calendar_groups: int) -> str:
    """The data set and the accounts' session cookies (bench/setup.py), in the app's environment."""
    args = [
        "--groups",
        str(groups),
        "--participants",
        str(participants),
        "--calendar-groups",
        str(calendar_groups),
        "--out",
        str(out),
    ]
    result = subprocess.run(
        [PYTHON, "-m", "bench.setup", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        raise BenchError(f"bench.setup {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip()


# --- servers ------------------------------------------------------------------------------------------


class Server:
    """The app (`serve.py`) or the baseline (`bench/baseline_server.py`) on a free port, pinned to a core."""

    def __init__(self, kind: str, env: dict, log_path: Path, core: int | None = None) -> None:
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        script = ROOT / "serve.py" if kind == "app" else BENCH / "baseline_server.py"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [PYTHON, str(script)],
            cwd=ROOT,
            env={**env, "HOST": "127.0.0.1", "PORT": str(self.port)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
            preexec_fn=_pin(core),
        )
        self.pid = self.process.pid
        self._wait_until_up()

    def _wait_until_up(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        request = (
            f"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.kind} server exited early:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
                    sock.sendall(request)
                    if sock.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise BenchError(f"{self.kind} server did not start within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def log_problems(self) -> dict:
        """Tracebacks and error lines in the server's output (the first few, shortened)."""
        text = self.log()
        lines = [
            line for line in text.splitlines() if re.search(r"Traceback|Error|ERROR|Exception|failed|WARNING", line)
        ]
        return {"tracebacks": text.count("Traceback"), "lines": len(lines), "first": [line[:240] for line in lines[:8]]}

    def stop(self) -> None:
        # SIGTERM: the server ends at once (SIGINT would raise KeyboardInterrupt in whichever greenlet runs
        # and print its traceback, noise in the log that `log_problems` reads).
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._log.closed:
            self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# --- the generator --------------------------------------------------------------------------------------


def node_binary() -> str | None:
    return shutil.which("node")


def node_modules_ready() -> bool:
    return (ROOT / "node_modules" / "socket.io-client" / "package.json").exists()


def ensure_node_modules() -> None:
    """`npm ci` at the repository root when socket.io-client is not installed (node_modules is not committed)."""
    if node_modules_ready():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BenchError("npm is needed to install socket.io-client (npm ci)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)


@dataclass
class GeneratorRun:
    result: dict
    marks: list[dict] = field(default_factory=list)  # each mark with the CPU/RSS sample taken at it
    stderr: str = ""


def run_generator(
    server: Server,
    clients: list[dict],
    phases: list[dict],
    core: int | None = None,
    *,
    connect_concurrency: int = 50,
    settle_s: float = 2,
    timeout: float = 900,
    on_mark=None,
    echo: bool = True,
    database_url: str | None = None,
    per_message_deflate: bool = True,
) -> GeneratorRun:
    """Run bench/loadgen.js against `server`. At every mark, sample CPU and memory (and call `on_mark`)."""
    node = node_binary()
    if node is None:
        raise BenchError("node is not installed: the load generator needs Node.js (20 or newer)")
    ensure_node_modules()
    with tempfile.TemporaryDirectory(prefix="sgbench-") as tmp:
        config_path, result_path = Path(tmp) / "config.json", Path(tmp) / "result.json"
        config = {
            "url": server.url,
            "kind": server.kind,
            "user_agent": USER_AGENT,
            "interactive": True,
            "clients": [c for c in clients if c["role"] in ("participant", "moderator")],
            "phases": phases,
            "connect_concurrency": connect_concurrency,
            "settle_s": settle_s,
            "result_path": str(result_path),
            "per_message_deflate": per_message_deflate,
        }
        config_path.write_text(json.dumps(config))
        process = subprocess.Popen(
            [node, str(BENCH / "loadgen.js"), str(config_path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_pin(core),
        )
        stderr_lines: list[str] = []

        def pump() -> None:
            for line in process.stderr:
                stderr_lines.append(line)
                if echo:
                    sys.stderr.write(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        killer = threading.Timer(timeout, process.kill)
        killer.start()
        marks = []
        services = ServiceWatch(database_url if server.kind == "app" else None)
        try:
            for line in process.stdout:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if "mark" not in event:
                    continue
                if event["mark"] == "idle_after":
                    time.sleep(2)  # let the server's memory settle after the last joins
                alive = process.poll() is None
                event["sample"] = take_sample(server.pid, process.pid, services) if alive else None
                reply = {}
                if on_mark is not None:
                    # May wait (for a quiet machine) before a phase starts, and may answer the generator.
                    waited, reply = on_mark(event, marks) or (False, {})
                    if waited and alive:
                        event["sample"] = take_sample(server.pid, process.pid, services)
                marks.append(event)
                if event.get("wait"):
                    process.stdin.write(json.dumps(reply or {"go": True}) + "\n")
                    process.stdin.flush()
            process.wait()
        finally:
            killer.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
            reader.join(timeout=5)
            for pipe in (process.stdin, process.stdout, process.stderr):
                try:
                    pipe.close()
                except (OSError, ValueError):  # stdin may be broken if the generator died
                    pass
        if process.returncode != 0 or not result_path.exists():
            raise BenchError(f"load generator failed (exit {process.returncode}):\n{''.join(stderr_lines[-40:])}")
        result = json.loads(result_path.read_text())
    return GeneratorRun(result, marks, "".join(stderr_lines))


def window(marks: list[dict], start: str, end: str, **match) -> dict | None:
    """CPU between the first mark `start` and the next mark `end` (with equal `match` fields)."""
    first = next((m for m in marks if m["mark"] == start and all(m.get(k) == v for k, v in match.items())), None)
    if first is None:
        return None
    after = marks[marks.index(first) + 1 :]
    last = next((m for m in after if m["mark"] == end and all(m.get(k) == v for k, v in match.items())), None)
    if last is None or first["sample"] is None or last["sample"] is None:
        return None
    return cpu_between(first["sample"], last["sample"])


# --- machine ----------------------------------------------------------------------------------------------


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "?"


def machine_info(database_url: str, redis_url: str, pinning: str) -> dict:
    model = "?"
    try:
        with open("/proc/cpuinfo") as handle:
            model = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "?")
    except OSError:
        pass
    node = node_binary()
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else None
    client_version = None
    if node_modules_ready():
        client_version = json.loads((ROOT / "node_modules/socket.io-client/package.json").read_text())["version"]
    info = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu_model": model,
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "pinning": pinning,
        "python": platform.python_version(),
        "gevent": _version("gevent"),
        "flask": _version("flask"),
        "flask_socketio": _version("flask-socketio"),
        "python_socketio": _version("python-socketio"),
        "python_engineio": _version("python-engineio"),
        "sqlalchemy": _version("sqlalchemy"),
        "psycopg": _version("psycopg"),
        "node": node_version,
        "socket_io_client": client_version,
    }
    try:
        import psycopg

        parts = urlsplit(database_url)
        with psycopg.connect(urlunsplit(parts._replace(scheme="postgresql"))) as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as error:  # noqa: BLE001 - information only
        info["postgresql"] = f"? ({error.__class__.__name__})"
    try:
        import redis

        client = redis.Redis.from_url(redis_url)
        info["redis"] = client.info("server")["redis_version"]
        client.close()
    except Exception as error:  # noqa: BLE001
        info["redis"] = f"? ({error.__class__.__name__})"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        )
        info["git"] = commit.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else "")
    except OSError:
        info["git"] = None
    return info


def write_result(result: dict, out: str | None) -> None:
    """An in-process measurement's result: as JSON to `out` (for bench/run.py), else to standard output."""
    text = json.dumps(result, indent=1)
    if out:
        Path(out).write_text(text)
    else:
        print(text)


# --- profiles (optional: py-spy) ---------------------------------------------------------------------------


def pyspy_binary() -> str | None:
    """py-spy from BENCH_PYSPY, else the one requirements-dev.txt installs beside this Python, else from the
    PATH; None when there is none (profiling is optional)."""
    beside = Path(sys.executable).parent / "py-spy"
    return os.environ.get("BENCH_PYSPY") or (str(beside) if beside.exists() else None) or shutil.which("py-spy")


class Profiler:
    """`py-spy record` of one process for a while, in py-spy's raw (collapsed stack) format."""

    def __init__(self, pid: int, seconds: float, out: Path, rate: int = 100) -> None:
        self.out = out
        self.process = subprocess.Popen(
            [
                pyspy_binary(),
                "record",
                "-p",
                str(pid),
                "-d",
                str(int(seconds)),
                "-r",
                str(rate),
                "-f",
                "raw",
                "-o",
                str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def wait(self, timeout: float = 60) -> Path | None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return self.out if self.out.exists() else None


def summarise_profile(path: Path, top: int = 400) -> dict:
    """Share of samples per function: inclusive (the function or anything it called) and self."""
    from collections import Counter

    total = 0
    inclusive: Counter = Counter()
    own: Counter = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = []
        for frame in stack.split(";"):
            name, _, where = frame.partition(" (")
            module = where.split(":")[0]
            site = "site-packages/"
            module = module.split(site)[-1] if site in module else module.split("/work/main/")[-1]
            frames.append(f"{name} ({module.split('/python3.11/')[-1]})")
        if not frames:
            continue
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    share = lambda c: round(100 * c / total, 1) if total else 0.0  # noqa: E731
    return {
        "samples": total,
        "inclusive_percent": [[name, share(c)] for name, c in inclusive.most_common(top)],
        "self_percent": [[name, share(c)] for name, c in own.most_common(15)],
    }
