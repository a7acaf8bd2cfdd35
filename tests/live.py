"""The one harness for real processes in tests: start, wait until ready, read the log, stop.

`ServerProcess` runs a command on a free loopback port with its output in a log file; `LiveServer` is
`python serve.py` (gevent), `Gunicorn` is `gunicorn -c deploy/gunicorn.conf.py` as production runs it;
`app_env` is the environment of a supportgroup process. Other processes (nginx, a private Redis or
PostgreSQL) use `free_port`, `ServerProcess` or `wait_until`. Imports no pytest: bench/ may use it.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import requests
import socketio

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"
LIVE_SECRET_KEY = "live-test-secret-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    condition: Callable[[], object], timeout: float, interval: float = 0.005, what: str = "the condition"
) -> float:
    """Poll `condition` (another process's state, not a clock we could set); `time.monotonic()` once true."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what} not within {timeout}s"
        time.sleep(interval)
    return time.monotonic()


def app_env(
    database_url: str, redis_url: str | None, redis_prefix: str, *, mode: str = "development", **extra: str
) -> dict[str, str]:
    """The environment of a supportgroup process: this one's, with the test's database and Redis, cheap password
    hashing, and no queue or bind address inherited; `extra` adds or overrides variables."""
    env = {
        **os.environ,
        "SUPPORTGROUP_ENV": mode,
        "SECRET_KEY": LIVE_SECRET_KEY,
        "DATABASE_URL": database_url,
        "REDIS_PREFIX": redis_prefix,
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_COST": "8192",
    }
    inherited = ("REDIS_URL", "SOCKETIO_MESSAGE_QUEUE", "FLASK_RUN_FROM_CLI", "BIND", "HOST", "PORT", "MIGRATE_AT_BOOT")
    for name in inherited:
        env.pop(name, None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


# The test that runs inside a rolled-back transaction now, if any (set by tests/conftest.py's `app` fixture).
rolled_back_test: str | None = None


class ServerProcess:
    """`command` with its output in `log_path`, on `self.port` (a free loopback port unless given).

    Starts at once and does not wait: `wait_until_up()` (an HTTP answer) or `wait_for_port()` (a TCP accept),
    so several processes may boot at the same moment. `stop()` sends `stop_signal`, then kills after
    `stop_timeout` seconds."""

    stop_signal = signal.SIGTERM
    stop_timeout: float = 5

    def __init__(
        self, command: Sequence[str], env: dict[str, str] | None, log_path: Path, port: int | None = None
    ) -> None:
        if rolled_back_test is not None:
            raise RuntimeError(
                f"{rolled_back_test} starts a server process but runs in a transaction that is rolled "
                "back, so the server would see none of its data: mark it `committed` (tests/conftest.py)"
            )
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.address = f"127.0.0.1:{self.port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(list(command), cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_until_up(
        self,
        path: str = "/login",
        timeout: float = 30.0,
        ready: Callable[[requests.Response], bool] = lambda response: True,
    ) -> None:
        """Until `GET path` gets an answer that is `ready`; fails with the log if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._alive_or_fail()
            try:
                if ready(requests.get(self.url + path, timeout=10)):  # the first request warms the app up
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start in {timeout}s:\n{self.log()}")

    def wait_for_port(self, port: int | None = None, timeout: float = 10.0) -> None:
        """Until a TCP connection to `port` (this process's own by default) is accepted."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port or self.port), timeout=1).close()
                return
            except OSError:
                self._alive_or_fail()
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"{self.name} did not listen in {timeout}s:\n{self.log()}") from None
                time.sleep(0.05)

    @property
    def name(self) -> str:
        return Path(str(self.process.args[0] if isinstance(self.process.args, list) else self.process.args)).name

    def _alive_or_fail(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited early:\n{self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def terminate(self) -> None:
        """Send `stop_signal` (SIGTERM: as `systemctl stop` does) without waiting."""
        if self.process.poll() is None:
            self.process.send_signal(self.stop_signal)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()

    # --- clients -------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> requests.Session:
        http = requests.Session()
        page = http.get(self.url + "/login", timeout=5).text
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        response = http.post(
            self.url + "/login",
            data={"csrf_token": token, "username": username, "password": password},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
        return http

    def socket(self, http: requests.Session | None = None, origin: str | None = None) -> LiveSocket:
        return LiveSocket(self.url, http, origin)


class LiveServer(ServerProcess):
    """`python serve.py` (gevent) on a free loopback port, started and up when constructed."""

    def __init__(
        self,
        database_url: str,
        redis_url: str | None,
        redis_prefix: str,
        log_path: Path,
        extra_env: dict[str, str] | None = None,
    ):
        """`extra_env` adds or overrides environment variables (e.g. `PRESENCE_TTL`)."""
        port = free_port()
        env = app_env(database_url, redis_url, redis_prefix, HOST="127.0.0.1", PORT=str(port), **(extra_env or {}))
        super().__init__([sys.executable, str(ROOT / "serve.py")], env, log_path, port)
        self.wait_until_up(timeout=20.0, ready=lambda response: response.status_code == 200)


class Gunicorn(ServerProcess):
    """`gunicorn -c deploy/gunicorn.conf.py` on a free port, as `supportgroup@PORT.service` runs it (`app`: another
    WSGI app, e.g. a probe). Starts without waiting, so several boot (and migrate) at the same moment."""

    stop_timeout = 12  # after SIGTERM: its GRACEFUL_TIMEOUT and some

    def __init__(self, env: dict[str, str], log_path: Path, app: str | None = None):
        port = free_port()
        super().__init__(
            [GUNICORN, "-c", str(GUNICORN_CONF), *([app] if app else [])], {**env, "PORT": str(port)}, log_path, port
        )


class LiveSocket:
    """A python-socketio client that records what it receives."""

    def __init__(self, url: str, http: requests.Session | None, origin: str | None):
        self.received: list[tuple[str, dict]] = []
        self.client = socketio.Client(reconnection=False, websocket_extra_options={"origin": origin} if origin else {})
        self.client.on("*", lambda event, data=None: self.received.append((event, data)))
        cookie = "; ".join(f"{k}={v}" for k, v in http.cookies.items()) if http else ""
        self.client.connect(url, headers={"Cookie": cookie} if cookie else {}, transports=["websocket"], wait_timeout=5)

    def call(self, event: str, data: dict, timeout: float = 5) -> dict:
        return self.client.call(event, data, timeout=timeout)

    def events(self, name: str, since: int = 0) -> list[dict]:
        return [data for event, data in self.received[since:] if event == name]

    def mark(self) -> int:
        """A position in what was received, for `wait_for(..., since=mark)`: only what came later."""
        return len(self.received)

    def wait_for(self, name: str, predicate=lambda data: True, timeout: float = 5, since: int = 0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for data in self.events(name, since):
                if predicate(data):
                    return data
            time.sleep(0.02)
        raise AssertionError(f"no {name!r} event matching within {timeout}s; got {self.received!r}")

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()
        # When the server process died, python-engineio ends the session but leaves its WebSocket open; when the
        # server closed it (a drain), websocket-client's close does nothing and shutdown releases the socket.
        if (ws := getattr(self.client.eio, "ws", None)) is not None:
            ws.close()
            ws.shutdown()
