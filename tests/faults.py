"""Faults for tests and benchmarks: a private Redis server that can be killed and started again.

Never the machine's shared Redis: `RedisProcess` runs its own `redis-server` on a free loopback port,
keeping nothing on disk (`--save "" --appendonly no`), so a restart loses every key, as a real one
without persistence does.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.live import free_port


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
                stdout=log, stderr=subprocess.STDOUT)
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2, socket_timeout=0.5)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"redis-server exited:\n{self.log_path.read_text(errors='replace')}")
                try:
                    client.ping()
                    return time.monotonic()
                except redis.ConnectionError:
                    time.sleep(0.005)
        finally:
            client.close()
        raise RuntimeError(f"redis-server did not answer within {timeout}s")

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
