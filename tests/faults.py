"""Faults for tests and benchmarks: a private Redis server that can be killed and started again.

Never the machine's shared Redis: `RedisProcess` runs its own `redis-server` on a free loopback port,
keeping nothing on disk (`--save "" --appendonly no`), so a restart loses every key, as a real one
without persistence does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.live import free_port, wait_until


class RedisProcess:
    """`redis-server` on a loopback port: `kill()` it (SIGKILL), `start()` it again on the same port."""

    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self, timeout: float = 5.0) -> float:
        """Start the server and wait until it answers PING; returns `time.monotonic()` of the first PONG."""
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed"
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)

        def answers() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited:\n{self.log_path.read_text(errors='replace')}")
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        try:
            return wait_until(answers, timeout, what="redis-server's answer to PING")
        finally:
            client.close()

    def kill(self) -> float:
        """SIGKILL, as a crash or an OOM kill; returns `time.monotonic()` once the process is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        return time.monotonic()

    def client(self, **options) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, **options)

    def stop(self) -> None:
        self.kill()


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresProcess:
    """A throw-away PostgreSQL cluster (initdb) in `directory` on a free loopback port: `stop()` it for an
    outage (fast shutdown: every connection is cut) and `start()` it again; `destroy()` at the end.

    Never the machine's shared server. Runs as the `postgres` user when started as root (initdb refuses root).
    Durability is off (fsync, full_page_writes): a test's data need not survive a power cut.
    """

    def __init__(self, directory: Path, port: int | None = None, database: str = "sg_faults") -> None:
        import os

        self.directory = directory
        self.data = directory / "data"
        self.port = port or free_port()
        self.as_root = os.geteuid() == 0
        directory.mkdir(parents=True, exist_ok=True)
        if self.as_root:  # the postgres user must reach its directory (a mkdtemp parent is 0700)
            directory.parent.chmod(directory.parent.stat().st_mode | 0o711)
            shutil.chown(directory, "postgres", "postgres")
        self._run(
            PG_BIN / "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale",
            "C",
        )
        self.start()
        self._run(PG_BIN / "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", database)
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(part) for part in command]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.directory)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        return done

    def start(self) -> float:
        """Start the cluster and wait until it accepts connections; returns `time.monotonic()` then."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=200"
        )
        self._run(
            PG_BIN / "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.directory / "postgres.log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )
        return time.monotonic()

    def stop(self) -> float:
        """Fast shutdown (connections cut, as a crash or a failover does to clients); returns the time after."""
        self._run(PG_BIN / "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        return time.monotonic()

    def destroy(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


def server_socket_inode(server_port: int, client_port: int) -> str:
    """The inode of the server's end of the loopback connection from `client_port` (/proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return fields[9]
    raise AssertionError("the server's end of the connection is not in /proc/net/tcp")


def holds_socket(pid: int, inode: str) -> bool:
    """Whether process `pid` still has a descriptor open on the socket `inode`."""
    target = f"socket:[{inode}]"
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) == target:
                return True
        except OSError:
            continue
    return False
